"""The admin's pages: users, areas and settings."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import or_, select

from assist.admin.forms import SettingsForm
from assist.areas import operations as areas
from assist.auth import operations as accounts
from assist.auth.forms import UserForm
from assist.auth.models import User
from assist.enums import RunStatus
from assist.errors import DomainError
from assist.extensions import db
from assist.forms import apply_errors

# identification (issue 5)
from assist.identification.forms import fill_screening, screening_values
from assist.schedule import operations as schedule
from assist.schedule.models import JobRun
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


#: the virtual-post and stipend settings on the same page
POST_SETTINGS = (
    "post_amount_min_fen",
    "post_amount_default_fen",
    "post_amount_max_fen",
    "post_term_months",
    "family_post_limit",
    "claim_days",
    "offer_days",
    "union_name",
    # stipends (issue 4)
    "payment_due_day",
)


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
            *POST_SETTINGS,
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
            **{key: getattr(form, key).data for key in POST_SETTINGS},
        }
        values["union_name"] = values["union_name"].strip()
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


JOB_TITLES = {
    "stipend-generation": _l("Stipend generation"),
    "reminders": _l("Reminders"),
    "database-statistics": _l("Database statistics"),
    "exit-candidates": _l("Exit candidates"),
    "claim-expiry": _l("Expiry of unsigned claims"),
    "agreement-advance": _l("Agreement start and end dates"),
    "worker-imports": _l("Worker imports"),
    "import-originals": _l("Deleting old import files"),
}


#: what a run's counts count, in the reader's words (a count not named here shows its code)
COUNT_LABELS = {
    "months": _l("months"),
    "created": _l("records created"),
    "existing": _l("records already there"),
    "review_due": _l("review reminders"),
    "agreement_ending": _l("agreement-ending reminders"),
    "payment_unpaid": _l("unpaid-payment reminders"),
    "emailed": _l("e-mails sent"),
    "flagged": _l("families flagged"),
    "ran": _l("tables analysed"),
    "expired": _l("claims and offers expired"),
    "activated": _l("agreements started"),
    "ended": _l("agreements ended"),
    "imports": _l("imports worked"),
    "login_attempts": _l("old login attempts removed"),
    "expired_tokens": _l("expired tokens removed"),
    "deleted": _l("old import files deleted"),
}


def count_label(key: str) -> str:
    return str(COUNT_LABELS.get(key, key))


def describe_schedule(job) -> str:
    """A job's calendar in words, in the page's language (Asia/Shanghai time)."""
    args = job.args
    at = f"{args.get('hour', 0):02d}:{args.get('minute', 0):02d}"
    if job.trigger == "cron" and "day" in args:
        return _("Monthly on day %(day)s at %(at)s", day=args["day"], at=at)
    if job.trigger == "cron" and "day_of_week" in args:
        return _("Weekly (%(days)s) at %(at)s", days=args["day_of_week"], at=at)
    if job.trigger == "cron":
        return _("Daily at %(at)s", at=at)
    if job.trigger == "interval":
        return _("Every %(n)s minutes", n=args.get("minutes", 0))
    return job.trigger


@bp.route("/jobs")
def jobs():
    from jobs import JOBS

    page = request.args.get("page", 1, type=int)
    latest = schedule.last_runs([job.id for job in JOBS])
    # a job every few minutes (the import queue) would fill the list with runs that found nothing to do: by default
    # the list shows the other jobs' runs and that job's failures; ?job=all shows every run, ?job=<id> one job's
    frequent = [job.id for job in JOBS if job.trigger == "interval"]
    shown = request.args.get("job", "")
    stmt = select(JobRun)
    if shown in {job.id for job in JOBS}:
        stmt = stmt.where(JobRun.job_id == shown)
    elif shown != "all":
        shown = ""
        stmt = stmt.where(or_(JobRun.job_id.not_in(frequent), JobRun.status == RunStatus.FAILED))
    runs = db.paginate(
        stmt.order_by(JobRun.requested_at.desc(), JobRun.id.desc()),
        page=max(1, min(page, 100_000)),
        per_page=30,
        error_out=False,
    )
    titles = {job.id: str(JOB_TITLES.get(job.id, job.id)) for job in JOBS}
    return render_template(
        "admin/jobs.html",
        jobs=JOBS,
        latest=latest,
        runs=runs,
        titles=titles,
        describe=describe_schedule,
        count_label=count_label,
        shown=shown,
        frequent=[titles[job_id] for job_id in frequent],
    )


@bp.route("/jobs/<job_id>/run", methods=["POST"])
def run_job(job_id: str):
    from jobs import JOBS

    try:
        schedule.request_run(current_user, job_id, {job.id for job in JOBS})
    except DomainError as exc:
        db.session.rollback()
        if exc.status == 422:
            abort(404)
        flash(exc.message, "warning")
    else:
        db.session.commit()
        flash(_("The job will run within a few seconds (the scheduler process picks it up)."), "success")
    return redirect(url_for("admin.jobs"))
