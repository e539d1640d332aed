"""Forms for uploading worker files, mapping their columns, and working candidates."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from assist.enums import LABELS, CandidateStatus, ImportSource
from assist.forms import EnumSelectField, no_control_chars
from assist.identification import columns


class UploadForm(FlaskForm):
    file = FileField(
        _l("File (CSV or XLSX)"),
        validators=[FileRequired(message=_l("Choose a file to upload."))],
        description=_l("The standard template needs no mapping; other files are mapped column by column next."),
    )
    source = EnumSelectField(_l("Data source"), enum=ImportSource, default="civil_affairs")


class MappingForm(FlaskForm):
    """One select per field, filled with the file's columns by the view."""


def mapping_form(headers: list[str], current: dict[str, int], formdata=None) -> MappingForm:
    """A mapping form for a file's headers, each field preselected where a column was recognised."""

    class Form(MappingForm):
        pass

    options = [("", str(_l("— not in this file —")))]
    for i, header in enumerate(headers):
        where = _l("column %(n)s", n=i + 1)
        options.append((str(i), f"{header or '?'} ({where})"))
    for column in columns.COLUMNS:
        setattr(
            Form,
            f"map_{column.field}",
            SelectField(
                column.label,
                choices=options,
                default=str(current[column.field]) if column.field in current else "",
                validators=[Optional()],
                description=_l("required") if column.required else None,
            ),
        )
    return Form(formdata=formdata) if formdata is not None else Form()


class VisitForm(FlaskForm):
    visited_on = DateField(_l("Visited on"), validators=[DataRequired()])
    visit_notes = TextAreaField(_l("What the visit found"), validators=[Optional(), Length(max=2000)])


class DismissForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=200), no_control_chars])


class ApplyForm(FlaskForm):
    fields = SelectMultipleField(_l("Changes to apply"), choices=[], validate_choice=False)


class ConfirmForm(FlaskForm):
    """A bare form: its CSRF token is the point."""


class QueueFilterForm(FlaskForm):
    class Meta:
        csrf = False

    status = SelectField(
        _l("Status"),
        choices=[
            ("open", _l("In the queue")),
            *[(s.value, text) for s, text in LABELS[CandidateStatus].items()],
            ("all", _l("All")),
        ],
        validators=[Optional()],
    )
    source = EnumSelectField(_l("Data source"), enum=ImportSource, blank=_l("All sources"), validators=[Optional()])


# --- screening settings on the admin's settings page ----------------------------------------------------------------

SCREENING_FIELDS = (
    ("threshold", _l("Candidate from score"), 1, 100),
    ("low_income", _l("Points: per-capita income under the minimum-living line"), 0, 100),
    ("illness_medical", _l("Points: serious illness or disability with large medical spending"), 0, 100),
    ("lost_work_ability", _l("Points: lost all work ability (half for a partial loss)"), 0, 100),
    ("recent_accident", _l("Points: recent accident"), 0, 100),
    ("unemployed_dependants", _l("Points: unemployed or laid off with dependants"), 0, 100),
    ("accident_months", _l("An accident is recent for (months)"), 1, 36),
    ("min_dependants", _l("Dependants that count"), 0, 20),
)


def add_screening_fields(form_class) -> None:
    """The screening settings' fields, named ``screening_<key>`` (the names validate_settings reports errors on);
    blank keeps the current value."""
    from wtforms import IntegerField
    from wtforms.validators import NumberRange

    from assist.forms import YuanField

    for key, label, lo, hi in SCREENING_FIELDS:
        setattr(form_class, f"screening_{key}", IntegerField(label, validators=[Optional(), NumberRange(lo, hi)]))
    form_class.screening_medical_fen = YuanField(
        _l("Large medical spending from (yuan a year)"), validators=[Optional()], max_yuan=20_000_000
    )


def fill_screening(form, values: dict) -> None:
    for key, *_rest in SCREENING_FIELDS:
        getattr(form, f"screening_{key}").data = values[key]
    form.screening_medical_fen.data = values["medical_fen"]


def screening_values(form, current: dict) -> dict:
    """The posted screening settings; a field left blank keeps its current value."""
    values = {key: getattr(form, f"screening_{key}").data for key, *_rest in SCREENING_FIELDS}
    values["medical_fen"] = form.screening_medical_fen.data
    return {key: current[key] if value is None else value for key, value in values.items()}
