"""Pages for family files: load and authorise → validate → operation → commit once → redirect or render."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from assist.assessments import operations as assessments
from assist.assessments.models import Assessment
from assist.db_types import local_today
from assist.errors import DomainError
from assist.extensions import db
from assist.families import operations
from assist.families.forms import (
    ConfirmForm,
    ConsentForm,
    FamilyEditForm,
    FamilyForm,
    FilterForm,
    IncomeForm,
    MemberForm,
    ReasonForm,
)
from assist.families.models import Family, Income
from assist.forms import apply_errors
from assist.paging import paginate_rows
from assist.permissions import get_family_or_404, get_member_or_404, scoped_areas

bp = Blueprint("families", __name__, url_prefix="/families")


def _area_choices():
    return [(a.id, ("\u3000" * max(a.depth - 1, 0)) + f"{a.name} ({a.code})") for a in scoped_areas()]


@bp.route("/")
def index():
    form = FilterForm(request.args)
    areas = scoped_areas()
    form.area.choices = [("", _("All my areas"))] + [(a.code, ("\u3000" * a.depth) + a.name) for a in areas]
    if not form.validate():
        # a filter that does not parse is ignored, not an error page
        for field in form:
            if field.errors:
                field.data = None
    page = request.args.get("page", 1, type=int)
    stmt = operations.family_query(
        current_user,
        colour=form.colour.data or None,
        # an area outside the user's scope is not ignored: it finds nothing (the query is scoped)
        area_code=(request.args.get("area") or "")[:20] or None,
        category=form.category.data or None,
        status=None if form.status.data == "all" else (form.status.data or "active"),
        overdue=bool(form.overdue.data),
        exit_candidates=bool(form.exit.data),
        q=form.q.data,
        sort=form.sort.data or "review",
        area_paths={a.code: a.path for a in areas},
    ).with_only_columns(*operations.LIST_COLUMNS)
    pagination = paginate_rows(stmt, page=max(1, min(page, 100_000)), per_page=25)
    return render_template(
        "families/index.html",
        form=form,
        pagination=pagination,
        # every listed family lies in the user's scope, so its area is one of those just loaded for the filter
        area_names={a.id: a.name for a in areas},
        today=local_today(),
    )


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = FamilyForm()
    form.area_id.choices = _area_choices()
    if form.validate_on_submit():
        data = {k: v for k, v in form.data.items() if k != "csrf_token"}
        try:
            family = operations.create_family(current_user, data)
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc, {"area_code": "area_id"})
        else:
            db.session.commit()
            flash(_("Family file created and assessed."), "success")
            return redirect(url_for("families.view", family_id=family.id))
    status = 422 if request.method == "POST" else 200
    return render_template("families/form.html", form=form, family=None), status


@bp.route("/<int:family_id>")
def view(family_id: int):
    family = get_family_or_404(family_id)
    return _render_view(family)


def _render_view(family: Family, revealed: dict[int, str] | None = None, status: int = 200, **forms):
    latest = db.session.scalar(
        select(Assessment)
        .where(Assessment.family_id == family.id)
        .order_by(Assessment.assessed_at.desc(), Assessment.id.desc())
        .limit(1)
    )
    incomes = list(
        db.session.scalars(select(Income).where(Income.family_id == family.id).order_by(Income.month.desc()).limit(12))
    )
    history = assessments.colour_history(family)
    from assist.posts.models import Post

    family_posts = list(db.session.scalars(select(Post).where(Post.family_id == family.id).order_by(Post.id.desc())))
    return (
        render_template(
            "families/view.html",
            family=family,
            latest=latest,
            incomes=incomes,
            history=history,
            posts=family_posts,
            revealed=revealed or {},
            income_form=forms.get("income_form") or IncomeForm(formdata=None),
            confirm_form=ConfirmForm(),
            reason_form=forms.get("reason_form") or ReasonForm(formdata=None),
            today=local_today(),
        ),
        status,
    )


@bp.route("/<int:family_id>/edit", methods=["GET", "POST"])
def edit(family_id: int):
    family = get_family_or_404(family_id)
    form = FamilyEditForm(obj=family)
    form.area_id.choices = _area_choices()
    if form.validate_on_submit():
        data = {k: v for k, v in form.data.items() if k != "csrf_token"}
        try:
            operations.update_family(current_user, family, data)
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc, {"area_code": "area_id"})
        else:
            db.session.commit()
            flash(_("Changes saved."), "success")
            return redirect(url_for("families.view", family_id=family.id))
    status = 422 if request.method == "POST" else 200
    return render_template("families/edit.html", form=form, family=family), status


@bp.route("/<int:family_id>/members/new", methods=["GET", "POST"])
def add_member(family_id: int):
    family = get_family_or_404(family_id)
    form = MemberForm()
    if form.validate_on_submit():
        try:
            operations.add_member(current_user, family, {k: v for k, v in form.data.items() if k != "csrf_token"})
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Member added. Run a new assessment when the family's situation has changed."), "success")
            return redirect(url_for("families.view", family_id=family.id))
    status = 422 if request.method == "POST" else 200
    return render_template("families/member_form.html", form=form, family=family, member=None), status


@bp.route("/<int:family_id>/members/<int:member_id>/edit", methods=["GET", "POST"])
def edit_member(family_id: int, member_id: int):
    family = get_family_or_404(family_id)
    member = get_member_or_404(family, member_id)
    form = MemberForm(obj=member)
    if request.method == "GET":
        form.id_number.data = ""
    if form.validate_on_submit():
        try:
            operations.update_member(current_user, member, {k: v for k, v in form.data.items() if k != "csrf_token"})
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Changes saved."), "success")
            return redirect(url_for("families.view", family_id=family.id))
    status = 422 if request.method == "POST" else 200
    return render_template("families/member_form.html", form=form, family=family, member=member), status


@bp.route("/<int:family_id>/members/<int:member_id>/remove", methods=["POST"])
def remove_member(family_id: int, member_id: int):
    family = get_family_or_404(family_id)
    member = get_member_or_404(family, member_id)
    try:
        operations.remove_member(current_user, member)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash(_("Member removed from the file."), "success")
    return redirect(url_for("families.view", family_id=family.id))


@bp.route("/<int:family_id>/members/<int:member_id>/reveal", methods=["POST"])
def reveal_id(family_id: int, member_id: int):
    family = get_family_or_404(family_id)
    member = get_member_or_404(family, member_id)
    plain = operations.reveal_id_number(current_user, member)
    db.session.commit()
    return _render_view(family, revealed={member.id: plain})


@bp.route("/<int:family_id>/incomes", methods=["POST"])
def incomes(family_id: int):
    family = get_family_or_404(family_id)
    form = IncomeForm()
    if form.validate_on_submit():
        try:
            _row, created = operations.record_income(
                current_user,
                family,
                form.month.data,
                form.amount_fen.data,
                form.medical_fen.data or 0,
                form.education_fen.data or 0,
            )
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Income recorded.") if created else _("Income for that month corrected."), "success")
            return redirect(url_for("families.view", family_id=family.id) + "#incomes")
    return _render_view(family, income_form=form, status=422)


@bp.route("/<int:family_id>/consent", methods=["GET", "POST"])
def consent(family_id: int):
    family = get_family_or_404(family_id)
    form = ConsentForm(obj=family)
    if form.validate_on_submit():
        try:
            operations.record_consent(current_user, family, form.consent_on.data, form.consent_scope.data)
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Consent recorded."), "success")
            return redirect(url_for("families.view", family_id=family.id))
    status = 422 if request.method == "POST" else 200
    return render_template("families/consent.html", form=form, family=family), status


@bp.route("/<int:family_id>/close", methods=["POST"])
def close(family_id: int):
    family = get_family_or_404(family_id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            operations.close_family(current_user, family, form.reason.data)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(_("File closed."), "success")
        return redirect(url_for("families.view", family_id=family.id))
    return _render_view(family, reason_form=form, status=422)


@bp.route("/<int:family_id>/exit", methods=["POST"])
def confirm_exit(family_id: int):
    family = get_family_or_404(family_id)
    if ConfirmForm().validate_on_submit():
        try:
            assessments.confirm_exit(current_user, family)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(_("Exit from hardship confirmed."), "success")
    return redirect(url_for("families.view", family_id=family.id))


@bp.route("/<int:family_id>/return", methods=["POST"])
def return_to_hardship(family_id: int):
    family = get_family_or_404(family_id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            assessments.return_to_hardship(current_user, family, form.reason.data)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(_("The family is back in hardship and has been reassessed."), "success")
        return redirect(url_for("families.view", family_id=family.id))
    return _render_view(family, reason_form=form, status=422)
