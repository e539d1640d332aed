"""The landing page, the locale switch and a health check."""

from datetime import date

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import func, select

from assist.enums import FamilyStatus, Role
from assist.extensions import db
from assist.families.models import Family
from assist.i18n import safe_next
from assist.permissions import scope_filter

bp = Blueprint("main", __name__)


@bp.route("/")
def index():
    if current_user.role not in (Role.ADMIN, Role.CASEWORKER):
        return render_template("main/index_other.html")
    scoped = (Family.status == FamilyStatus.ACTIVE) & scope_filter(Family.area_id)
    by_colour = dict(
        db.session.execute(select(Family.colour, func.count()).where(scoped).group_by(Family.colour)).all()
    )
    by_type = dict(
        db.session.execute(select(Family.primary_type, func.count()).where(scoped).group_by(Family.primary_type)).all()
    )
    overdue = db.session.scalar(select(func.count()).where(scoped, Family.next_review_on < date.today()))
    exit_candidates = db.session.scalar(select(func.count()).where(scoped, Family.exit_flagged_on.is_not(None)))
    return render_template(
        "main/index.html",
        by_colour=by_colour,
        by_type=by_type,
        total=sum(by_colour.values()),
        overdue=overdue,
        exit_candidates=exit_candidates,
    )


@bp.route("/locale/<code>")
def set_locale(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["locale"] = code
        if current_user.is_authenticated and current_user.locale != code:
            current_user.locale = code
            db.session.commit()
    return redirect(safe_next(request.args.get("next"), url_for("main.index")))


@bp.route("/healthz")
def healthz():
    db.session.execute(select(1))
    return {"status": "ok"}
