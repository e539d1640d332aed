from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from assist.enums import AssessmentKind
from assist.forms import EnumSelectField


class AssessmentForm(FlaskForm):
    kind = EnumSelectField(_l("Kind"), enum=AssessmentKind, default="on_demand")
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=500)])
