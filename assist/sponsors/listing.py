"""The admin's list of sponsors: filtered, searched and counted by status."""

from sqlalchemy import Select, func, or_, select

from assist.enums import SponsorStatus
from assist.extensions import db
from assist.sponsors.models import Sponsor


def sponsor_query(status: SponsorStatus | None = None, q: str | None = None) -> Select:
    """Sponsors, newest registration first, optionally of one status and matching a name or credit code."""
    stmt = select(Sponsor)
    if status is not None:
        stmt = stmt.where(Sponsor.status == status)
    q = (q or "").strip()
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(Sponsor.name.like(pattern, escape="\\"), Sponsor.credit_code.like(pattern.upper(), escape="\\"))
        )
    return stmt.order_by(Sponsor.created_at.desc(), Sponsor.id.desc())


def status_counts() -> dict[str, int]:
    """How many sponsors are in each status (by the status's value)."""
    rows = db.session.execute(select(Sponsor.status, func.count()).group_by(Sponsor.status))
    return {SponsorStatus(status).value: n for status, n in rows}
