"""The benchmark database: built once with the demo builders at province-like scale, then reused while its
parameters stay the same (they are kept in a small ``bench_meta`` table inside it)."""

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy import inspect as inspect_db

from assist import normalise_database_url
from assist.db_types import local_today
from config import INSTANCE_DIR

ROOT = Path(__file__).resolve().parent.parent
SQLITE_FILE = INSTANCE_DIR / "bench.db"
#: bump when the way the data is built changes, so cached databases are rebuilt
DATA_VERSION = 1
META = "bench_meta"


@dataclass(frozen=True)
class Params:
    families: int = 100_000
    seed: int = 2026
    months: int = 12
    members: tuple[int, int] = (3, 3)
    version: int = DATA_VERSION
    #: a change to the builder changes the data, so it counts as a parameter
    builder: str = field(default_factory=lambda: _source_hash("build_families"))

    def key(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def _source_hash(name: str) -> str:
    import inspect

    from assist import demo

    return hashlib.sha256(inspect.getsource(getattr(demo, name)).encode()).hexdigest()[:12]


class NotABenchDatabase(SystemExit):
    pass


def database_url(env_url: str | None) -> str:
    """DATABASE_URL when set (PostgreSQL), else the SQLite file instance/bench.db."""
    return normalise_database_url(env_url) if env_url else f"sqlite:///{SQLITE_FILE}"


def _stored(url: str) -> dict | None:
    """The bench_meta of the database at ``url``: None when it has none; refuses a database that holds other data."""
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return None
    engine = create_engine(url)
    try:
        tables = set(inspect_db(engine).get_table_names())
        if META not in tables:
            if tables - {"alembic_version"}:
                raise NotABenchDatabase(
                    f"{engine.url.render_as_string(hide_password=True)} holds tables but is not a bench database; "
                    "point DATABASE_URL at an empty database (for example assist_bench) — the bench never "
                    "overwrites other data."
                )
            return None
        with engine.connect() as conn:
            return dict(conn.execute(text(f"SELECT key, value FROM {META}")).all())
    finally:
        engine.dispose()


def _wipe(url: str) -> None:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def ensure(app, params: Params, rebuild: bool = False, log=print) -> date:
    """Build the benchmark data unless the database already holds it for ``params``; returns the data's 'today'."""
    from flask_migrate import upgrade

    from assist.extensions import db

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    stored = _stored(url)
    if stored and stored.get("params") == params.key() and stored.get("complete") == "1" and not rebuild:
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))  # new migrations (indexes) apply to the cached data too
        log(f"reusing the benchmark database built on {stored['built_on']} ({stored['seconds']} s to build)")
        return date.fromisoformat(stored["built_on"])
    if stored is not None or rebuild:
        _wipe(url)
    today = local_today()  # the scheme's date, as the app reads it
    log(f"building {params.families:,} families × {params.members[0]} members × {params.months} months …")
    started = time.perf_counter()
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        _build(params, today, log)
        seconds = time.perf_counter() - started
        with db.engine.begin() as conn:
            conn.execute(text(f"CREATE TABLE {META} (key VARCHAR(40) PRIMARY KEY, value TEXT NOT NULL)"))
            conn.execute(
                text(f"INSERT INTO {META} (key, value) VALUES (:k, :v)"),
                [
                    {"k": "params", "v": params.key()},
                    {"k": "built_on", "v": today.isoformat()},
                    {"k": "seconds", "v": f"{seconds:.0f}"},
                    {"k": "complete", "v": "1"},
                ],
            )
            if conn.dialect.name == "postgresql":
                # what autovacuum does shortly after a bulk load; the planner needs the statistics
                conn.execute(text("ANALYZE"))
        db.session.remove()
        db.engine.dispose()
    log(f"built in {seconds:.0f} s")
    return today


def _build(params: Params, today: date, log) -> None:
    from assist.assessments.operations import reassess_all
    from assist.demo import build_areas, build_families, build_users
    from assist.extensions import db

    areas = build_areas()
    build_users(areas)
    db.session.commit()
    t = time.perf_counter()
    # one call: the builder keeps ID numbers unique within a call, and its set-based inserts keep memory flat
    build_families(params.families, params.seed, areas, today, months=params.months, members=params.members)
    db.session.commit()
    log(f"  families inserted ({time.perf_counter() - t:.0f} s)")
    t = time.perf_counter()
    done = reassess_all(today)
    db.session.commit()
    log(f"  assessed {done:,} families ({time.perf_counter() - t:.0f} s)")
    # as `assist setup` and `assist demo-data` do after a bulk load: the planner needs statistics
    from assist.maintenance import refresh_statistics

    refresh_statistics(full=True)
