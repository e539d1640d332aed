"""The admin's view of the audit log, filterable by who, what and when."""

from datetime import UTC, datetime, time, timedelta

from flask import Blueprint, render_template, request
from sqlalchemy import select

from assist.audit import labels
from assist.audit.models import AuditEntry
from assist.extensions import db

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")
bp.add_app_template_filter(labels.action_label, "action_label")
bp.add_app_template_filter(labels.entity_label, "entity_label")


def _day(text: str | None):
    try:
        return datetime.strptime(text or "", "%Y-%m-%d").date()
    except ValueError:
        return None


@bp.route("/")
def index():
    args = request.args
    stmt = select(AuditEntry)
    actor = (args.get("actor") or "").strip()[:60]
    entity = (args.get("entity") or "").strip()[:40]
    action = (args.get("action") or "").strip()[:40]
    family = args.get("family", type=int)
    since, until = _day(args.get("since")), _day(args.get("until"))
    if actor:
        stmt = stmt.where(AuditEntry.actor_name == actor)
    if entity:
        stmt = stmt.where(AuditEntry.entity_type == entity)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if family and family < 2**31:
        stmt = stmt.where(AuditEntry.family_id == family)
    # dates are typed in Shanghai time; the log is kept in UTC
    shanghai = timedelta(hours=8)
    if since:
        stmt = stmt.where(AuditEntry.at >= datetime.combine(since, time(), UTC) - shanghai)
    if until:
        stmt = stmt.where(AuditEntry.at < datetime.combine(until + timedelta(days=1), time(), UTC) - shanghai)
    page = request.args.get("page", 1, type=int)
    pagination = db.paginate(
        stmt.order_by(AuditEntry.id.desc()), page=max(1, min(page, 100_000)), per_page=50, error_out=False
    )
    return render_template(
        "audit/index.html",
        pagination=pagination,
        actions=labels.ACTIONS,
        entities=labels.FILTERABLE,
        field_changes=labels.field_changes,
        filters={
            "actor": actor,
            "entity": entity,
            "action": action,
            "family": family or "",
            "since": args.get("since", ""),
            "until": args.get("until", ""),
        },
    )
