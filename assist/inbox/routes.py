"""The inbox (消息): reminders for the logged-in user."""

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from assist.extensions import db
from assist.inbox import operations
from assist.inbox.models import Notification

bp = Blueprint("inbox", __name__, url_prefix="/inbox")


@bp.route("/")
def index():
    page = request.args.get("page", 1, type=int)
    unread_only = request.args.get("unread") == "1"
    pagination = db.paginate(
        operations.inbox_query(current_user, unread_only),
        page=max(1, min(page, 100_000)),
        per_page=operations.PAGE_SIZE,
        error_out=False,
    )
    return render_template("inbox/index.html", pagination=pagination, unread_only=unread_only, render=operations.render)


@bp.route("/<int:notification_id>/open", methods=["POST"])
def open_notification(notification_id: int):
    """Mark it read and go where it points (only within the app)."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != current_user.id:
        from flask import abort

        abort(404)
    operations.mark_read(current_user, notification.id)
    db.session.commit()
    link = notification.link
    parts = urlsplit(link)
    if not link.startswith("/") or link.startswith("//") or parts.scheme or parts.netloc:
        link = url_for("inbox.index")
    return redirect(link)


@bp.route("/read-all", methods=["POST"])
def read_all():
    operations.mark_read(current_user)
    db.session.commit()
    return redirect(url_for("inbox.index"))
