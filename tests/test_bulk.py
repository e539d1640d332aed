"""Set-based writes store exactly what SQLAlchemy's own INSERT stores, on SQLite and PostgreSQL."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Boolean, Column, Date, Integer, MetaData, String, Table, Text, insert, select, text

from assist import bulk
from assist.assessments.models import ColourChange
from assist.db_types import UTCDateTime
from assist.enums import Colour
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
    bulk.insert_rows(db.session.connection(), written, [])
    assert db.session.execute(select(written)).all() == []


# dicts of a real model's table (the batch reassessment writes colour changes so)


def test_inserted_rows_read_back_as_the_orm_writes_them(world):
    family = world.family_a
    at = datetime(2026, 3, 1, 2, 30, 15, 123456, tzinfo=UTC)
    later = at + timedelta(hours=1)
    rows = [
        {"family_id": family.id, "from_colour": None, "to_colour": "red", "reason": "bulk 1", "at": at, "by_id": None},
        {
            "family_id": family.id,
            "from_colour": "red",
            "to_colour": "yellow",
            "reason": "bulk 2",
            "at": at,
            "by_id": None,
        },
        {
            "family_id": family.id,
            "from_colour": "yellow",
            "to_colour": "green",
            "reason": "bulk 3",
            "at": later,
            "by_id": world.admin.id,
        },
    ]
    bulk.insert_rows(db.session.connection(), ColourChange.__table__, rows)
    db.session.add(ColourChange(family_id=family.id, from_colour=None, to_colour=Colour.RED, reason="orm", at=at))
    db.session.flush()

    stored = {c.reason: c for c in db.session.scalars(select(ColourChange).where(ColourChange.family_id == family.id))}
    assert [(stored[f"bulk {i}"].from_colour, stored[f"bulk {i}"].to_colour) for i in (1, 2, 3)] == [
        (None, Colour.RED),
        (Colour.RED, Colour.YELLOW),
        (Colour.YELLOW, Colour.GREEN),
    ]
    # the repeated timestamp is stored once per row, each the same instant; the third its own
    assert stored["bulk 1"].at == stored["bulk 2"].at == at and stored["bulk 3"].at == later
    assert stored["bulk 3"].by_id == world.admin.id and stored["bulk 1"].by_id is None
    # and in the same stored form as the ORM's own insert (SQLite keeps timestamps as text)
    raw = dict(
        db.session.execute(text("SELECT reason, at FROM colour_changes WHERE reason IN ('bulk 1', 'orm')")).all()
    )
    assert raw["bulk 1"] == raw["orm"]
