"""Fixtures: an app on a real database (a SQLite file, or PostgreSQL when DATABASE_URL says so), built by the
migrations, a client, and a small area tree with users of every role."""

import os
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from assist import create_app, normalise_database_url
from assist.extensions import db

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get("DATABASE_URL")
POSTGRES = bool(DATABASE_URL and DATABASE_URL.startswith(("postgres", "postgresql")))
PASSWORD = "correct horse battery"


def _compile_translations() -> None:
    """The suite reads the compiled catalogues; build them when a bare `pytest` runs before `make`."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in (ROOT / "assist" / "translations").glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as fh:
                catalog = read_po(fh)
            with mo.open("wb") as fh:
                write_mo(fh, catalog)


def _upgrade(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app("test", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        db.engine.dispose()


@pytest.fixture(scope="session")
def database(tmp_path_factory):
    """The schema, built once per run by the migrations (exactly as production builds it)."""
    _compile_translations()
    if POSTGRES:
        url = normalise_database_url(DATABASE_URL)
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        _upgrade(url)
        return url
    template = tmp_path_factory.mktemp("db") / "template.db"
    _upgrade(f"sqlite:///{template}")
    return template


_engines: dict = {}


def _empty_postgres(url: str) -> None:
    """Every table emptied and every id sequence restarted, in one round trip.

    DELETE rather than TRUNCATE: a test leaves a few rows in a few tables, and TRUNCATE gives each of ~40 tables new
    files (a quarter of a second per test). The replica role skips the foreign-key checks, and the audit log's
    append-only triggers, which the tests alone lift, between tests.
    """
    engine = _engines.get(url) or _engines.setdefault(url, create_engine(url, poolclass=NullPool))
    with engine.begin() as conn:
        tables = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
        ).scalars()
        sequences = conn.execute(text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")).scalars()
        statements = ["SET LOCAL session_replication_role = replica"]
        statements += [f'DELETE FROM "{t}"' for t in tables]
        statements += [f"SELECT setval('\"{q}\"', 1, false)" for q in sequences]
        conn.exec_driver_sql("; ".join(statements))


@pytest.fixture
def database_url(database, tmp_path) -> str:
    """A clean database for one test."""
    if POSTGRES:
        _empty_postgres(database)
        return database
    path = tmp_path / "test.db"
    shutil.copy(database, path)
    return f"sqlite:///{path}"


def _fresh_g():
    """Requests in these tests share the test's app context (so the test and the request share one session);
    in production each request has its own. Clearing `g` first gives each request what production gives it:
    no logged-in user, CSRF token or scope cached from the request before."""
    from flask import g

    for key in list(g):
        g.pop(key)


@pytest.fixture
def app(database_url):
    app = create_app("test", SQLALCHEMY_DATABASE_URI=database_url)
    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_g)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token(client, url: str = "/login") -> str:
    html = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, f"no CSRF token on {url}"
    return match.group(1)


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, username: str, password: str = PASSWORD):
        token = csrf_token(self.client, "/login")
        return self.client.post("/login", data={"username": username, "password": password, "csrf_token": token})

    def logout(self):
        token = csrf_token(self.client, "/profile")
        return self.client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def world(app):
    """City → towns A and B → one community each; an admin, a caseworker per town, a sponsor and a provider user;
    one family in each community."""
    from tests import factories

    return factories.build_world()


class own_request_contexts:  # used like a function: ``with own_request_contexts():``
    """Run the test client's requests each in a fresh app context, as in production.

    The ``app`` fixture keeps an app context pushed, and Flask reuses a pushed context for every request, so ``g``
    would carry the logged-in user, the CSRF token and per-request caches from one request (and client) to the next.
    Inside this block the fixture's context is set aside; use ``with app.app_context():`` to read the database.
    """

    def __enter__(self):
        from flask import has_app_context
        from flask.globals import app_ctx

        self.outer = app_ctx._get_current_object() if has_app_context() else None
        if self.outer is not None:
            self.outer.pop()
        return self

    def __exit__(self, *exc):
        if self.outer is not None:
            self.outer.push()
        return False
