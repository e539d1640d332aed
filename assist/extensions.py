"""Extension objects, bound to the app in :func:`assist.create_app`."""

from functools import cached_property

from babel import support
from flask_babel import Babel, Domain, _get_current_context
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class AssistApi(Api):
    """flask-smorest, documenting errors in the API's own shape ({"error": {code, message, fields}})."""

    from assist.api.schemas import ErrorSchema as ERROR_SCHEMA


class RequestCatalogueDomain(Domain):
    """Flask-Babel's message domain, with the request's catalogue looked up once per request and locale.

    Flask-Babel finds the locale and the catalogue again for every string it translates (several context-local reads
    each), which was a tenth of a list page's time. The catalogue is kept beside the locale object it belongs to, so
    ``force_locale`` and ``refresh`` (which replace or drop that object) are still honoured."""

    def get_translations(self):
        ctx = _get_current_context()
        if ctx is None:
            return support.NullTranslations()
        kept = getattr(ctx, "assist_catalogue", None)
        if kept is not None and kept[0] is getattr(ctx, "babel_locale", None):
            return kept[1]
        translations = super().get_translations()  # finds ctx.babel_locale on the way
        ctx.assist_catalogue = (ctx.babel_locale, translations)
        return translations


class AssistBabel(Babel):
    @cached_property
    def domain_instance(self):
        return RequestCatalogueDomain(domain=self.domain)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = AssistBabel()
api = AssistApi()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite: enforce foreign keys, wait for locks instead of failing, and let readers run beside a writer (WAL)."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        # take transactions into our own hands (see _sqlite_begin)
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    """SQLite: BEGIN IMMEDIATE takes the write lock up front, so a transaction that read something can always write
    after it (a deferred one could fail with "database is locked" when another writer got in between)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
