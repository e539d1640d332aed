"""Forms for virtual posts (虚拟岗位): terms, the list filters and the transitions that need a reason or a date."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from assist.enums import Colour, PostStatus
from assist.forms import EnumSelectField, YuanField, no_control_chars


class PostForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[DataRequired(), Length(max=100), no_control_chars],
        description=_l("e.g. community watch by phone, handicraft at home"),
    )
    duties = TextAreaField(_l("Duties"), validators=[Optional(), Length(max=2000)])
    hours_per_month = IntegerField(_l("Hours per month"), validators=[InputRequired(), NumberRange(1, 200)])
    monthly_amount_fen = YuanField(
        _l("Monthly stipend (yuan)"), validators=[InputRequired(message=_l("This field is required."))]
    )
    term_months = IntegerField(_l("Term (months)"), validators=[InputRequired(), NumberRange(1, 60)])


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=200), no_control_chars])


class SuspendForm(FlaskForm):
    start_on = DateField(_l("Suspended from"), validators=[DataRequired()])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=200), no_control_chars])


class ResumeForm(FlaskForm):
    resume_on = DateField(_l("Resumes on"), validators=[DataRequired()])


class ConfirmForm(FlaskForm):
    """A bare form: its CSRF token is the point."""


SORTS = {
    "newest": _l("Newest first"),
    "waiting": _l("Longest waiting"),
    "amount": _l("Amount, highest first"),
    "colour": _l("Colour, red first"),
}


class PostFilterForm(FlaskForm):
    class Meta:
        csrf = False

    status = EnumSelectField(_l("Status"), enum=PostStatus, blank=_l("All states"), validators=[Optional()])
    colour = EnumSelectField(_l("Colour"), enum=Colour, blank=_l("All colours"), validators=[Optional()])
    area = SelectField(_l("Area"), validators=[Optional()])
    sort = SelectField(_l("Sort by"), choices=list(SORTS.items()), validators=[Optional()])
