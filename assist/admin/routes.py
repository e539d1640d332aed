"""The admin's pages: users, areas and settings."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from assist.admin.forms import SettingsForm
from assist.areas import operations as areas
from assist.auth import operations as accounts
from assist.auth.forms import UserForm
from assist.auth.models import User
from assist.errors import DomainError
from assist.extensions import db
from assist.forms import apply_errors

# identification (issue 5)
from assist.identification.forms import fill_screening, screening_values
from assist.settings.operations import FACTORS, get_settings, update_settings

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _area_choices():
    return [(a.code, ("\u3000" * a.depth) + f"{a.name} ({a.code})") for a in areas.all_areas()]


@bp.route("/users")
def users():
    page = request.args.get("page", 1, type=int)
    role = request.args.get("role", "")
    stmt = select(User).order_by(User.role, User.username)
    if role in ("admin", "caseworker", "sponsor", "provider"):
        stmt = stmt.where(User.role == role)
    pagination = db.paginate(stmt, page=max(1, min(page, 100_000)), per_page=50, error_out=False)
    return render_template("admin/users.html", pagination=pagination, role=role)


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    form = UserForm()
    form.areas.choices = _area_choices()
    if form.validate_on_submit():
        if not form.password.data:
            form.password.errors = [_("Set a first password (at least 8 characters).")]
        else:
            try:
                user = accounts.create_user(
                    current_user,
                    form.username.data,
                    form.password.data,
                    form.role.data,
                    display_name=form.display_name.data or "",
                    area_codes=form.areas.data or [],
                )
            except DomainError as exc:
                db.session.rollback()
                apply_errors(form, exc)
            else:
                db.session.commit()
                flash(_("User %(name)s created.", name=user.username), "success")
                return redirect(url_for("admin.users"))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/user_form.html", form=form, user=None), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int):
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    form = UserForm(obj=user)
    form.areas.choices = _area_choices()
    if request.method == "GET":
        form.areas.data = [a.code for a in user.areas]
    form.username.data = user.username
    if form.validate_on_submit():
        try:
            accounts.update_user(
                current_user,
                user,
                display_name=form.display_name.data or "",
                role=form.role.data,
                active=form.active.data,
                area_codes=form.areas.data or [],
                password=form.password.data or None,
            )
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Changes saved."), "success")
            return redirect(url_for("admin.users"))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/user_form.html", form=form, user=user), status


def areas_page():
    from assist.admin.forms import AreaForm

    form = AreaForm()
    form.parent_code.choices = [("", _("None (a top-level area)")), *_area_choices()]
    if form.validate_on_submit():
        try:
            areas.create_area(current_user, form.code.data, form.name.data, form.parent_code.data or None)
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Area added."), "success")
            return redirect(url_for("admin.areas"))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/areas.html", form=form, areas=areas.all_areas()), status


bp.add_url_rule("/areas", endpoint="areas", view_func=areas_page, methods=["GET", "POST"])


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    current = get_settings()
    form = SettingsForm()
    if request.method == "GET":
        form.min_living_line_fen.data = current["min_living_line_fen"]
        for key in (
            "red_threshold",
            "yellow_threshold",
            "hard_trigger_income_no_work",
            "hard_trigger_accident",
            "accident_months",
            "exit_months",
        ):
            getattr(form, key).data = current[key]
        for colour in ("red", "yellow", "green"):
            getattr(form, f"review_{colour}").data = current["review_days"][colour]
        for name in FACTORS:
            getattr(form, f"weight_{name}").data = current["weights"][name]
        # identification (issue 5)
        fill_screening(form, current["screening"])
    if form.validate_on_submit():
        values = {
            "min_living_line_fen": form.min_living_line_fen.data,
            "red_threshold": form.red_threshold.data,
            "yellow_threshold": form.yellow_threshold.data,
            "hard_trigger_income_no_work": bool(form.hard_trigger_income_no_work.data),
            "hard_trigger_accident": bool(form.hard_trigger_accident.data),
            "accident_months": form.accident_months.data,
            "exit_months": form.exit_months.data,
            "review_days": {c: getattr(form, f"review_{c}").data for c in ("red", "yellow", "green")},
            "weights": {name: getattr(form, f"weight_{name}").data for name in FACTORS},
        }
        # identification (issue 5)
        values["screening"] = screening_values(form, current["screening"])
        try:
            update_settings(current_user, values)
        except DomainError as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Settings saved. They apply to assessments from now on."), "success")
            return redirect(url_for("admin.settings"))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/settings.html", form=form, factors=FACTORS), status
