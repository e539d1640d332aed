from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from assist.enums import Role
from assist.forms import EnumSelectField, no_control_chars


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=60)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=256)])
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=256)])
    confirm = PasswordField(
        _l("Repeat the new password"), validators=[EqualTo("password", message=_l("The passwords differ."))]
    )


class EmailForm(FlaskForm):
    email = StringField(_l("E-mail for reminders"), validators=[Optional(), Length(max=120)])


class UserForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=60)])
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=60), no_control_chars])
    role = EnumSelectField(_l("Role"), enum=Role, validators=[DataRequired()])
    areas = SelectMultipleField(_l("Areas"), validators=[Optional()])
    password = PasswordField(_l("Password"), validators=[Optional(), Length(min=8, max=256)])
    active = BooleanField(_l("Active"), default=True)
