"""The sponsor portal: the market ranked for this sponsor (anonymised), claiming, its claims and its agreements."""

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from assist.agreements.models import Agreement
from assist.agreements.operations import parties, sponsor_may_see_member
from assist.areas.models import Area
from assist.db_types import utcnow
from assist.enums import Colour, HardshipCategory, PostStatus, Role
from assist.errors import DomainError
from assist.extensions import db
from assist.permissions import agreement_scope, get_agreement_or_404, get_market_post_or_404, get_post_or_404
from assist.portal.forms import ConfirmForm, MarketFilterForm
from assist.posts import operations as posts
from assist.posts.market import PAGE_SIZE, MarketFilters, market_page
from assist.posts.models import Post
from assist.sponsors.models import Sponsor

bp = Blueprint("portal", __name__, url_prefix="/portal")


def _sponsor() -> Sponsor:
    sponsor = db.session.get(Sponsor, current_user.sponsor_id) if current_user.sponsor_id else None
    if sponsor is None:
        abort(404)
    return sponsor


@bp.app_context_processor
def _sponsor_banner():
    """The sponsor user's organisation while the union has not approved it (every page shows a banner)."""
    if getattr(current_user, "is_authenticated", False) and current_user.role == Role.SPONSOR:
        sponsor = db.session.get(Sponsor, current_user.sponsor_id) if current_user.sponsor_id else None
        if sponsor is not None and not sponsor.approved:
            return {"unapproved_sponsor": sponsor}
    return {}


class _Page:
    """Enough of a pagination object for the pager macro."""

    def __init__(self, page: int, per_page: int, total: int):
        self.page, self.total = page, total
        self.pages = max((total + per_page - 1) // per_page, 1)
        self.has_prev, self.has_next = page > 1, page < self.pages
        self.prev_num, self.next_num = page - 1, page + 1


@bp.route("/market")
def market():
    sponsor = _sponsor()
    form = MarketFilterForm(request.args)
    form.area.choices = [("", _("All areas"))] + [
        (str(a.id), ("\u3000" * max(a.depth - 1, 0)) + a.name)
        for a in db.session.scalars(select(Area).order_by(Area.path))
    ]
    if not form.validate():
        for field in form:
            if field.errors:
                field.data = None
                field.raw_data = []
    filters = MarketFilters(
        area_id=int(form.area.data) if form.area.data else None,
        colour=Colour(form.colour.data) if form.colour.data else None,
        category=HardshipCategory(form.category.data) if form.category.data else None,
        max_amount_fen=form.max_amount.data,
        within_budget=bool(form.within_budget.data),
        preferred_only=bool(form.preferred_only.data),
    )
    page = max(1, min(request.args.get("page", 1, type=int), 100_000))
    items, total, _context = market_page(sponsor, filters, page=page)
    posts_left, budget_left = posts.remaining_pledge(sponsor)
    return render_template(
        "portal/market.html",
        sponsor=sponsor,
        form=form,
        items=items,
        pagination=_Page(page, PAGE_SIZE, total),
        posts_left=posts_left,
        budget_left=budget_left,
        confirm_form=ConfirmForm(),
    )


@bp.route("/market/<int:post_id>")
def market_post(post_id: int):
    sponsor = _sponsor()
    get_market_post_or_404(post_id)
    # the anonymised view of this one post, ranked context included, through the market's own query
    items, _total, _context = market_page(sponsor, MarketFilters(post_id=post_id), page=1, per_page=1)
    if not items:
        abort(404)
    posts_left, budget_left = posts.remaining_pledge(sponsor)
    return render_template(
        "portal/market_post.html",
        item=items[0],
        sponsor=sponsor,
        posts_left=posts_left,
        budget_left=budget_left,
        confirm_form=ConfirmForm(),
    )


@bp.route("/market/<int:post_id>/claim", methods=["POST"])
def claim(post_id: int):
    sponsor = _sponsor()
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("portal.market"))
    post = db.session.get(Post, post_id)
    if post is None or post.status == PostStatus.DRAFT:
        abort(404)
    try:
        posts.claim_post(current_user, post, sponsor=sponsor)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "warning" if exc.status == 409 else "danger")
        return redirect(url_for("portal.market"))
    db.session.commit()
    flash(_("Claimed. The union will prepare the agreement with you."), "success")
    return redirect(url_for("portal.claims"))


@bp.route("/claims")
def claims():
    sponsor = _sponsor()
    rows = list(
        db.session.scalars(
            select(Post)
            .where(Post.sponsor_id == sponsor.id, Post.status == PostStatus.CLAIMED)
            .order_by(Post.claim_expires_at)
        )
    )
    now = utcnow()
    left = {p.id: max((p.claim_expires_at - now) // timedelta(days=1), 0) if p.claim_expires_at else None for p in rows}
    return render_template("portal/claims.html", posts=rows, days_left=left, confirm_form=ConfirmForm())


@bp.route("/claims/<int:post_id>/withdraw", methods=["POST"])
def withdraw(post_id: int):
    post = get_post_or_404(post_id)
    if ConfirmForm().validate_on_submit():
        try:
            posts.withdraw_claim(current_user, post)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(_("Claim withdrawn: the post is back on the market."), "success")
    return redirect(url_for("portal.claims"))


@bp.route("/agreements")
def agreements():
    _sponsor()
    rows = list(db.session.scalars(select(Agreement).where(agreement_scope()).order_by(Agreement.start_on.desc())))
    return render_template("portal/agreements.html", agreements=rows)


@bp.route("/agreements/<int:agreement_id>")
def agreement(agreement_id: int):
    agreement = get_agreement_or_404(agreement_id)
    show_member = sponsor_may_see_member(agreement)
    return render_template(
        "portal/agreement.html",
        agreement=agreement,
        show_member=show_member,
        # the member's name and the family's phone, the contact needed, only once signed; nothing else of the family
        family_phone=agreement.family.phone if show_member else None,
        parties=parties(agreement),
    )
