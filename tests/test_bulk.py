"""Set-based writes store exactly what SQLAlchemy's own INSERT stores, on SQLite and PostgreSQL."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Boolean, Column, Date, Integer, MetaData, String, Table, Text, insert, select

from assist import bulk
from assist.db_types import UTCDateTime
from assist.extensions import db

meta = MetaData()
COLUMNS = (
    Column("n", Integer),
    Column("word", String(40)),
    Column("note", Text),
    Column("day", Date),
    Column("flag", Boolean),
    Column("at", UTCDateTime),
)
written = Table("bulk_written", meta, *[c.copy() for c in COLUMNS])
expected = Table("bulk_expected", meta, *[c.copy() for c in COLUMNS])
NAMES = tuple(c.name for c in COLUMNS)


def _rows(n: int) -> list[tuple]:
    at = datetime(2025, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
    return [
        (
            i,
            "王" * (i % 5) + "\t\n\\'\"",  # characters COPY and SQL must escape
            None if i % 7 == 0 else f"note {i}",
            date(1960 + i % 40, 1 + i % 12, 1 + i % 28),
            i % 2 == 0,
            None if i % 3 == 0 else at,
        )
        for i in range(n)
    ]


@pytest.fixture
def tables(app):
    meta.create_all(db.engine)
    yield
    db.session.rollback()
    meta.drop_all(db.engine)


@pytest.mark.parametrize("n", [1, 7, 8, 23])
def test_insert_values_stores_what_an_insert_stores(app, tables, monkeypatch, n):
    # groups of three rows to a statement on SQLite: full groups, a short last one, or a single row
    monkeypatch.setattr(bulk, "_SQLITE_VARIABLES", 3 * len(NAMES))
    rows = _rows(n)
    connection = db.session.connection()
    bulk.insert_values(connection, written, NAMES, rows)
    connection.execute(insert(expected), [dict(zip(NAMES, r, strict=True)) for r in rows])
    got = connection.execute(select(written).order_by(written.c.n)).all()
    want = connection.execute(select(expected).order_by(expected.c.n)).all()
    assert got == want and len(got) == n
    # and read back through the raw driver, the stored forms are the same too
    raw = connection.exec_driver_sql("SELECT * FROM bulk_written ORDER BY n").all()
    assert raw == connection.exec_driver_sql("SELECT * FROM bulk_expected ORDER BY n").all()


def test_nothing_to_insert_sends_nothing(app, tables):
    bulk.insert_values(db.session.connection(), written, NAMES, [])
    assert db.session.execute(select(written)).all() == []
