"""The migrations build exactly the models' schema, and the audit log is append-only in the database itself."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from assist.audit import record
from assist.audit.models import AuditEntry, AuditLogIsAppendOnly
from assist.extensions import db


def test_migrations_match_the_models(app):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
    assert diff == []


def test_audit_entries_cannot_be_changed_through_the_orm(app):
    record(None, "create", "area", 1, after={"x": 1})
    db.session.commit()
    entry = db.session.scalars(db.select(AuditEntry)).one()
    entry.summary = "changed"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    db.session.delete(entry)
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET summary = 'x'", "DELETE FROM audit_log"])
def test_audit_entries_cannot_be_changed_with_sql(app, statement):
    record(None, "create", "area", 1, after={"x": 1})
    db.session.commit()
    with pytest.raises(DatabaseError), db.engine.begin() as conn:
        conn.execute(text(statement))
    assert db.session.scalar(text("SELECT count(*) FROM audit_log")) == 1


def test_migrations_go_down_and_up_again(app):
    from pathlib import Path

    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect

    directory = str(Path(__file__).resolve().parent.parent / "migrations")
    db.session.remove()
    downgrade(directory=directory, revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade(directory=directory)
    assert {"families", "members", "assessments", "audit_log"} <= set(inspect(db.engine).get_table_names())
    test_migrations_match_the_models(app)


def test_planner_statistics_are_gathered(app, world):
    from assist.maintenance import refresh_statistics

    first = refresh_statistics()
    assert first in ("ANALYZE", "PRAGMA optimize")
    if db.engine.dialect.name == "sqlite":
        assert first == "ANALYZE"  # no statistics yet: a full analysis
        assert refresh_statistics() == "PRAGMA optimize"


def test_a_repr_never_queries_even_for_a_detached_row(app, world):
    """Printing a row (a failing test's example, a log line) after its session closed names what was loaded."""
    db.session.expire(world.admin)
    db.session.expunge(world.admin)
    assert repr(world.admin) == "<User ? ?>"
    db.session.refresh(world.family_a)
    assert repr(world.family_a) == f"<Family {world.family_a.id} {world.family_a.head_name}>"
