"""Pages for three-party agreements (帮扶协议) for caseworkers and admins: draft from a claimed post, edit, sign with
an optional scan, renew, terminate, cancel, enter a paper agreement; the PDF for staff and the agreement's sponsor."""

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from assist.agreements import operations
from assist.agreements.forms import AgreementFilterForm, ConfirmForm, PaperForm, SignForm, TerminateForm, TermsForm
from assist.agreements.models import Agreement, AgreementScan
from assist.enums import AgreementStatus, SponsorStatus
from assist.errors import DomainError
from assist.extensions import db
from assist.forms import apply_errors
from assist.permissions import agreement_scope, get_agreement_or_404, get_post_or_404
from assist.sponsors.models import Sponsor

bp = Blueprint("agreements", __name__, url_prefix="/agreements")

TERMS = ("start_on", "end_on", "monthly_amount_fen", "hours_per_month", "duties")


def _terms(form) -> dict:
    return {name: getattr(form, name).data for name in TERMS}


def _upload(field) -> tuple[str, bytes] | None:
    """The uploaded file as (name, bytes), read no further than the size limit allows (None when none was sent)."""
    storage = field.data
    if storage is None or not getattr(storage, "filename", None):
        return None
    return storage.filename, storage.read(operations.SCAN_LIMIT + 1)


@bp.route("/")
def index():
    form = AgreementFilterForm(request.args)
    if not form.validate():
        form.status.data = None
    stmt = select(Agreement).where(agreement_scope())
    if form.status.data:
        stmt = stmt.where(Agreement.status == AgreementStatus(form.status.data))
    stmt = stmt.options(selectinload(Agreement.sponsor), selectinload(Agreement.member)).order_by(
        Agreement.start_on.desc(), Agreement.id.desc()
    )
    page = request.args.get("page", 1, type=int)
    pagination = db.paginate(stmt, page=max(1, min(page, 100_000)), per_page=25, error_out=False)
    return render_template("agreements/index.html", form=form, pagination=pagination)


@bp.route("/new/<int:post_id>", methods=["GET", "POST"])
def new(post_id: int):
    post = get_post_or_404(post_id)
    form = TermsForm()
    if request.method == "GET":
        form.monthly_amount_fen.data = post.monthly_amount_fen
        form.hours_per_month.data = post.hours_per_month
        form.duties.data = post.duties
    if form.validate_on_submit():
        try:
            agreement = operations.create_agreement(current_user, post, _terms(form))
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc, {"end_date": "end_on"})
        else:
            db.session.commit()
            flash(_("Agreement drafted. Print it, have it signed, then record the signing."), "success")
            return redirect(url_for("agreements.view", agreement_id=agreement.id))
    status = 422 if request.method == "POST" else 200
    return render_template("agreements/form.html", form=form, post=post, agreement=None), status


def _render_view(agreement: Agreement, status: int = 200, **forms):
    return (
        render_template(
            "agreements/view.html",
            agreement=agreement,
            parties=operations.parties(agreement),
            show_member=True,
            family_phone=agreement.family.phone,
            confirm_form=ConfirmForm(),
            sign_form=forms.get("sign_form") or SignForm(formdata=None),
            terminate_form=forms.get("terminate_form") or TerminateForm(formdata=None),
        ),
        status,
    )


@bp.route("/<int:agreement_id>")
def view(agreement_id: int):
    return _render_view(get_agreement_or_404(agreement_id))


@bp.route("/<int:agreement_id>/edit", methods=["GET", "POST"])
def edit(agreement_id: int):
    agreement = get_agreement_or_404(agreement_id)
    form = TermsForm(obj=agreement)
    if form.validate_on_submit():
        try:
            operations.update_agreement(current_user, agreement, _terms(form))
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Changes saved."), "success")
            return redirect(url_for("agreements.view", agreement_id=agreement.id))
    status = 422 if request.method == "POST" else 200
    return render_template("agreements/form.html", form=form, post=agreement.post, agreement=agreement), status


@bp.route("/<int:agreement_id>/sign", methods=["POST"])
def sign(agreement_id: int):
    agreement = get_agreement_or_404(agreement_id)
    form = SignForm()
    if form.validate_on_submit():
        try:
            operations.sign_agreement(current_user, agreement, form.signed_on.data, scan=_upload(form.scan))
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Signing recorded. The post becomes active on the start date."), "success")
            return redirect(url_for("agreements.view", agreement_id=agreement.id))
    return _render_view(agreement, status=422, sign_form=form)


@bp.route("/<int:agreement_id>/scan")
def scan(agreement_id: int):
    agreement = get_agreement_or_404(agreement_id)
    stored = db.session.scalar(select(AgreementScan).where(AgreementScan.agreement_id == agreement.id))
    if stored is None:
        abort(404)
    return Response(
        stored.data,
        mimetype=stored.content_type,
        headers={"Content-Disposition": f'attachment; filename="{agreement.number}-scan{_suffix(stored)}"'},
    )


def _suffix(stored: AgreementScan) -> str:
    return {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}.get(stored.content_type, "")


@bp.route("/<int:agreement_id>/pdf")
def pdf(agreement_id: int):
    agreement = get_agreement_or_404(agreement_id)
    # the PDF itself leaves the member out of a sponsor's copy until the agreement is signed
    from assist.agreements.pdf import render_agreement

    return Response(
        render_agreement(agreement),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{agreement.number}.pdf"'},
    )


@bp.route("/<int:agreement_id>/renew", methods=["POST"])
def renew(agreement_id: int):
    agreement = get_agreement_or_404(agreement_id)
    if ConfirmForm().validate_on_submit():
        try:
            renewal = operations.renew_agreement(current_user, agreement)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(_("The next term is drafted. Check it, then have it signed."), "success")
            return redirect(url_for("agreements.view", agreement_id=renewal.id))
    return redirect(url_for("agreements.view", agreement_id=agreement.id))


@bp.route("/<int:agreement_id>/terminate", methods=["POST"])
def terminate(agreement_id: int):
    agreement = get_agreement_or_404(agreement_id)
    form = TerminateForm()
    if form.validate_on_submit():
        try:
            operations.terminate_agreement(current_user, agreement, form.end_date.data, form.reason.data)
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Agreement terminated; the post ends with it."), "success")
            return redirect(url_for("agreements.view", agreement_id=agreement.id))
    return _render_view(agreement, status=422, terminate_form=form)


@bp.route("/<int:agreement_id>/cancel", methods=["POST"])
def cancel(agreement_id: int):
    agreement = get_agreement_or_404(agreement_id)
    if ConfirmForm().validate_on_submit():
        try:
            operations.cancel_agreement(current_user, agreement)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(_("Draft agreement cancelled."), "success")
    return redirect(url_for("agreements.view", agreement_id=agreement.id))


@bp.route("/paper/<int:post_id>", methods=["GET", "POST"])
def paper(post_id: int):
    post = get_post_or_404(post_id)
    form = PaperForm()
    form.sponsor_id.choices = [
        (s.id, f"{s.name} ({s.credit_code})")
        for s in db.session.scalars(
            select(Sponsor).where(Sponsor.status == SponsorStatus.APPROVED).order_by(Sponsor.name)
        )
    ]
    if request.method == "GET":
        form.monthly_amount_fen.data = post.monthly_amount_fen
        form.hours_per_month.data = post.hours_per_month
        form.duties.data = post.duties
    if form.validate_on_submit():
        data = {**_terms(form), "signed_on": form.signed_on.data, "scan": _upload(form.scan)}
        try:
            agreement = operations.enter_paper_agreement(
                current_user, post, db.session.get(Sponsor, form.sponsor_id.data), data
            )
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Paper agreement entered with its original dates."), "success")
            return redirect(url_for("agreements.view", agreement_id=agreement.id))
    status = 422 if request.method == "POST" else 200
    return render_template("agreements/paper.html", form=form, post=post), status
