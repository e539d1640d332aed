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

    options = [("", str(_l("— not in this file —")))] + [
        (str(i), f"{h or '?'} ({_l('column %(n)s', n=i + 1)})") for i, h in enumerate(headers)
    ]
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
