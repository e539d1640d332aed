"""assist.bulk: the set-based writes of the batch jobs store exactly what the ORM stores."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from assist.assessments.models import ColourChange
from assist.bulk import insert_rows
from assist.enums import Colour
from assist.extensions import db


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
    insert_rows(db.session.connection(), ColourChange.__table__, rows)
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


def test_no_rows_is_no_statement(world):
    before = db.session.scalar(select(db.func.count(ColourChange.id)))
    insert_rows(db.session.connection(), ColourChange.__table__, [])
    assert db.session.scalar(select(db.func.count(ColourChange.id))) == before
