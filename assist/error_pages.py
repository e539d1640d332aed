"""Errors become a page or the API's JSON error shape, in one place; nothing a user sends can cause a 500."""

from flask import make_response, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from assist.errors import DomainError
from assist.extensions import db
from assist.security import api_error, is_api_request

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
}


def _messages():
    return {
        400: _("The request could not be understood."),
        401: _("Please log in."),
        403: _("You do not have permission to do this."),
        404: _("Not found, or not within your areas."),
        405: _("This method is not allowed here."),
        413: _("The upload is too large."),
        422: _("Please correct the marked fields."),
        429: _("Too many requests; please wait a moment."),
    }


def _field_messages(messages) -> dict[str, str]:
    """Flatten webargs/marshmallow messages ({location: {field: [msg]}}) to {field: msg}."""
    out: dict[str, str] = {}

    def walk(prefix, value):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        elif isinstance(value, list):
            if value and all(isinstance(x, str) for x in value):
                out[prefix or "_schema"] = " ".join(value)
            else:
                for i, v in enumerate(value):
                    walk(f"{prefix}.{i}", v)
        else:
            out[prefix or "_schema"] = str(value)

    if isinstance(messages, dict):
        for location, fields in messages.items():
            if isinstance(fields, dict) and location in ("json", "query", "form", "files", "headers", "path"):
                walk("", fields)
            else:
                walk(str(location), fields)
    return out


def _with_headers(response, exc: HTTPException):
    """The exception's own headers on the answer built for it: ``Allow`` on a 405 (which methods the address
    takes, as HTTP requires), ``Retry-After``, ``WWW-Authenticate``; the answer keeps its own content type."""
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def init_errorhandlers(app) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return _with_headers(make_response(_http_error(exc)), exc)

    def _http_error(exc: HTTPException):
        status = exc.code or 500
        if is_api_request():
            fields = {}
            data = getattr(exc, "data", None) or {}
            if "messages" in data:
                fields = _field_messages(data["messages"])
            message = _messages().get(status, exc.name)
            if (
                exc.description
                and status in (400, 409)
                and not isinstance(exc, CSRFError)
                and not exc.description.startswith("The browser")
            ):
                message = exc.description
            if isinstance(exc, CSRFError):
                message = _("The CSRF token is missing or invalid; reload the page.")
            if status == 400 and fields:
                status = 422
            return api_error(status, CODES.get(status, "error"), message, fields)
        message = _messages().get(status, exc.name)
        if isinstance(exc, CSRFError):
            message = _("The form expired or was sent from elsewhere. Please reload the page and try again.")
        elif status == 400 and exc.description and not exc.description.startswith("The browser"):
            message = exc.description
        return render_template("error.html", status=status, message=message), status

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        if is_api_request():
            return api_error(exc.status, exc.code, exc.message, exc.fields)
        return render_template("error.html", status=exc.status, message=exc.message), exc.status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        db.session.rollback()
        app.logger.exception("unhandled error")
        if is_api_request():
            return api_error(500, "server_error", _("Something went wrong on our side; it has been logged."))
        return render_template(
            "error.html", status=500, message=_("Something went wrong on our side; it has been logged.")
        ), 500
