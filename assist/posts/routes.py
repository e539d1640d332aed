"""Pages for virtual posts (虚拟岗位) for caseworkers and admins: list, create from a member, view with history and
the allowed transitions, edit while draft or open."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from assist.agreements import operations as agreements
from assist.agreements.models import Agreement
from assist.enums import Colour, PostStatus
from assist.errors import DomainError
from assist.extensions import db
from assist.forms import apply_errors
from assist.permissions import get_family_or_404, get_member_or_404, get_post_or_404, scoped_areas
from assist.posts import operations
from assist.posts.forms import ConfirmForm, PostFilterForm, PostForm, ReasonForm, ResumeForm, SuspendForm
from assist.posts.listing import post_query
from assist.posts.models import Post
from assist.settings.operations import get_settings

bp = Blueprint("posts", __name__, url_prefix="/posts")

#: the transitions staff take from the post's page (the others happen by claim, agreement or schedule)
STAFF_ACTIONS = ("publish", "unpublish", "cancel", "release", "suspend", "resume")


@bp.route("/")
def index():
    form = PostFilterForm(request.args)
    form.area.choices = [("", _("All my areas"))] + [(a.code, ("\u3000" * a.depth) + a.name) for a in scoped_areas()]
    if not form.validate():
        for field in form:
            if field.errors:
                field.data = None
    stmt = post_query(
        current_user,
        status=PostStatus(form.status.data) if form.status.data else None,
        colour=Colour(form.colour.data) if form.colour.data else None,
        area_code=(request.args.get("area") or "")[:20] or None,
        sort=form.sort.data or "newest",
    ).options(selectinload(Post.area), selectinload(Post.member), selectinload(Post.sponsor))
    page = request.args.get("page", 1, type=int)
    pagination = db.paginate(stmt, page=max(1, min(page, 100_000)), per_page=25, error_out=False)
    rank_colour = {rank: colour.value for colour, rank in operations.COLOUR_RANK.items()}
    return render_template("posts/index.html", form=form, pagination=pagination, rank_colour=rank_colour)


def _terms(form: PostForm) -> dict:
    return {name: getattr(form, name).data for name in operations.POST_FIELDS}


@bp.route("/new/<int:family_id>/<int:member_id>", methods=["GET", "POST"])
def new(family_id: int, member_id: int):
    family = get_family_or_404(family_id)
    member = get_member_or_404(family, member_id)
    form = PostForm()
    if request.method == "GET":
        settings = get_settings()
        form.hours_per_month.data = 20
        form.monthly_amount_fen.data = settings["post_amount_default_fen"]
        form.term_months.data = settings["post_term_months"]
    if form.validate_on_submit():
        try:
            post = operations.create_post(current_user, member, _terms(form))
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Post created as a draft. Publish it to put it on the sponsors' market."), "success")
            return redirect(url_for("posts.view", post_id=post.id))
    status = 422 if request.method == "POST" else 200
    return render_template("posts/form.html", form=form, family=family, member=member, post=None), status


def _render_view(post: Post, status: int = 200, **forms):
    post_agreements = list(
        db.session.scalars(select(Agreement).where(Agreement.post_id == post.id).order_by(Agreement.start_on.desc()))
    )
    actions = [a for a in operations.allowed_actions(post) if a in STAFF_ACTIONS]
    return (
        render_template(
            "posts/view.html",
            post=post,
            actions=actions,
            labels=operations.ACTION_LABELS,
            agreements=post_agreements,
            has_pending=any(a.status.value in ("draft", "signed", "active") for a in post_agreements),
            confirm_form=ConfirmForm(),
            cancel_form=forms.get("cancel_form") or ReasonForm(formdata=None, prefix="cancel"),
            release_form=forms.get("release_form") or ReasonForm(formdata=None, prefix="release"),
            suspend_form=forms.get("suspend_form") or SuspendForm(formdata=None),
            resume_form=forms.get("resume_form") or ResumeForm(formdata=None),
        ),
        status,
    )


@bp.route("/<int:post_id>")
def view(post_id: int):
    return _render_view(get_post_or_404(post_id))


@bp.route("/<int:post_id>/edit", methods=["GET", "POST"])
def edit(post_id: int):
    post = get_post_or_404(post_id)
    form = PostForm(obj=post)
    if form.validate_on_submit():
        try:
            operations.update_post(current_user, post, _terms(form))
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Changes saved."), "success")
            return redirect(url_for("posts.view", post_id=post.id))
    status = 422 if request.method == "POST" else 200
    return (
        render_template("posts/form.html", form=form, family=post.family, member=post.member, post=post),
        status,
    )


def _done(post: Post, call, message: str):
    """Run a transition without input; a refusal is a message on the post's page."""
    try:
        call()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(url_for("posts.view", post_id=post.id))


@bp.route("/<int:post_id>/publish", methods=["POST"])
def publish(post_id: int):
    post = get_post_or_404(post_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("posts.view", post_id=post.id))
    return _done(post, lambda: operations.publish_post(current_user, post), _("Published to the sponsors' market."))


@bp.route("/<int:post_id>/unpublish", methods=["POST"])
def unpublish(post_id: int):
    post = get_post_or_404(post_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("posts.view", post_id=post.id))
    return _done(post, lambda: operations.unpublish_post(current_user, post), _("Taken back to draft."))


def _with_form(post: Post, form, name: str, call, message: str):
    """Run a transition that needs input; bad input is shown beside the field on the post's page."""
    if form.validate_on_submit():
        try:
            call(form)
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("posts.view", post_id=post.id))
    return _render_view(post, status=422, **{name: form})


@bp.route("/<int:post_id>/cancel", methods=["POST"])
def cancel(post_id: int):
    post = get_post_or_404(post_id)
    return _with_form(
        post,
        ReasonForm(prefix="cancel"),
        "cancel_form",
        lambda f: operations.cancel_post(current_user, post, f.reason.data),
        _("Post cancelled."),
    )


@bp.route("/<int:post_id>/release", methods=["POST"])
def release(post_id: int):
    post = get_post_or_404(post_id)
    return _with_form(
        post,
        ReasonForm(prefix="release"),
        "release_form",
        lambda f: operations.release_claim(current_user, post, f.reason.data),
        _("Claim released: the post is back on the market."),
    )


@bp.route("/<int:post_id>/suspend", methods=["POST"])
def suspend(post_id: int):
    post = get_post_or_404(post_id)
    return _with_form(
        post,
        SuspendForm(),
        "suspend_form",
        lambda f: agreements.suspend_post(current_user, post, f.start_on.data, f.reason.data),
        _("Post suspended."),
    )


@bp.route("/<int:post_id>/resume", methods=["POST"])
def resume(post_id: int):
    post = get_post_or_404(post_id)
    return _with_form(
        post,
        ResumeForm(),
        "resume_form",
        lambda f: agreements.resume_post(current_user, post, f.resume_on.data),
        _("Post resumed."),
    )
