"""Database upkeep: planner statistics, so list and search queries keep choosing their indexes."""

from sqlalchemy import text

from assist.extensions import db


def refresh_statistics(full: bool = False) -> str:
    """Gather planner statistics (SQLite has none until asked; PostgreSQL's autovacuum may lag a bulk load).

    ``full`` analyses everything (after a bulk load); otherwise SQLite's ``PRAGMA optimize`` re-analyses only
    what changed enough. Returns what was run.
    """
    dialect = db.engine.dialect.name
    if dialect == "sqlite":
        has_stats = db.session.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first()
        statement = "ANALYZE" if full or not has_stats else "PRAGMA optimize"
    else:
        statement = "ANALYZE"
    db.session.execute(text(statement))
    db.session.commit()
    return statement
