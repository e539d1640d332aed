"""Nothing beside a mask completes it: birth years instead of birth dates (the mask plus the birth date is the full ID
number), import originals and rejected rows encrypted with the field key

Columns are added and dropped in place, on SQLite too (ALTER TABLE … DROP COLUMN, SQLite 3.35+): batch mode would
rebuild members, and with foreign keys on, dropping the old table runs its children's ON DELETE actions.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 19:00:00.000000

"""

import json
from datetime import date

import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet
from flask import current_app


# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

#: rows written at a time
CHUNK = 5000


def _fernet() -> Fernet:
    return Fernet(current_app.config["ASSIST_FIELD_KEY"].encode())


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _add(table: str, column: str, sql_type: str, sqlite_default: str) -> None:
    """A column, NOT NULL once filled: SQLite adds a NOT NULL column only with a default (kept, never used)."""
    if _sqlite():
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type} NOT NULL DEFAULT {sqlite_default}")
    else:
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}")


def _not_null(table: str, column: str) -> None:
    if not _sqlite():
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL")


def _drop(table: str, column: str) -> None:
    op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")


def _update_in_chunks(conn, table, key: str, column: str, values: list[tuple]) -> None:
    statement = table.update().where(table.c[key] == sa.bindparam("k")).values({column: sa.bindparam("v")})
    for start in range(0, len(values), CHUNK):
        conn.execute(statement, [{"k": k, "v": v} for k, v in values[start : start + CHUNK]])


def _redacted(value):
    """A snapshot with each birth date replaced by its year (member snapshots hold the mask beside it)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "birth_date" and isinstance(item, str) and len(item) >= 4 and item[:4].isdigit():
                out["birth_year"] = int(item[:4])
            else:
                out[key] = _redacted(item)
        return out
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    return value


def _redact_audit_log(conn) -> None:
    """The audit log's earlier member snapshots: a one-time, deliberate exception to its append-only rule, the
    triggers lifted for it alone, inside this migration's transaction."""
    log = sa.table("audit_log", sa.column("id", sa.Integer), sa.column("before", sa.JSON), sa.column("after", sa.JSON))
    like = sa.or_(
        sa.cast(log.c.before, sa.Text).like("%birth_date%"), sa.cast(log.c.after, sa.Text).like("%birth_date%")
    )
    rows = conn.execute(sa.select(log.c.id, log.c.before, log.c.after).where(like)).all()
    if not rows:
        return
    if _sqlite():
        triggers = conn.execute(
            sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'")
        ).all()
        for name, _sql in triggers:
            op.execute(f"DROP TRIGGER {name}")
    else:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
    statement = (
        log.update()
        .where(log.c.id == sa.bindparam("i"))
        .values(
            before=sa.bindparam("b", type_=sa.JSON(none_as_null=True)),
            after=sa.bindparam("a", type_=sa.JSON(none_as_null=True)),
        )
    )
    for start in range(0, len(rows), CHUNK):
        conn.execute(
            statement,
            [
                {"i": i, "b": _redacted(before), "a": _redacted(after)}
                for i, before, after in rows[start : start + CHUNK]
            ],
        )
    if _sqlite():
        for _name, sql in triggers:
            op.execute(sql)
    else:
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")


def upgrade():
    conn = op.get_bind()
    fernet = _fernet()
    _redact_audit_log(conn)
    year = (
        "CAST(strftime('%Y', birth_date) AS INTEGER)" if _sqlite() else "CAST(EXTRACT(YEAR FROM birth_date) AS INTEGER)"
    )
    for table in ("members", "imported_persons"):
        _add(table, "birth_year", "INTEGER", "0")
        op.execute(f"UPDATE {table} SET birth_year = {year}")
        _not_null(table, "birth_year")
        _drop(table, "birth_date")

    _add("import_rejects", "raw_cipher", "TEXT", "''")
    rejects = sa.table(
        "import_rejects", sa.column("id", sa.Integer), sa.column("raw", sa.JSON), sa.column("raw_cipher", sa.Text)
    )
    rows = conn.execute(sa.select(rejects.c.id, rejects.c.raw)).all()
    _update_in_chunks(
        conn,
        rejects,
        "id",
        "raw_cipher",
        [(i, fernet.encrypt(json.dumps(raw or [], ensure_ascii=False).encode()).decode()) for i, raw in rows],
    )
    _not_null("import_rejects", "raw_cipher")
    _drop("import_rejects", "raw")

    # one file at a time: each may be tens of megabytes
    files = sa.table("worker_import_files", sa.column("import_id", sa.Integer), sa.column("content", sa.LargeBinary))
    for (import_id,) in conn.execute(sa.select(files.c.import_id)).all():
        content = conn.execute(sa.select(files.c.content).where(files.c.import_id == import_id)).scalar_one()
        conn.execute(
            files.update().where(files.c.import_id == import_id).values(content=fernet.encrypt(bytes(content)))
        )


def downgrade():
    conn = op.get_bind()
    fernet = _fernet()
    files = sa.table("worker_import_files", sa.column("import_id", sa.Integer), sa.column("content", sa.LargeBinary))
    for (import_id,) in conn.execute(sa.select(files.c.import_id)).all():
        content = conn.execute(sa.select(files.c.content).where(files.c.import_id == import_id)).scalar_one()
        conn.execute(
            files.update().where(files.c.import_id == import_id).values(content=fernet.decrypt(bytes(content)))
        )

    _add("import_rejects", "raw", "JSON", "'[]'")
    rejects = sa.table(
        "import_rejects", sa.column("id", sa.Integer), sa.column("raw", sa.JSON), sa.column("raw_cipher", sa.Text)
    )
    rows = conn.execute(sa.select(rejects.c.id, rejects.c.raw_cipher)).all()
    _update_in_chunks(
        conn, rejects, "id", "raw", [(i, json.loads(fernet.decrypt(c.encode())) if c else []) for i, c in rows]
    )
    _not_null("import_rejects", "raw")
    _drop("import_rejects", "raw_cipher")

    # the exact birth dates come back out of the encrypted ID numbers
    for table in ("members", "imported_persons"):
        _add(table, "birth_date", "DATE", "'1900-01-01'")
        t = sa.table(
            table, sa.column("id", sa.Integer), sa.column("id_cipher", sa.Text), sa.column("birth_date", sa.Date)
        )
        values = []
        for i, cipher in conn.execute(sa.select(t.c.id, t.c.id_cipher)).all():
            number = fernet.decrypt(cipher.encode()).decode()
            values.append((i, date(int(number[6:10]), int(number[10:12]), int(number[12:14]))))
        _update_in_chunks(conn, t, "id", "birth_date", values)
        _not_null(table, "birth_date")
        _drop(table, "birth_year")
