"""Settings for development, test and production (ASSIST_ENV selects one)."""

import json
import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"
KEY_NAMES = ("SECRET_KEY", "ASSIST_FIELD_KEY", "ASSIST_INDEX_KEY")


class ConfigError(RuntimeError):
    """The configuration cannot run: a required key is missing or malformed."""


def new_keys() -> dict[str, str]:
    """Three fresh random keys (urlsafe base64 of 32 bytes each, the form Fernet expects)."""
    import base64

    return {name: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode() for name in KEY_NAMES}


def instance_keys(path: Path = INSTANCE_DIR / "keys.json") -> dict[str, str]:
    """The keys kept in instance/keys.json, created once on first use and reused after."""
    if path.exists():
        return json.loads(path.read_text())
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # for its owner alone, like the keys below
    keys = new_keys()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(keys, fh)
    return keys


class Config:
    DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'assist.db'}"
    SQLALCHEMY_DATABASE_URI = DATABASE_URL
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 8 * 3600
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"zh": "中文", "en": "English"}
    TIMEZONE = "Asia/Shanghai"
    # e-mail for reminders: off unless ASSIST_SMTP_HOST is set (in development the mail is written to the log)
    SMTP_HOST = os.environ.get("ASSIST_SMTP_HOST", "")
    SMTP_PORT = int(os.environ.get("ASSIST_SMTP_PORT", "587"))
    SMTP_USER = os.environ.get("ASSIST_SMTP_USER", "")
    SMTP_PASSWORD = os.environ.get("ASSIST_SMTP_PASSWORD", "")
    SMTP_STARTTLS = os.environ.get("ASSIST_SMTP_STARTTLS", "1") != "0"
    MAIL_FROM = os.environ.get("ASSIST_MAIL_FROM", "assist@localhost")
    #: the address links in e-mails point at
    PUBLIC_URL = os.environ.get("ASSIST_PUBLIC_URL", "http://127.0.0.1:5000")
    API_TITLE = "assist API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    API_SPEC_OPTIONS = {
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearerAuth": []}],
    }
    #: failed logins allowed per user name from one address (and, ten times that, per address) in the window below;
    #: a name that failed ten times that from everywhere is refused only to addresses it never logged in from
    LOGIN_MAX_FAILURES = 5
    LOGIN_WINDOW_SECONDS = 15 * 60
    #: anonymous registrations told "user name taken" per address in the same window
    REGISTRATION_MAX_NAMES_TAKEN = 10
    #: login attempts are kept this long (the addresses a user logged in from), then pruned by a daily job
    LOGIN_ATTEMPTS_KEEP_DAYS = 30
    API_TOKEN_DAYS = 30
    #: a session ends after this long unused, and this long after the login however busy
    SESSION_IDLE_SECONDS = 2 * 3600
    SESSION_MAX_SECONDS = 12 * 3600
    #: reverse proxies in front of the app (nginx: 1), so client addresses come from X-Forwarded-For
    PROXIES = int(os.environ.get("ASSIST_PROXIES", "0") or 0)
    PER_PAGE = 25
    #: days an import's original file (and its rejected rows as they were) is kept after the import finished
    IMPORT_ORIGINAL_DAYS = int(os.environ.get("ASSIST_IMPORT_ORIGINAL_DAYS", "30") or 30)

    @classmethod
    def load_keys(cls, app_config: dict) -> None:
        """Fill the three keys from the environment, else from instance/keys.json."""
        missing = [name for name in KEY_NAMES if not os.environ.get(name)]
        stored = instance_keys() if missing else {}
        for name in KEY_NAMES:
            app_config[name] = os.environ.get(name) or stored[name]


class DevelopmentConfig(Config):
    ENV_NAME = "development"


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    WTF_CSRF_ENABLED = True
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or "sqlite://"
    PASSWORD_HASHER_FAST = True

    @classmethod
    def load_keys(cls, app_config: dict) -> None:
        # Fixed keys: tests must not touch instance/.
        fixed = {
            "SECRET_KEY": "test-secret-key",
            "ASSIST_FIELD_KEY": "dGVzdC1maWVsZC1rZXktMzItYnl0ZXMtbG9uZy0wMDA=",
            "ASSIST_INDEX_KEY": "dGVzdC1pbmRleC1rZXktMzItYnl0ZXMtbG9uZy0wMDA=",
        }
        for name, value in fixed.items():
            if not app_config.get(name):
                app_config[name] = value


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True

    @classmethod
    def load_keys(cls, app_config: dict) -> None:
        missing = [name for name in KEY_NAMES if not os.environ.get(name)]
        if missing:
            raise ConfigError(
                "ASSIST_ENV=production needs these environment variables: "
                + ", ".join(missing)
                + '. Generate each with: python -c "import base64,os;print(base64.urlsafe_b64encode(os.urandom(32)).decode())"'
            )
        if not os.environ.get("DATABASE_URL"):
            raise ConfigError("ASSIST_ENV=production needs DATABASE_URL (a postgresql+psycopg:// URL).")
        for name in KEY_NAMES:
            app_config[name] = os.environ[name]


CONFIGS = {"development": DevelopmentConfig, "test": TestConfig, "production": ProductionConfig}


def config_for(name: str | None = None) -> type[Config]:
    """The configuration class named by ``name`` or by ASSIST_ENV (default: development)."""
    name = name or os.environ.get("ASSIST_ENV", "development")
    if name not in CONFIGS:
        raise ConfigError(f"ASSIST_ENV must be one of {', '.join(CONFIGS)}, not {name!r}")
    return CONFIGS[name]
