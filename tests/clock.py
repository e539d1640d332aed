"""Setting the app's one clock in a test (see assist.db_types): tests set the time, never read the machine's."""

from datetime import UTC, datetime

from assist import db_types


def freeze(monkeypatch, at: datetime | str) -> datetime:
    """Stop the app's clock at ``at`` (an aware datetime, or "YYYY-MM-DD HH:MM[:SS]" in UTC) for this test: utcnow(),
    local_today() and every timestamp a model writes read it. Returns the moment."""
    if isinstance(at, str):
        at = datetime.fromisoformat(at).replace(tzinfo=UTC)
    if at.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime (or a UTC string)")
    monkeypatch.setattr(db_types, "_now", lambda: at)
    return at
