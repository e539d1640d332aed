"""Request-level security: who is calling, CSRF, the permission check, and the response headers."""

from flask import abort, current_app, g, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.routing import IntegerConverter

from assist import permissions
from assist.db_types import utcnow
from assist.extensions import api, csrf, db, login_manager

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: anonymous JSON calls that use no session, so there is nothing for CSRF to protect
CSRF_EXEMPT = frozenset({"api_main.Tokens", "api_sponsors.Sponsors"})
LOGIN_FOR_TOKEN = ("api_main.Tokens", "POST")
#: anonymous registrations (page and API), which say whether a user name is taken: throttled per address
NAME_PROBES = frozenset({"sponsors.register", "api_sponsors.Sponsors"})
#: when the session's login happened and when it was last used (seconds since the epoch, the app's clock)
LOGIN_AT, SEEN_AT = "_login_at", "_seen_at"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


class BoundedIntConverter(IntegerConverter):
    """Integer URL parts that fit a database integer; anything larger is simply not found."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def int32_schema(converter) -> dict:
    return {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}


def install_converters(app) -> None:
    """Bounded integer ids in every URL (set before any route is added)."""
    app.url_map.converters["int"] = BoundedIntConverter
    api.register_converter(BoundedIntConverter, int32_schema)


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def api_error(status: int, code: str, message: str, fields: dict | None = None):
    """The one JSON error shape of CONTRACT.md."""
    response = jsonify({"error": {"code": code, "message": message, "fields": fields or {}}})
    response.status_code = status
    return response


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


def _now() -> int:
    return int(utcnow().timestamp())


def start_session(user) -> None:
    """A fresh session for ``user`` (no fixation: nothing of the anonymous one is kept but the language)."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    login_user(user)
    session.permanent = True
    session[LOGIN_AT] = session[SEEN_AT] = _now()


def renew_session(user) -> None:
    """Keep this session after the user's own password change ended all the others (it carries the new generation)."""
    login_user(user)


def end_session() -> None:
    """Forget the login in this browser (the language stays)."""
    logout_user()
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale


def _session_user(user_id: str):
    """The user of a live session: opened in the user's current generation (no logout, password change or
    deactivation since), used within the idle time, and younger than the absolute lifetime."""
    from assist.auth.models import User

    ident, _, generation = user_id.partition(".")
    if not (ident.isdigit() and generation.isdigit()) or len(ident) > 10 or len(generation) > 10:
        return None
    cfg = current_app.config
    now, login_at, seen_at = _now(), session.get(LOGIN_AT), session.get(SEEN_AT)
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        return None
    if now - login_at > cfg["SESSION_MAX_SECONDS"] or now - seen_at > cfg["SESSION_IDLE_SECONDS"]:
        return None
    user = db.session.get(User, int(ident))
    if user is None or not user.active or user.session_generation != int(generation):
        return None
    if now - seen_at >= 60:  # the cookie is rewritten at most once a minute for this
        session[SEEN_AT] = now
    return user


def init_security(app) -> None:
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    @login_manager.user_loader
    def load_user(user_id: str):
        return _session_user(user_id)

    @login_manager.request_loader
    def load_user_from_token(req):
        from assist.auth.operations import user_for_token

        token = bearer_token()
        if token is None:
            return None
        user = user_for_token(token)
        if user is not None:
            g.via_token = True
        return user

    @app.before_request
    def authorise():
        if any("\x00" in v for v in request.args.values()) or (
            request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data")
            and any("\x00" in v for v in request.form.values())
        ):
            abort(400, _("The request contains a NUL character."))
        endpoint = request.endpoint
        if endpoint is None:
            return None  # no such route: the 404 handler answers
        public = permissions.is_public(endpoint, request.method)
        # a client logging in again may still send its ended token: the login itself needs none
        token = None if (endpoint, request.method) == LOGIN_FOR_TOKEN else bearer_token()
        if is_api_request() and not current_user.is_authenticated and (token is not None or not public):
            # an API client is told to authenticate (401) before anything about CSRF (400)
            if token is not None:
                return api_error(401, "unauthorized", _("The token is missing, wrong or expired."))
            return api_error(401, "unauthorized", _("Log in or send a token first."))
        if request.method not in SAFE_METHODS and not g.get("via_token") and endpoint not in CSRF_EXEMPT:
            csrf.protect()
        if endpoint in NAME_PROBES and request.method == "POST" and not current_user.is_authenticated:
            _throttle_name_probe()
        if public:
            return None
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if not permissions.allowed(current_user, endpoint, request.method):
            abort(403)
        return None

    def _throttle_name_probe() -> None:
        from assist.auth.operations import check_name_probe

        if request.mimetype == "application/json":
            body = request.get_json(silent=True)
            username = body.get("username") if isinstance(body, dict) else None
        else:
            username = request.form.get("username")
        check_name_probe(username, request.remote_addr or "")  # raises LoginLocked (429) past the limit
        db.session.commit()  # the probe is kept whatever the registration answers: that is what throttles

    @app.after_request
    def security_headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.endpoint != "static" and current_user and current_user.is_authenticated:
            # pages of families' data are not to be kept by browsers or proxies
            h["Cache-Control"] = "no-store"
        return response
