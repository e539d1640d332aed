"""Pages for imports and the candidate queue: load and authorise → validate → operation → commit once → redirect."""

import threading

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from assist.db_types import local_today
from assist.enums import LABELS, CandidateStatus, ImportSource, ImportStatus
from assist.errors import DomainError
from assist.extensions import db
from assist.families.forms import FamilyForm
from assist.forms import apply_errors
from assist.identification import columns, operations, reader
from assist.identification.forms import (
    ApplyForm,
    ConfirmForm,
    DismissForm,
    QueueFilterForm,
    UploadForm,
    VisitForm,
    mapping_form,
)
from assist.identification.models import Candidate, ImportReject, WorkerImport
from assist.permissions import get_candidate_or_404, get_import_or_404, scoped_areas

bp = Blueprint("identification", __name__, url_prefix="/identification")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def start_import(import_id: int) -> None:
    """Work the import outside the request: in a thread of this process (the scheduler's job picks it up if the
    process dies). Tests run it inline unless they ask for the thread."""
    app = current_app._get_current_object()
    mode = app.config.get("IMPORT_BACKGROUND") or ("inline" if app.testing else "thread")
    if mode == "inline":
        operations.run_import(import_id)
        return
    thread = threading.Thread(target=_run_in_thread, args=(app, import_id), name=f"import-{import_id}", daemon=True)
    thread.start()


def _run_in_thread(app, import_id: int) -> None:
    with app.app_context():
        try:
            operations.run_import(import_id)
        finally:
            db.session.remove()


def _attachment(content: bytes, filename: str, mimetype: str) -> Response:
    from urllib.parse import quote

    response = Response(content, mimetype=mimetype)
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    return response


# --- imports --------------------------------------------------------------------------------------------------------


@bp.route("/imports")
def imports():
    page = request.args.get("page", 1, type=int)
    stmt = operations.import_query(current_user).order_by(WorkerImport.id.desc())
    pagination = db.paginate(stmt, page=max(1, min(page, 100_000)), per_page=25, error_out=False)
    return render_template("identification/imports.html", pagination=pagination)


@bp.route("/imports/new", methods=["GET", "POST"])
def upload():
    form = UploadForm()
    if form.validate_on_submit():
        content = form.file.data.read(reader.MAX_BYTES + 1)
        try:
            imp, created = operations.create_import(current_user, content, form.file.data.filename, form.source.data)
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            if not created:
                flash(_("This file was imported before (No. %(id)s); nothing has changed.", id=imp.id), "info")
                return redirect(url_for("identification.import_view", import_id=imp.id))
            if imp.status == ImportStatus.MAPPING:
                flash(_("The columns are not the standard template's; tell us which column holds what."), "info")
                return redirect(url_for("identification.mapping", import_id=imp.id))
            start_import(imp.id)
            flash(_("File received; the import runs in the background."), "success")
            return redirect(url_for("identification.import_view", import_id=imp.id))
    status = 422 if request.method == "POST" else 200
    return render_template("identification/upload.html", form=form, columns=columns.COLUMNS), status


@bp.route("/imports/<int:import_id>")
def import_view(import_id: int):
    imp = get_import_or_404(import_id)
    rejects = list(
        db.session.scalars(
            select(ImportReject).where(ImportReject.import_id == imp.id).order_by(ImportReject.row_number).limit(50)
        )
    )
    return render_template(
        "identification/import.html",
        imp=imp,
        rejects=rejects,
        problem_text=columns.problem_text,
        original_days=operations.original_days(),
    )


@bp.route("/imports/<int:import_id>/mapping", methods=["GET", "POST"])
def mapping(import_id: int):
    imp = get_import_or_404(import_id)
    if imp.status != ImportStatus.MAPPING:
        flash(_("This import's columns are already mapped."), "info")
        return redirect(url_for("identification.import_view", import_id=imp.id))
    suggested = operations.resolve_mapping(imp.headers, imp.source)
    form = mapping_form(imp.headers, suggested, request.form if request.method == "POST" else None)
    if form.validate_on_submit():
        chosen = {}
        for column in columns.COLUMNS:
            value = getattr(form, f"map_{column.field}").data
            chosen[column.field] = int(value) if value and value.isdigit() else None
        try:
            operations.set_mapping(current_user, imp, chosen)
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc, {c.field: f"map_{c.field}" for c in columns.COLUMNS})
        else:
            db.session.commit()
            start_import(imp.id)
            flash(_("Columns mapped (and remembered for this source); the import runs in the background."), "success")
            return redirect(url_for("identification.import_view", import_id=imp.id))
    status = 422 if request.method == "POST" else 200
    return render_template("identification/mapping.html", imp=imp, form=form, columns=columns.COLUMNS), status


def _download(imp: WorkerImport, operation, filename: str, mimetype: str):
    """A download that shows full ID numbers: the operation writes the audit entry, committed before the file goes."""
    try:
        content = operation(current_user, imp)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "warning")
        return redirect(url_for("identification.import_view", import_id=imp.id))
    db.session.commit()
    return _attachment(content, filename, mimetype)


@bp.route("/imports/<int:import_id>/rejects.xlsx")
def rejects(import_id: int):
    imp = get_import_or_404(import_id)
    return _download(imp, operations.download_rejects, f"rejects-{imp.id}.xlsx", XLSX)


@bp.route("/imports/<int:import_id>/original")
def original(import_id: int):
    imp = get_import_or_404(import_id)
    return _download(imp, operations.download_original, imp.filename, "application/octet-stream")


@bp.route("/template.xlsx")
def template():
    return _attachment(operations.template_workbook(), "worker-import-template.xlsx", XLSX)


# --- the candidate queue --------------------------------------------------------------------------------------------


@bp.route("/candidates")
def candidates():
    form = QueueFilterForm(request.args)
    if not form.validate():
        for f in form:
            if f.errors:
                f.data = None
    status = form.status.data or "open"
    page = request.args.get("page", 1, type=int)
    stmt = operations.candidate_query(
        current_user, status=None if status == "all" else status, source=form.source.data or None
    ).options(selectinload(Candidate.person), selectinload(Candidate.area), selectinload(Candidate.assigned_to))
    pagination = db.paginate(stmt, page=max(1, min(page, 100_000)), per_page=25, error_out=False)
    return render_template(
        "identification/candidates.html",
        form=form,
        pagination=pagination,
        counts=operations.queue_counts(current_user),
        sources=list(ImportSource),
        statuses=list(CandidateStatus),
        reason_text=_reason_text,
    )


def _reason_text(code: str) -> str:
    from assist.identification.screening import reason_text

    return reason_text(code)


def _render_candidate(c: Candidate, status: int = 200, **forms):
    member, changes = operations.pending_changes(c)
    apply_form = forms.get("apply_form") or ApplyForm(formdata=None)
    return (
        render_template(
            "identification/candidate.html",
            c=c,
            p=c.person,
            member=member,
            changes=changes,
            field_labels={col.field: col.label for col in columns.COLUMNS},
            visit_form=forms.get("visit_form") or VisitForm(formdata=None, visited_on=local_today()),
            dismiss_form=forms.get("dismiss_form") or DismissForm(formdata=None),
            apply_form=apply_form,
            confirm_form=ConfirmForm(),
            reason_text=_reason_text,
            status_labels=LABELS[CandidateStatus],
        ),
        status,
    )


@bp.route("/candidates/<int:candidate_id>")
def candidate(candidate_id: int):
    return _render_candidate(get_candidate_or_404(candidate_id))


def _act(c: Candidate, operation, *args, message: str):
    try:
        operation(current_user, c, *args)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(url_for("identification.candidate", candidate_id=c.id))


@bp.route("/candidates/<int:candidate_id>/assign", methods=["POST"])
def assign(candidate_id: int):
    c = get_candidate_or_404(candidate_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("identification.candidate", candidate_id=c.id))
    return _act(c, operations.assign_to_self, message=_("Assigned to you."))


@bp.route("/candidates/<int:candidate_id>/visit", methods=["POST"])
def visit(candidate_id: int):
    c = get_candidate_or_404(candidate_id)
    form = VisitForm()
    if form.validate_on_submit():
        try:
            operations.record_visit(current_user, c, form.visited_on.data, form.visit_notes.data or "")
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Visit recorded: open the family file, or dismiss with a reason."), "success")
            return redirect(url_for("identification.candidate", candidate_id=c.id))
    return _render_candidate(c, status=422, visit_form=form)


@bp.route("/candidates/<int:candidate_id>/dismiss", methods=["POST"])
def dismiss(candidate_id: int):
    c = get_candidate_or_404(candidate_id)
    form = DismissForm()
    if form.validate_on_submit():
        return _act(c, operations.dismiss, form.reason.data, message=_("Dismissed; it has left the queue."))
    return _render_candidate(c, status=422, dismiss_form=form)


@bp.route("/candidates/<int:candidate_id>/file", methods=["GET", "POST"])
def file_family(candidate_id: int):
    c = get_candidate_or_404(candidate_id)
    form = FamilyForm(data=operations.prefill(c)) if request.method == "GET" else FamilyForm()
    del form.head_id_number  # the ID number comes from the import, never retyped
    form.area_id.choices = [(a.id, ("\u3000" * max(a.depth - 1, 0)) + f"{a.name} ({a.code})") for a in scoped_areas()]
    if form.validate_on_submit():
        data = {k: v for k, v in form.data.items() if k != "csrf_token"}
        try:
            family = operations.file_family(current_user, c, data)
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc, {"area_code": "area_id"})
        else:
            db.session.commit()
            flash(_("Family file created from the candidate and assessed."), "success")
            return redirect(url_for("families.view", family_id=family.id))
    status = 422 if request.method == "POST" else 200
    return render_template("identification/file_family.html", form=form, c=c, p=c.person), status


@bp.route("/candidates/<int:candidate_id>/apply", methods=["POST"])
def apply_changes(candidate_id: int):
    c = get_candidate_or_404(candidate_id)
    form = ApplyForm()
    if not form.validate_on_submit():
        return redirect(url_for("identification.candidate", candidate_id=c.id))
    return _act(c, operations.apply_changes, form.fields.data or [], message=_("The family file has been updated."))
