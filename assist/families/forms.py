"""Forms for family files, members, incomes and consent."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from assist.enums import (
    ArchiveType,
    Colour,
    HardshipCategory,
    Health,
    Housing,
    IdentityStatus,
    Relation,
    Schooling,
    WorkAbility,
)
from assist.forms import EnumSelectField, YuanField, no_control_chars

ID_HELP = _l("18 characters; a final lower-case x is accepted.")


class FamilyFieldsMixin:
    area_id = SelectField(_l("Area"), coerce=int, validators=[DataRequired()])
    hardship_category = EnumSelectField(_l("Hardship category"), enum=HardshipCategory, validators=[DataRequired()])
    archive_type = EnumSelectField(_l("Archive type"), enum=ArchiveType, default="new")
    phone = StringField(
        _l("Phone"),
        validators=[
            Optional(),
            Length(max=20),
            Regexp(r"^[0-9+\-() ]{5,20}\Z", message=_l("Enter a phone number of digits (5–20 characters).")),
        ],
    )
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200), no_control_chars])
    employer = StringField(_l("Employer"), validators=[Optional(), Length(max=100), no_control_chars])
    employer_union = StringField(_l("Employer's union"), validators=[Optional(), Length(max=100), no_control_chars])
    identity_status = EnumSelectField(_l("Identity status"), enum=IdentityStatus, default="employed")
    accident_on = DateField(_l("Date of accident or disaster"), validators=[Optional()])
    accident_note = StringField(_l("What happened"), validators=[Optional(), Length(max=200), no_control_chars])
    single_parent = BooleanField(_l("Single-parent family"))
    debt_fen = YuanField(_l("Debt (yuan)"))
    housing = EnumSelectField(_l("Housing"), enum=Housing, default="adequate")
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])


class FamilyForm(FamilyFieldsMixin, FlaskForm):
    head_name = StringField(_l("Name of household head"), validators=[DataRequired(), Length(max=40), no_control_chars])
    head_id_number = StringField(_l("ID number"), validators=[DataRequired(), Length(max=18 + 4)], description=ID_HELP)
    head_health = EnumSelectField(_l("Health"), enum=Health, default="healthy")
    head_disability_grade = IntegerField(_l("Disability grade (1–4)"), validators=[Optional(), NumberRange(1, 4)])
    head_illness = StringField(_l("Illness"), validators=[Optional(), Length(max=100), no_control_chars])
    head_work_ability = EnumSelectField(_l("Work ability"), enum=WorkAbility, default="full")
    consent_on = DateField(_l("Consent given on"), validators=[Optional()])
    consent_scope = StringField(_l("Consent scope"), validators=[Optional(), Length(max=200), no_control_chars])


class FamilyEditForm(FamilyFieldsMixin, FlaskForm):
    pass


class MemberForm(FlaskForm):
    relation = EnumSelectField(_l("Relation"), enum=Relation, validators=[DataRequired()])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=40), no_control_chars])
    id_number = StringField(_l("ID number"), validators=[Optional(), Length(max=22)], description=ID_HELP)
    health = EnumSelectField(_l("Health"), enum=Health, default="healthy")
    disability_grade = IntegerField(_l("Disability grade (1–4)"), validators=[Optional(), NumberRange(1, 4)])
    illness = StringField(_l("Illness"), validators=[Optional(), Length(max=100), no_control_chars])
    work_ability = EnumSelectField(_l("Work ability"), enum=WorkAbility, default="full")
    schooling = EnumSelectField(_l("Schooling"), enum=Schooling, default="none")


class IncomeForm(FlaskForm):
    month = StringField(
        _l("Month (YYYY-MM)"),
        validators=[DataRequired(), Regexp(r"^[0-9]{4}-[0-9]{2}\Z", message=_l("Enter a month as YYYY-MM."))],
    )
    amount_fen = YuanField(
        _l("Household income (yuan)"), validators=[DataRequired(message=_l("This field is required."))]
    )
    medical_fen = YuanField(_l("Medical expenses (yuan)"))
    education_fen = YuanField(_l("Education expenses (yuan)"))


class ConsentForm(FlaskForm):
    consent_on = DateField(_l("Consent given on"), validators=[DataRequired()])
    consent_scope = StringField(_l("Consent scope"), validators=[DataRequired(), Length(max=200), no_control_chars])


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=200), no_control_chars])


class ConfirmForm(FlaskForm):
    """A bare form: its CSRF token is the point."""


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=40)])
    colour = EnumSelectField(_l("Colour"), enum=Colour, blank=_l("All colours"), validators=[Optional()])
    area = SelectField(_l("Area"), validators=[Optional()])
    category = EnumSelectField(
        _l("Category"), enum=HardshipCategory, blank=_l("All categories"), validators=[Optional()]
    )
    status = SelectField(
        _l("File status"),
        choices=[
            ("active", _l("Active")),
            ("exited", _l("Out of hardship")),
            ("closed", _l("Closed")),
            ("all", _l("All")),
        ],
        validators=[Optional()],
    )
    overdue = BooleanField(_l("Review overdue"))
    exit = BooleanField(_l("Exit candidates"))
    sort = SelectField(
        _l("Sort by"),
        choices=[
            ("review", _l("Next review")),
            ("score", _l("Score, highest first")),
            ("name", _l("Name")),
            ("newest", _l("Newest first")),
        ],
        validators=[Optional()],
    )
