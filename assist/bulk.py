"""Set-based writes for batch jobs: COPY on PostgreSQL, one executemany elsewhere."""

from datetime import UTC, datetime

from sqlalchemy import Table
from sqlalchemy.engine import Connection


def _plain(value):
    # COPY writes what it is given: timestamps go in as naive UTC, as the UTCDateTime columns store them
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def insert_rows(connection: Connection, table: Table, rows: list[dict]) -> None:
    """Insert ``rows`` (dicts with the same keys, values already in their stored form: JSON as text, enums as their
    values) into ``table``, inside the connection's transaction."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        columns = list(rows[0])
        quote = connection.dialect.identifier_preparer.quote
        sql = f"COPY {quote(table.name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
        with connection.connection.driver_connection.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row([_plain(row[c]) for c in columns])
    else:
        connection.execute(table.insert(), rows)


def insert_values(connection: Connection, table: Table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert ``rows``, tuples of the values of ``columns`` in their stored form, into ``table``, inside the
    connection's transaction: :func:`insert_rows` without a dict per row or SQLAlchemy's per-row parameter handling.

    On SQLite the values go to the driver in one executemany, through the column types' own conversions (dates as
    SQLAlchemy stores them); on PostgreSQL by COPY.
    """
    if not rows:
        return
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    if connection.dialect.name == "postgresql":
        sql = f"COPY {quote(table.name)} ({names}) FROM STDIN"
        with connection.connection.driver_connection.cursor() as cursor, cursor.copy(sql) as copy:
            write = copy.write_row
            for row in rows:
                write(row)
        return
    converters = [
        (i, process)
        for i, c in enumerate(columns)
        if (process := table.c[c].type._cached_bind_processor(connection.dialect)) is not None
    ]
    if converters:
        converted = []
        for row in rows:
            row = list(row)
            for i, process in converters:
                row[i] = process(row[i])
            converted.append(tuple(row))
        rows = converted
    placeholders = ", ".join("?" * len(columns))
    connection.exec_driver_sql(f"INSERT INTO {quote(table.name)} ({names}) VALUES ({placeholders})", rows)


def dialect_insert(target):
    """An INSERT for ``target`` in the session's dialect, so ``.on_conflict_do_nothing()`` works on SQLite and
    PostgreSQL alike."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    from assist.extensions import db

    return (pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert)(target)
