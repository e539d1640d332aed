"""Stipend pages (待遇发放): the admin's batches, batch page and bank reconciliation; the sponsor's payments page
(the caseworker reads it for its areas). load and authorise → validate → operation → commit once → redirect/render."""

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from assist.db_types import local_today
from assist.enums import Role
from assist.errors import DomainError, ValidationFailed
from assist.extensions import db
from assist.forms import apply_errors
from assist.i18n import safe_next
from assist.permissions import get_stipend_or_404, scoped_areas, stipend_scope
from assist.sponsors.models import Sponsor
from assist.stipends import bank, payments
from assist.stipends.forms import (
    AdjustmentForm,
    BankForm,
    BulkPaymentForm,
    FailForm,
    GenerateForm,
    PaymentForm,
    RecordFilter,
)
from assist.stipends.models import StipendRecord
from assist.stipends.operations import generate_month, parse_month

bp = Blueprint("stipends", __name__, url_prefix="/stipends")
PER_PAGE = 50


def _page() -> int:
    return max(1, min(request.args.get("page", 1, type=int), 100_000))


def _filtered(form: RecordFilter, paid_in: str | None = None):
    if not form.validate():
        for f in form:  # a filter that does not parse is ignored, not an error page
            if f.errors:
                f.data = None
    sponsor = request.args.get("sponsor", type=int)
    area = request.args.get("area", type=int)
    stmt = payments.record_query(
        stipend_scope(),
        month=(form.month.data or None) if paid_in is None else None,
        paid_in=paid_in,
        sponsor_id=sponsor if current_user.role != Role.SPONSOR else None,
        area_id=area,
        status=form.status.data or None,
        overdue=bool(form.overdue.data),
    ).options(selectinload(StipendRecord.agreement))
    return db.paginate(stmt, page=_page(), per_page=PER_PAGE, error_out=False)


def _sponsor_names(records) -> dict[int, str]:
    ids = {r.sponsor_id for r in records}
    if not ids:
        return {}
    return dict(db.session.execute(select(Sponsor.id, Sponsor.name).where(Sponsor.id.in_(ids))).all())


def _render_index(status: int = 200, errors: dict | None = None, bulk: BulkPaymentForm | None = None):
    form = RecordFilter(request.args)
    form.sponsor.choices = [("", _("All sponsors"))]
    form.area.choices = [("", _("All my areas"))] + [(str(a.id), a.name) for a in scoped_areas()]
    pagination = _filtered(form)
    return (
        render_template(
            "stipends/index.html",
            form=form,
            pagination=pagination,
            names=_sponsor_names(pagination.items),
            overdue=payments.is_overdue,
            today=local_today(),
            bulk=bulk or BulkPaymentForm(formdata=None),
            pay_form=PaymentForm(formdata=None),
            fail_form=FailForm(formdata=None),
            errors=errors or {},
            due_day=payments.get_settings()["payment_due_day"],
        ),
        status,
    )


@bp.route("/")
def index():
    return _render_index()


def _back():
    return redirect(request.form.get("next") if _safe_next() else url_for("stipends.index"))


def _safe_next() -> bool:
    target = request.form.get("next") or ""
    return target.startswith("/stipends") and safe_next(target, "") == target


@bp.route("/<int:stipend_id>/pay", methods=["POST"])
def pay(stipend_id: int):
    record = get_stipend_or_404(stipend_id)
    form = PaymentForm()
    if form.validate_on_submit():
        try:
            payments.confirm_payment(current_user, record, form.paid_on.data, form.reference.data)
        except DomainError as exc:
            db.session.rollback()
            if exc.status != 422:
                flash(exc.message, "warning")
                return _back()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Payment confirmed."), "success")
            return _back()
    return _render_index(422, errors={record.id: _messages(form)})


def _messages(form) -> list[str]:
    return [*form.form_errors, *(e for f in form for e in f.errors)]


@bp.route("/pay", methods=["POST"])
def pay_bulk():
    form = BulkPaymentForm()
    ids = sorted({int(x) for x in request.form.getlist("ids") if x.isdigit() and len(x) < 10})
    if form.validate_on_submit():
        records = list(db.session.scalars(select(StipendRecord).where(StipendRecord.id.in_(ids), stipend_scope())))
        if len(records) != len(ids):
            abort(404)
        references = {r.id: request.form.get(f"ref-{r.id}", "")[:60] for r in records}
        try:
            payments.confirm_payments(current_user, records, form.paid_on.data, form.reference.data, references)
        except DomainError as exc:
            db.session.rollback()
            if exc.status != 422:
                flash(exc.message, "warning")
                return _back()
            apply_errors(form, exc, {"ids": "reference"})
        else:
            db.session.commit()
            flash(_("%(n)d payments confirmed.", n=len(records)), "success")
            return _back()
    return _render_index(422, bulk=form)


@bp.route("/<int:stipend_id>/fail", methods=["POST"])
def fail(stipend_id: int):
    record = get_stipend_or_404(stipend_id)
    form = FailForm()
    if form.validate_on_submit():
        try:
            payments.mark_failed(current_user, record, form.reason.data)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "warning")
        else:
            db.session.commit()
            flash(_("Marked as failed. Reissue it when the transfer is made again."), "success")
        return _back()
    return _render_index(422, errors={record.id: _messages(form)})


@bp.route("/<int:stipend_id>/reissue", methods=["POST"])
def reissue(stipend_id: int):
    record = get_stipend_or_404(stipend_id)
    try:
        payments.reissue(current_user, record)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "warning")
    else:
        db.session.commit()
        flash(_("Reissued: the stipend is waiting for payment again."), "success")
    return _back()


@bp.route("/<int:stipend_id>/adjust", methods=["GET", "POST"])
def adjust(stipend_id: int):
    record = get_stipend_or_404(stipend_id)
    form = AdjustmentForm()
    if form.validate_on_submit():
        try:
            adjustment = payments.create_adjustment(current_user, record, form.amount_fen.data, form.reason.data)
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Adjustment added to the batch of %(month)s.", month=adjustment.month), "success")
            return redirect(url_for("stipends.batch", month=adjustment.month))
    status = 422 if request.method == "POST" else 200
    room = payments.adjustment_room(record)
    return render_template("stipends/adjust.html", form=form, record=record, room=room), status


# --- the admin's batches -----------------------------------------------------------------------------------------------


def _render_batches(form: GenerateForm | None = None, status: int = 200):
    return (
        render_template(
            "stipends/batches.html",
            batches=payments.batch_summaries(),
            form=form or GenerateForm(formdata=None),
            overdue_month=payments.last_overdue_month(),
        ),
        status,
    )


@bp.route("/batches")
def batches():
    return _render_batches()


@bp.route("/batches/generate", methods=["POST"])
def generate():
    form = GenerateForm()
    if form.validate_on_submit():
        try:
            result = generate_month(form.month.data, current_user)
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            if result.supplementary:
                flash(
                    _(
                        "The batch of %(month)s is approved: %(created)d late records (补发) were added to the batch "
                        "of %(batch)s.",
                        month=result.month,
                        created=result.created,
                        batch=result.paid_in,
                    ),
                    "success",
                )
                return redirect(url_for("stipends.batch", month=result.paid_in))
            if result.frozen:
                flash(_("The batch of %(month)s is approved: nothing was added.", month=result.month), "warning")
            else:
                flash(
                    _(
                        "%(month)s: %(created)d created, %(existing)d existing.",
                        month=result.month,
                        created=result.created,
                        existing=result.existing,
                    ),
                    "success",
                )
            return redirect(url_for("stipends.batch", month=result.month))
    return _render_batches(form, 422)


def _batch_or_404(month: str):
    try:
        return payments.get_batch(month)
    except DomainError:
        abort(404)


@bp.route("/batches/<month>")
def batch(month: str):
    batch = _batch_or_404(month)
    form = RecordFilter(request.args)
    sponsors = db.session.execute(
        select(Sponsor.id, Sponsor.name)
        .where(Sponsor.id.in_(select(StipendRecord.sponsor_id).where(StipendRecord.paid_in == month)))
        .order_by(Sponsor.name)
    ).all()
    form.sponsor.choices = [("", _("All sponsors"))] + [(str(i), n) for i, n in sponsors]
    form.area.choices = [("", _("All areas"))] + [(str(a.id), a.name) for a in scoped_areas()]
    pagination = _filtered(form, month)
    (summary,) = payments.batch_summaries([month])
    return render_template(
        "stipends/batch.html",
        batch=batch,
        summary=summary,
        form=form,
        pagination=pagination,
        names=dict(sponsors),
        overdue=payments.is_overdue,
        today=local_today(),
    )


@bp.route("/batches/<month>/approve", methods=["POST"])
def approve(month: str):
    _batch_or_404(month)
    try:
        payments.approve_batch(current_user, month)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "warning")
    else:
        db.session.commit()
        flash(_("Batch approved: sponsors can now confirm their payments."), "success")
    return redirect(url_for("stipends.batch", month=month))


@bp.route("/bank-import", methods=["GET", "POST"])
def bank_import():
    form = BankForm()
    result = None
    if form.validate_on_submit():
        try:
            result = bank.reconcile(current_user, form.file.data.read(bank.MAX_BYTES + 1))
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
    status = 422 if request.method == "POST" and result is None else 200
    return render_template("stipends/bank.html", form=form, result=result), status


@bp.route("/bank-import/sample.csv")
def bank_sample():
    return Response(
        "\ufeff" + bank.SAMPLE,
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=bank-statement-sample.csv"},
    )


def valid_month(month: str) -> bool:
    try:
        parse_month(month)
    except DomainError:
        return False
    return True
