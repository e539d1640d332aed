"""Column types shared by the models, and the app's one clock (utcnow, local_today)."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, inspect
from sqlalchemy.types import TypeDecorator

SHANGHAI = ZoneInfo("Asia/Shanghai")


class UTCDateTime(TypeDecorator):
    """A timestamp stored as naive UTC and always returned timezone-aware (UTC), on SQLite and PostgreSQL alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


# The one clock. Every date and time the app uses comes from _now: utcnow() for timestamps, local_today() for the
# scheme's dates (Shanghai's, not the machine's: between 00:00 and 08:00 in Shanghai the UTC date is still
# yesterday). Nothing else reads the machine's clock (tests/test_clock.py checks), so a test sets the time by
# replacing _now alone (tests.clock.freeze).


def _now() -> datetime:
    return datetime.now(UTC)


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return _now()


def local_today() -> date:
    """Today's date where the scheme runs (Asia/Shanghai), whatever the server's own time zone."""
    return _now().astimezone(SHANGHAI).date()


def loaded_repr(row, *names: str) -> str:
    """``<Class a b>`` from the attributes already loaded: a repr never queries, and never fails on a detached or
    expired row (a test framework printing a failing example, a log line after the session closed)."""
    values = inspect(row).dict
    return f"<{type(row).__name__} {' '.join(str(values.get(name, '?')) for name in names)}>"
