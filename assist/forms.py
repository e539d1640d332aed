"""Shared form pieces: money in yuan, months, enum selects, and putting operation errors beside fields."""

from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, SelectField, StringField
from wtforms.validators import ValidationError

from assist import checks
from assist.enums import choices
from assist.errors import DomainError


class YuanField(StringField):
    """An amount typed in yuan (up to two decimals), held as integer fen in ``data``."""

    def __init__(self, label=None, validators=None, max_yuan: int = 20_000_000, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.max_yuan = max_yuan

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if isinstance(self.data, int):
            return f"{self.data // 100}.{self.data % 100:02d}"
        return ""

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist or not valuelist[0].strip():
            return
        text = valuelist[0].strip().replace(",", "").replace("，", "")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError(_l("Enter an amount in yuan, like 1200 or 1200.50.")) from None
        if not value.is_finite() or value < 0 or value > self.max_yuan:
            raise ValueError(_l("Enter an amount from 0 to %(max)s yuan.", max=f"{self.max_yuan:,}"))
        if value != value.quantize(Decimal("0.01")):
            raise ValueError(_l("At most two decimals (fen)."))
        self.data = int(value * 100)


class EnumSelectField(SelectField):
    """A select of an enumeration's values with translated labels."""

    def __init__(self, label=None, validators=None, enum=None, blank: str | None = None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.enum = enum
        self.blank = blank

    def iter_choices(self):
        self.choices = ([("", str(self.blank))] if self.blank is not None else []) + choices(self.enum)
        return super().iter_choices()

    def pre_validate(self, form):
        self.choices = ([("", str(self.blank))] if self.blank is not None else []) + choices(self.enum)
        if not self.data and self.default is not None:
            self.data = self.default  # a select left out of the post keeps its default
        if self.blank is not None and not self.data:
            return
        super().pre_validate(form)


def no_control_chars(form, field: Field) -> None:
    """Text without control characters, nor invisible ones inside it (see assist.checks: the operations the form
    feeds strip them from the ends and refuse them inside; a form says so beside the field at once)."""
    if not isinstance(field.data, str):
        return
    if any(ord(c) < 32 and c not in "\r\n\t" for c in field.data):
        raise ValidationError(_l("Remove the control characters."))
    if problem := checks.invisible_error(checks.visible(field.data)):
        raise ValidationError(problem)


def apply_errors(form: FlaskForm, exc: DomainError, aliases: dict[str, str] | None = None) -> None:
    """Show an operation's field errors beside the matching form fields (others at the top of the form)."""
    aliases = aliases or {}
    for name, message in exc.fields.items():
        field = getattr(form, aliases.get(name, name), None)
        if isinstance(field, Field):
            field.errors = [*list(field.errors or []), message]
        else:
            form.form_errors.append(message)
    if not exc.fields:
        form.form_errors.append(exc.message)
