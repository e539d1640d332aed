"""Forms for sponsors (爱心单位): self-registration, the profile, the union's decisions and extra users."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from assist.forms import YuanField, no_control_chars


class SponsorFieldsMixin:
    name = StringField(_l("Company name"), validators=[DataRequired(), Length(max=100), no_control_chars])
    credit_code = StringField(
        _l("Unified social credit code"),
        validators=[DataRequired(), Length(max=30)],
        description=_l("18 characters, as on the business licence."),
    )
    contact_name = StringField(_l("Contact person"), validators=[DataRequired(), Length(max=40), no_control_chars])
    phone = StringField(_l("Phone"), validators=[DataRequired(), Length(max=20)])
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=120), no_control_chars])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200), no_control_chars])
    areas = SelectMultipleField(
        _l("Preferred areas"),
        validators=[Optional()],
        description=_l("Posts in these areas are shown to you first. Hold Ctrl (or Cmd) to choose several."),
    )
    pledge_posts = IntegerField(
        _l("Posts you pledge to carry"), validators=[InputRequired(), NumberRange(0, 1000)], default=1
    )
    pledge_budget_fen = YuanField(
        _l("Monthly budget (yuan)"), validators=[InputRequired(message=_l("This field is required."))]
    )


class RegisterForm(SponsorFieldsMixin, FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=60)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


class SponsorForm(SponsorFieldsMixin, FlaskForm):
    pass


class UserForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=60)])
    display_name = StringField(_l("Name"), validators=[Optional(), Length(max=60), no_control_chars])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=200), no_control_chars])


class ConfirmForm(FlaskForm):
    """A bare form: its CSRF token is the point."""


class SponsorFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=40)])
    status = SelectField(_l("Status"), validators=[Optional()])
