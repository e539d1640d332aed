"""Request-level security: who is calling, CSRF, the permission check, and the response headers."""

from flask import abort, g, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from assist import permissions
from assist.extensions import api, csrf, db, login_manager

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: anonymous JSON calls that use no session, so there is nothing for CSRF to protect
CSRF_EXEMPT = frozenset({"api_main.Tokens", "api_sponsors.Sponsors"})
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


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


def init_security(app) -> None:
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    @login_manager.user_loader
    def load_user(user_id: str):
        from assist.auth.models import User

        if not user_id.isdigit() or len(user_id) > 10:
            return None
        user = db.session.get(User, int(user_id))
        return user if user and user.active else None

    @login_manager.request_loader
    def load_user_from_token(req):
        from assist.auth.operations import user_for_token

        token = _bearer_token()
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
        token = _bearer_token()
        if is_api_request() and not current_user.is_authenticated and (token is not None or not public):
            # an API client is told to authenticate (401) before anything about CSRF (400)
            if token is not None:
                return api_error(401, "unauthorized", _("The token is missing, wrong or expired."))
            return api_error(401, "unauthorized", _("Log in or send a token first."))
        if request.method not in SAFE_METHODS and not g.get("via_token") and endpoint not in CSRF_EXEMPT:
            csrf.protect()
        if public:
            return None
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if not permissions.allowed(current_user, endpoint, request.method):
            abort(403)
        return None

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
