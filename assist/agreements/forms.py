"""Forms for three-party agreements (帮扶协议): drafting, signing with a scan, termination and paper agreements."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from assist.enums import AgreementStatus
from assist.forms import EnumSelectField, YuanField, no_control_chars


class TermsForm(FlaskForm):
    start_on = DateField(_l("Start date"), validators=[DataRequired()])
    end_on = DateField(
        _l("End date"), validators=[Optional()], description=_l("Left empty: the post's term from the start date.")
    )
    monthly_amount_fen = YuanField(
        _l("Monthly stipend (yuan)"), validators=[InputRequired(message=_l("This field is required."))]
    )
    hours_per_month = IntegerField(_l("Hours per month"), validators=[InputRequired(), NumberRange(1, 200)])
    duties = TextAreaField(_l("Duties"), validators=[Optional(), Length(max=2000)])


class SignForm(FlaskForm):
    signed_on = DateField(_l("Signed on"), validators=[DataRequired()])
    scan = FileField(_l("Scan of the signed agreement (optional)"), description=_l("PDF, JPEG or PNG, at most 10 MB."))


class TerminateForm(FlaskForm):
    end_date = DateField(_l("Last day"), validators=[DataRequired()])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=200), no_control_chars])


class PaperForm(TermsForm):
    sponsor_id = SelectField(_l("Sponsor (甲方)"), coerce=int, validators=[DataRequired()])
    signed_on = DateField(_l("Signed on"), validators=[DataRequired()])
    scan = FileField(_l("Scan of the signed agreement (optional)"), description=_l("PDF, JPEG or PNG, at most 10 MB."))


class ConfirmForm(FlaskForm):
    """A bare form: its CSRF token is the point."""


class AgreementFilterForm(FlaskForm):
    class Meta:
        csrf = False

    status = EnumSelectField(_l("Status"), enum=AgreementStatus, blank=_l("All states"), validators=[Optional()])
