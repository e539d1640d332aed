"""Pages for bulk matching: the admin's proposals (批量匹配) and the sponsor's offers (匹配邀约).

Load and authorise → validate → operation → commit once → redirect or render.
"""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from assist.errors import Conflict, DomainError
from assist.extensions import db
from assist.families.forms import ConfirmForm, ReasonForm
from assist.forms import apply_errors
from assist.permissions import get_offer_or_404
from assist.posts import matching
from assist.posts.models import MatchRun, Offer, Post

bp = Blueprint("matching", __name__)

PER_PAGE = 50


@bp.route("/matching/")
def index():
    page = max(1, min(request.args.get("page", 1, type=int), 100_000))
    pagination = db.paginate(
        select(MatchRun).order_by(MatchRun.id.desc()), page=page, per_page=PER_PAGE, error_out=False
    )
    return render_template(
        "matching/index.html", pagination=pagination, form=ConfirmForm(), solver_label=matching.solver_label
    )


@bp.route("/matching/propose", methods=["POST"])
def propose():
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return redirect(url_for("matching.index"))
    run = matching.propose(current_user)
    db.session.commit()
    flash(_("Proposal computed: %(n)s pair(s) for review.", n=len(run.offers)), "success")
    return redirect(url_for("matching.run", run_id=run.id))


@bp.route("/matching/<int:run_id>")
def run(run_id: int):
    match_run = db.get_or_404(MatchRun, run_id)
    page = max(1, min(request.args.get("page", 1, type=int), 100_000))
    spage = max(1, min(request.args.get("spage", 1, type=int), 100_000))
    pairs = db.paginate(
        select(Offer)
        .where(Offer.run_id == match_run.id)
        .options(joinedload(Offer.post).joinedload(Post.area), joinedload(Offer.sponsor))
        .order_by(Offer.points.desc(), Offer.id),
        page=page,
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template(
        "matching/run.html",
        run=match_run,
        pairs=pairs,
        totals=matching.run_totals(match_run),
        loads=matching.sponsor_loads(match_run, spage, PER_PAGE),
        page=page,
        spage=spage,
        per_page=PER_PAGE,
        form=ConfirmForm(),
        reason_sentence=matching.explain,
        solver_label=matching.solver_label,
    )


@bp.route("/matching/<int:run_id>/send", methods=["POST"])
def send(run_id: int):
    match_run = db.get_or_404(MatchRun, run_id)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return redirect(url_for("matching.run", run_id=match_run.id))
    try:
        sent = matching.send_offers(current_user, match_run)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash(_("%(n)s offer(s) sent to the sponsors.", n=sent), "success")
    return redirect(url_for("matching.run", run_id=match_run.id))


@bp.route("/matching/<int:run_id>/discard", methods=["POST"])
def discard(run_id: int):
    match_run = db.get_or_404(MatchRun, run_id)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return redirect(url_for("matching.run", run_id=match_run.id))
    try:
        matching.discard(current_user, match_run)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash(_("Proposal discarded."), "success")
    return redirect(url_for("matching.index"))


# the sponsor's side ---------------------------------------------------------------------------------------------------


def _render_offers(forms: dict[int, FlaskForm] | None = None, status: int = 200):
    offers = matching.sponsor_offers(current_user.sponsor_id) if current_user.sponsor_id else []
    forms = forms or {}
    return (
        render_template(
            "matching/offers.html",
            offers=offers,
            confirm_form=ConfirmForm(),
            forms={
                o.offer_id: forms.get(o.offer_id) or ReasonForm(formdata=None, prefix=f"o{o.offer_id}") for o in offers
            },
            reason_sentence=matching.explain,
        ),
        status,
    )


@bp.route("/offers/")
def offers():
    return _render_offers()


@bp.route("/offers/<int:offer_id>/accept", methods=["POST"])
def accept(offer_id: int):
    offer = get_offer_or_404(offer_id)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return redirect(url_for("matching.offers"))
    try:
        matching.accept_offer(current_user, offer)
    except Conflict as exc:
        db.session.commit()  # a refused acceptance lapses the offer (its post went elsewhere): that is kept
        flash(exc.message, "danger")
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash(_("Offer accepted: the post is claimed for your organisation."), "success")
    return redirect(url_for("matching.offers"))


@bp.route("/offers/<int:offer_id>/decline", methods=["POST"])
def decline(offer_id: int):
    offer = get_offer_or_404(offer_id)
    form = ReasonForm(prefix=f"o{offer.id}")
    if form.validate_on_submit():
        try:
            matching.decline_offer(current_user, offer, form.reason.data)
        except Conflict as exc:
            db.session.rollback()
            flash(exc.message, "danger")
            return redirect(url_for("matching.offers"))
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Offer declined."), "success")
            return redirect(url_for("matching.offers"))
    return _render_offers({offer.id: form}, 422)
