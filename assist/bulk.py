"""Set-based writes for batch jobs: COPY on PostgreSQL, multi-row INSERTs straight to the driver on SQLite."""

import sqlite3
from operator import itemgetter

from sqlalchemy import Table
from sqlalchemy.engine import Connection


def insert_rows(connection: Connection, table: Table, rows: list[dict]) -> None:
    """Insert ``rows`` (dicts with the same keys, values already in their stored form: JSON as text, enums as their
    values) into ``table``, inside the connection's transaction."""
    if not rows:
        return
    columns = tuple(rows[0])
    get = itemgetter(*columns) if len(columns) > 1 else (lambda row: (row[columns[0]],))
    insert_values(connection, table, columns, [get(row) for row in rows])


def insert_values(connection: Connection, table: Table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert ``rows``, tuples of the values of ``columns`` in their stored form, into ``table``, inside the
    connection's transaction: no dict per row and none of SQLAlchemy's per-row parameter handling.

    The values pass through the column types' own conversions (so they are stored as SQLAlchemy stores them), then
    to PostgreSQL by COPY, to SQLite as multi-row INSERTs.
    """
    if not rows:
        return
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    # the column types' own conversions, where a type has one (on SQLite dates and booleans, anywhere UTC timestamps)
    converters = [
        (i, process, {})
        for i, c in enumerate(columns)
        if (process := table.c[c].type._cached_bind_processor(connection.dialect)) is not None
    ]
    if converters:
        rows = [_converted(row, converters) for row in rows]
    if connection.dialect.name == "postgresql":
        sql = f"COPY {quote(table.name)} ({names}) FROM STDIN"
        with connection.connection.driver_connection.cursor() as cursor, cursor.copy(sql) as copy:
            write = copy.write_row
            for row in rows:
                write(row)
        return
    # many rows to a statement: one call into SQLite per group instead of one per row (each of which would also hand
    # the interpreter to another thread and wait to get it back); full groups reuse one prepared statement
    group = max(1, _SQLITE_VARIABLES // len(columns))
    row_sql = "(" + ", ".join("?" * len(columns)) + ")"
    for start in range(0, len(rows), group):
        part = rows[start : start + group]
        values = ", ".join([row_sql] * len(part))
        params = tuple(value for row in part for value in row)
        connection.exec_driver_sql(f"INSERT INTO {quote(table.name)} ({names}) VALUES {values}", params)


def _converted(row: tuple, converters: list) -> tuple:
    out = list(row)
    for i, process, seen in converters:
        value = out[i]
        if value is not None:
            # batch rows repeat their few timestamps and dates: each distinct value is converted once
            try:
                out[i] = seen[value]
            except KeyError:
                out[i] = seen[value] = process(value)
            except TypeError:  # unhashable (a JSON value)
                out[i] = process(value)
    return tuple(out)


#: bound parameters in one SQLite statement: the limit of SQLite 3.32 and later is 32,766 (999 before)
_SQLITE_VARIABLES = 10_000 if sqlite3.sqlite_version_info >= (3, 32) else 999


def dialect_insert(target):
    """An INSERT for ``target`` in the session's dialect, so ``.on_conflict_do_nothing()`` works on SQLite and
    PostgreSQL alike."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    from assist.extensions import db

    return (pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert)(target)
