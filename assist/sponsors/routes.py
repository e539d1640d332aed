"""Sponsor pages: public self-registration, the admin's list, page and decisions, and the sponsor's own profile."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from assist.agreements.models import Agreement
from assist.areas.models import Area
from assist.auth.models import User
from assist.enums import Role, SponsorStatus, choices
from assist.errors import DomainError
from assist.extensions import db
from assist.forms import apply_errors
from assist.permissions import get_sponsor_or_404
from assist.posts.models import Post
from assist.posts.operations import carried, remaining_pledge
from assist.sponsors import creditcode, operations
from assist.sponsors.forms import ConfirmForm, ReasonForm, RegisterForm, SponsorFilterForm, SponsorForm, UserForm
from assist.sponsors.listing import sponsor_query, status_counts
from assist.sponsors.models import Sponsor

bp = Blueprint("sponsors", __name__, url_prefix="/sponsors")

PROFILE_FIELDS = (
    "name",
    "credit_code",
    "contact_name",
    "phone",
    "email",
    "address",
    "pledge_posts",
    "pledge_budget_fen",
)


def _area_choices() -> list[tuple[str, str]]:
    areas = db.session.scalars(select(Area).order_by(Area.path))
    return [(a.code, ("\u3000" * max(a.depth - 1, 0)) + a.name) for a in areas]


def _data(form) -> dict:
    data = {name: getattr(form, name).data for name in PROFILE_FIELDS}
    data["area_codes"] = list(form.areas.data or [])
    return data


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    form.areas.choices = _area_choices()
    if form.validate_on_submit():
        try:
            operations.register_sponsor(_data(form), form.username.data, form.password.data)
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            return redirect(url_for("sponsors.registered"))
    status = 422 if request.method == "POST" else 200
    return render_template("sponsors/register.html", form=form), status


@bp.route("/registered")
def registered():
    return render_template("sponsors/registered.html")


@bp.route("/")
def index():
    form = SponsorFilterForm(request.args)
    form.status.choices = [("", _("All")), *choices(SponsorStatus)]
    if not form.validate():
        for field in form:
            if field.errors:
                field.data = None
    status = SponsorStatus(form.status.data) if form.status.data else None
    page = request.args.get("page", 1, type=int)
    pagination = db.paginate(
        sponsor_query(status, form.q.data), page=max(1, min(page, 100_000)), per_page=25, error_out=False
    )
    loads = carried([s.id for s in pagination.items])
    return render_template(
        "sponsors/index.html",
        form=form,
        pagination=pagination,
        counts=status_counts(),
        status_enum=SponsorStatus,
        loads=loads,
        changes=operations.pending_changes(),
    )


def _render_view(sponsor: Sponsor, status: int = 200, reason_form=None, change_form=None):
    n, total = carried([sponsor.id]).get(sponsor.id, (0, 0))
    posts_left, budget_left = remaining_pledge(sponsor)
    users = list(db.session.scalars(select(User).where(User.sponsor_id == sponsor.id).order_by(User.username)))
    posts = list(db.session.scalars(select(Post).where(Post.sponsor_id == sponsor.id).order_by(Post.id.desc())))
    agreements = list(
        db.session.scalars(select(Agreement).where(Agreement.sponsor_id == sponsor.id).order_by(Agreement.id.desc()))
    )
    return (
        render_template(
            "sponsors/view.html",
            sponsor=sponsor,
            carried_posts=n,
            carried_fen=total,
            posts_left=posts_left,
            budget_left=budget_left,
            users=users,
            posts=posts,
            agreements=agreements,
            confirm_form=ConfirmForm(),
            reason_form=reason_form or ReasonForm(formdata=None),
            change=operations.pending_change(sponsor),
            change_form=change_form or ReasonForm(formdata=None, prefix="change"),
        ),
        status,
    )


@bp.route("/<int:sponsor_id>")
def view(sponsor_id: int):
    return _render_view(get_sponsor_or_404(sponsor_id))


@bp.route("/<int:sponsor_id>/approve", methods=["POST"])
def approve(sponsor_id: int):
    sponsor = get_sponsor_or_404(sponsor_id)
    if ConfirmForm().validate_on_submit():
        try:
            operations.decide(current_user, sponsor, "approve")
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(_("Registration approved: the sponsor can now claim posts."), "success")
    return redirect(url_for("sponsors.view", sponsor_id=sponsor.id))


def _decide_with_reason(sponsor_id: int, decision: str, done: str):
    sponsor = get_sponsor_or_404(sponsor_id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            operations.decide(current_user, sponsor, decision, form.reason.data)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(done, "success")
        return redirect(url_for("sponsors.view", sponsor_id=sponsor.id))
    return _render_view(sponsor, status=422, reason_form=form)


@bp.route("/<int:sponsor_id>/reject", methods=["POST"])
def reject(sponsor_id: int):
    return _decide_with_reason(sponsor_id, "reject", _("Registration rejected."))


@bp.route("/<int:sponsor_id>/suspend", methods=["POST"])
def suspend(sponsor_id: int):
    return _decide_with_reason(sponsor_id, "suspend", _("Sponsor suspended."))


@bp.route("/<int:sponsor_id>/change/approve", methods=["POST"])
def approve_change(sponsor_id: int):
    """The union approves the sponsor's new name or credit code (then in force, on agreements signed from now)."""
    sponsor = get_sponsor_or_404(sponsor_id)
    if ConfirmForm().validate_on_submit():
        try:
            operations.decide_change(current_user, sponsor, "approve")
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(_("Change approved: the new name and credit code are in force."), "success")
    return redirect(url_for("sponsors.view", sponsor_id=sponsor.id))


@bp.route("/<int:sponsor_id>/change/reject", methods=["POST"])
def reject_change(sponsor_id: int):
    sponsor = get_sponsor_or_404(sponsor_id)
    form = ReasonForm(prefix="change")
    if form.validate_on_submit():
        try:
            operations.decide_change(current_user, sponsor, "reject", form.reason.data)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(_("Change rejected: the approved name and credit code stay in force."), "success")
        return redirect(url_for("sponsors.view", sponsor_id=sponsor.id))
    return _render_view(sponsor, status=422, change_form=form)


@bp.route("/<int:sponsor_id>/edit", methods=["GET", "POST"])
def edit(sponsor_id: int):
    sponsor = get_sponsor_or_404(sponsor_id)
    form = SponsorForm(obj=sponsor)
    form.areas.choices = _area_choices()
    if request.method == "GET":
        form.areas.data = [a.code for a in sponsor.areas]
    if form.validate_on_submit():
        try:
            operations.update_sponsor(current_user, sponsor, _data(form))
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            if operations.identity_needs_approval(current_user, sponsor) and (
                (form.name.data or "").strip() != sponsor.name
                or creditcode.normalise(form.credit_code.data or "") != sponsor.credit_code
            ):
                flash(_("Changes saved. The new name or credit code takes effect once the union approves it."), "info")
            else:
                flash(_("Changes saved."), "success")
            return redirect(url_for("sponsors.edit", sponsor_id=sponsor.id))
    status = 422 if request.method == "POST" else 200
    return _render_edit(sponsor, form, UserForm(formdata=None), status)


def _render_edit(sponsor: Sponsor, form, user_form, status: int):
    posts_left, budget_left = remaining_pledge(sponsor)
    users = list(db.session.scalars(select(User).where(User.sponsor_id == sponsor.id).order_by(User.username)))
    return (
        render_template(
            "sponsors/edit.html",
            sponsor=sponsor,
            form=form,
            user_form=user_form,
            users=users,
            posts_left=posts_left,
            budget_left=budget_left,
            change=operations.pending_change(sponsor),
            identity_needs_approval=operations.identity_needs_approval(current_user, sponsor),
        ),
        status,
    )


@bp.route("/<int:sponsor_id>/users", methods=["POST"])
def add_user(sponsor_id: int):
    sponsor = get_sponsor_or_404(sponsor_id)
    form = UserForm()
    if form.validate_on_submit():
        try:
            operations.add_sponsor_user(
                current_user, sponsor, form.username.data, form.password.data, form.display_name.data or ""
            )
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("User added. They can log in now."), "success")
            return redirect(url_for("sponsors.edit", sponsor_id=sponsor.id))
    profile = SponsorForm(obj=sponsor)
    profile.areas.choices = _area_choices()
    profile.areas.data = [a.code for a in sponsor.areas]
    return _render_edit(sponsor, profile, form, 422)


@bp.route("/mine")
def mine():
    """The sponsor user's own organisation (单位信息)."""
    if current_user.role != Role.SPONSOR or not current_user.sponsor_id:
        abort(404)
    return redirect(url_for("sponsors.edit", sponsor_id=current_user.sponsor_id))
