"""Forms of the stipend pages: payment confirmation (single and bulk), failure, adjustment, generation, bank CSV."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from assist.enums import StipendStatus
from assist.forms import EnumSelectField, YuanField, no_control_chars

MONTH = Regexp(r"^(19|20)[0-9]{2}-(0[1-9]|1[0-2])\Z", message=_l("Enter a month as YYYY-MM."))


class PaymentForm(FlaskForm):
    paid_on = DateField(_l("Paid on"), validators=[DataRequired(message=_l("Enter the date the transfer was made."))])
    reference = StringField(
        _l("Transfer reference"),
        validators=[DataRequired(message=_l("Enter the bank transfer's reference.")), Length(max=60), no_control_chars],
    )


class BulkPaymentForm(FlaskForm):
    """Several records paid on one date; each its own reference (ref-<id>) or the shared one with a suffix."""

    paid_on = DateField(_l("Paid on"), validators=[DataRequired(message=_l("Enter the date the transfer was made."))])
    reference = StringField(_l("Shared reference"), validators=[Optional(), Length(max=56), no_control_chars])


class FailForm(FlaskForm):
    reason = StringField(_l("Why the payment failed"), validators=[DataRequired(), Length(max=200), no_control_chars])


class AdjustmentForm(FlaskForm):
    amount_fen = YuanField(_l("Extra amount (yuan)"), validators=[DataRequired()], max_yuan=100_000)
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=200), no_control_chars])


class GenerateForm(FlaskForm):
    month = StringField(_l("Month"), validators=[DataRequired(), MONTH])


class BankForm(FlaskForm):
    file = FileField(_l("Bank statement (CSV)"), validators=[FileRequired(_l("Choose a CSV file."))])


class RecordFilter(FlaskForm):
    class Meta:
        csrf = False

    month = StringField(_l("Month"), validators=[Optional(), MONTH])
    status = EnumSelectField(_l("Status"), enum=StipendStatus, blank=_l("Any status"), validators=[Optional()])
    sponsor = SelectField(_l("Sponsor"), validators=[Optional()])
    area = SelectField(_l("Area"), validators=[Optional()])
    overdue = BooleanField(_l("Overdue only"))
