"""The market's filters (认领大厅)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField
from wtforms.validators import Optional

from assist.enums import Colour, HardshipCategory
from assist.forms import EnumSelectField, YuanField


class MarketFilterForm(FlaskForm):
    class Meta:
        csrf = False

    area = SelectField(_l("Area"), validators=[Optional()])
    colour = EnumSelectField(_l("Colour"), enum=Colour, blank=_l("All colours"), validators=[Optional()])
    category = EnumSelectField(
        _l("Category"), enum=HardshipCategory, blank=_l("All categories"), validators=[Optional()]
    )
    max_amount = YuanField(_l("At most (yuan a month)"), max_yuan=100_000)
    within_budget = BooleanField(_l("Within my budget"))
    preferred_only = BooleanField(_l("My preferred areas only"))


class ConfirmForm(FlaskForm):
    """A bare form: its CSRF token is the point."""
