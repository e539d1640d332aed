"""Set-based writes for batch jobs: COPY on PostgreSQL, one executemany of plain tuples elsewhere."""

from datetime import UTC, datetime
from operator import itemgetter

from sqlalchemy import Table
from sqlalchemy.engine import Connection


def _plain(value):
    # COPY writes what it is given: timestamps go in as naive UTC, as the UTCDateTime columns store them
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _processed(values: tuple, processors: list) -> tuple:
    out = list(values)
    for i, processor, cache in processors:
        value = out[i]
        if value is not None:
            # batch rows repeat their few timestamps and dates: each distinct value is processed once
            try:
                out[i] = cache[value]
            except KeyError:
                out[i] = cache[value] = processor(value)
            except TypeError:  # unhashable (a JSON value)
                out[i] = processor(value)
    return tuple(out)


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
        # straight to the driver: SQLAlchemy's executemany would build and process a parameter dict per row, which
        # costs more than SQLite's insert itself; the columns' own bind processors keep the stored form the same
        dialect = connection.dialect
        columns = list(rows[0])
        quote = dialect.identifier_preparer.quote
        sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})"
        )
        get = itemgetter(*columns) if len(columns) > 1 else (lambda row: (row[columns[0]],))
        params = [get(row) for row in rows]
        processors = [
            (i, p, {})
            for i, c in enumerate(columns)
            if (p := table.c[c].type.dialect_impl(dialect).bind_processor(dialect)) is not None
        ]
        if processors:
            params = [_processed(values, processors) for values in params]
        connection.exec_driver_sql(sql, params)


def dialect_insert(target):
    """An INSERT for ``target`` in the session's dialect, so ``.on_conflict_do_nothing()`` works on SQLite and
    PostgreSQL alike."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    from assist.extensions import db

    return (pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert)(target)
