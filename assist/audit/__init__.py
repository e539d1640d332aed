"""Recording changes in the append-only audit log."""

from datetime import date, datetime
from enum import Enum
from typing import Any

import orjson
from flask import has_request_context, request


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def snapshot(obj: Any, fields: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The named attributes of ``obj`` as JSON-ready values, for before/after."""
    return {name: _plain(getattr(obj, name)) for name in fields}


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose values differ, from both sides."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def entry(
    actor,
    action: str,
    entity_type: str,
    entity_id: Any = "",
    *,
    before: Any = None,
    after: Any = None,
    family_id: int | None = None,
    summary: str = "",
    at: datetime | None = None,
    address: str | None = None,
    encoded: bool = False,
) -> dict[str, Any]:
    """The column values of one entry as the log stores them: what :func:`record` adds, for a writer that inserts many
    at once. Before and after JSON-ready, or with ``encoded`` JSON text (orjson writes enums and dates as
    :func:`_plain` gives them, in a fraction of the time). ``address`` defaults to the request's."""
    from assist.db_types import utcnow

    if address is None:
        address = request_address()
    if encoded:
        before, after = orjson.dumps(before).decode(), orjson.dumps(after).decode()
    else:
        before, after = _plain(before), _plain(after)
    return {
        "at": at or utcnow(),
        "actor_id": getattr(actor, "id", None),
        "actor_name": (getattr(actor, "username", None) or "system")[:60],
        "action": action,
        "entity_type": entity_type,
        "entity_id": str(entity_id or "")[:40],
        "family_id": family_id,
        "summary": summary[:255],
        "before": before,
        "after": after,
        "address": address[:64],
    }


def request_address() -> str:
    """The address the current request came from ("" outside a request)."""
    if has_request_context():
        return (request.remote_addr or "")[:64]
    return ""


def record(
    actor,
    action: str,
    entity_type: str,
    entity_id: Any = "",
    *,
    before: Any = None,
    after: Any = None,
    family_id: int | None = None,
    summary: str = "",
) -> None:
    """Append one entry (in the caller's transaction: it lands exactly when the change does)."""
    from assist.audit.models import AuditEntry
    from assist.extensions import db

    db.session.add(
        AuditEntry(
            **entry(
                actor,
                action,
                entity_type,
                entity_id,
                before=before,
                after=after,
                family_id=family_id,
                summary=summary,
            )
        )
    )
