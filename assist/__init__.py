"""assist: case management for virtual-post (虚拟岗位) assistance to difficult-worker families."""

import os
import stat
from pathlib import Path

from flask import Flask

from config import BASE_DIR, INSTANCE_DIR, config_for


def create_app(config_name: str | None = None, **overrides) -> Flask:
    """Build the web app. It never starts a scheduler: that is the separate ``assist scheduler`` process."""
    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
    )
    from assist.security import install_converters

    install_converters(app)
    cfg = config_for(config_name)
    app.config.from_object(cfg)
    app.config.update(overrides)
    cfg.load_keys(app.config)
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        database = app.config["SQLALCHEMY_DATABASE_URI"][len("sqlite:///") :].split("?")[0]
        if database and database != ":memory:" and not database.startswith("file:"):
            private_database_file(Path(database))
    if app.config["PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXIES"], x_proto=app.config["PROXIES"])
    register_extensions(app)
    register_blueprints(app)
    register_security(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def private_directory(directory: Path) -> None:
    """Create ``directory`` for its owner alone (0700), or take the others' rights off the one there."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if directory.stat().st_mode & 0o077 and directory.stat().st_uid == os.getuid():
        directory.chmod(0o700)


def private_file(path: Path) -> None:
    """Create ``path`` empty for its owner alone (0600), or take the others' rights off the one there."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        mode = path.stat()
        if stat.S_ISREG(mode.st_mode) and mode.st_mode & 0o077 and mode.st_uid == os.getuid():
            path.chmod(0o600)


def private_database_file(path: Path) -> None:
    """The SQLite file (it holds the ID numbers' ciphertexts, names, incomes) readable by its owner alone: created
    0600 before SQLite opens it (its journal and WAL files take the file's mode), in instance/ made 0700; a file and
    instance/ left readable by others by an earlier version are tightened, with every file in instance/."""
    path = path.resolve()
    if path.parent == INSTANCE_DIR.resolve():
        private_directory(INSTANCE_DIR)
        for child in INSTANCE_DIR.iterdir():
            if child.is_file() and not child.is_symlink():
                private_file(child)
    elif not path.parent.exists():
        private_directory(path.parent)
    private_file(path)


def normalise_database_url(url: str) -> str:
    """Accept the usual postgres:// and postgresql:// forms and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def register_extensions(app: Flask) -> None:
    from assist import models  # noqa: F401  (every model registered before the mappers configure)
    from assist.extensions import api, babel, csrf, db, login_manager, migrate
    from assist.i18n import select_locale, select_timezone

    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    api.init_app(app)


def register_blueprints(app: Flask) -> None:
    from assist.admin.routes import bp as admin_bp
    from assist.api import register_api
    from assist.assessments.routes import bp as assessments_bp
    from assist.audit.routes import bp as audit_bp
    from assist.auth.routes import bp as auth_bp
    from assist.families.routes import bp as families_bp
    from assist.inbox.routes import bp as inbox_bp
    from assist.main.routes import bp as main_bp

    for bp in (main_bp, auth_bp, families_bp, assessments_bp, admin_bp, audit_bp, inbox_bp):
        app.register_blueprint(bp)
    # issue 3 web pages: sponsors, posts, agreements, the sponsor portal
    from assist.agreements.routes import bp as agreements_bp
    from assist.portal.routes import bp as portal_bp
    from assist.posts.routes import bp as posts_bp
    from assist.sponsors.routes import bp as sponsors_bp

    for bp in (sponsors_bp, posts_bp, agreements_bp, portal_bp):
        app.register_blueprint(bp)
    # bulk matching and the sponsors' offers
    from assist.posts.matching_routes import bp as matching_bp

    app.register_blueprint(matching_bp)
    # identification (issue 5)
    from assist.identification.routes import bp as identification_bp

    app.register_blueprint(identification_bp)
    # stipends: batches and payments (issue 4)
    from assist.stipends.routes import bp as stipends_bp

    app.register_blueprint(stipends_bp)
    register_api(app)
    # reports (issue 4)
    from assist.reports.routes import bp as reports_bp

    app.register_blueprint(reports_bp)


def register_security(app: Flask) -> None:
    from assist.security import init_security

    init_security(app)


def register_errorhandlers(app: Flask) -> None:
    from assist.error_pages import init_errorhandlers

    init_errorhandlers(app)


def register_template_helpers(app: Flask) -> None:
    from assist.i18n import init_template_helpers

    init_template_helpers(app)


def register_commands(app: Flask) -> None:
    from assist.cli import init_commands

    init_commands(app)
