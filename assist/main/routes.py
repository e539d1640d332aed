"""The landing page, the locale switch and a health check."""

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import select

from assist.enums import Role
from assist.extensions import db
from assist.i18n import safe_next
from assist.reports import operations as reports

bp = Blueprint("main", __name__)


@bp.route("/")
def index():
    """The landing page: the dashboard for staff (scoped to a caseworker's areas), a summary for a sponsor."""
    if current_user.role == Role.SPONSOR:
        return render_template("main/index_sponsor.html", s=reports.sponsor_summary(current_user))
    if current_user.role not in (Role.ADMIN, Role.CASEWORKER):
        return render_template("main/index_other.html")
    return render_template("main/index.html", d=reports.dashboard(current_user))


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
