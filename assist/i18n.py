"""Locale and time zone selection, and the template helpers for money, dates and labels."""

import unicodedata
from datetime import date, datetime
from functools import partial
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, request, session
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user
from jinja2 import pass_context, pass_eval_context
from markupsafe import Markup

from assist.enums import Colour, ProfileType, Role, choices, label, label_texts

SHANGHAI = ZoneInfo("Asia/Shanghai")


def select_locale() -> str:
    """The session's choice, else the user's saved choice, else Chinese (the default for everyone)."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["TIMEZONE"]


def yuan(fen: int | None) -> str:
    """12345 → "123.45" (integer arithmetic, no floats)."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}{fen // 100:,}.{fen % 100:02d}"


def local_time(value: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """A UTC timestamp shown in Asia/Shanghai."""
    if value is None:
        return ""
    return format_datetime(value, fmt)


def iso_date(value: date | None) -> str:
    return value.isoformat() if value else ""


def safe_next(target: str | None, fallback: str = "/") -> str:
    """A redirect target only if it is a plain path of this site (no open redirects), else ``fallback``.

    Refused: a scheme or host, ``//`` or a backslash (which browsers read as ``/``), and any control or invisible
    character: a browser drops tabs and newlines (``/``, a tab, ``/evil.example`` is ``//evil.example`` to it), and a newline in
    a Location header is a header injection the server refuses to send.
    """
    if not target or not isinstance(target, str):
        return fallback
    if any(unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp") for char in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    return target


def catalogue():
    """The current request's message catalogue (looked up once per request: see RequestCatalogueDomain)."""
    from assist.extensions import babel

    return babel.domain_instance.get_translations()


def template_gettext(translations=None):
    """``_()`` for templates: what Jinja's newstyle gettext does (escaped variables, ``%`` always formatting) without
    its generic call path and Flask-Babel's look-up of the catalogue for every string, which made each ``_()`` cost
    about as much as a database read. Pages get one bound to the request's catalogue (the context processor)."""

    @pass_eval_context
    def gettext(eval_ctx, message: str, **variables) -> str:
        return _formatted(
            eval_ctx, (catalogue() if translations is None else translations).ugettext(message), variables
        )

    return gettext


@pass_eval_context
def _template_ngettext(eval_ctx, singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return _formatted(eval_ctx, catalogue().ungettext(singular, plural, num), variables)


def _formatted(eval_ctx, text: str, variables: dict) -> str:
    if eval_ctx.autoescape:
        text = Markup(text)  # noqa: S704 — the catalogue is ours, as in Jinja's own gettext; variables are escaped
    return text % variables if variables or "%" in text else text


@pass_context
def colour_label(context, value) -> str:
    """A colour's label, from the page's label table (see the context processor) where the template has it."""
    return context.call(context["label"], value, Colour)


@pass_context
def type_label(context, value) -> str:
    return context.call(context["label"], value, ProfileType)


@pass_context
def colour_badge(context, colour) -> Markup:
    """A colour as a badge (lists show one per row: a function, which costs a fraction of a macro's call)."""
    if not colour:
        text = context.call(context["_"], "Not assessed")  # the page's own gettext, or the global one
        return Markup('<span class="badge text-bg-secondary">{}</span>').format(text)
    return Markup('<span class="badge colour-{}">{}</span>').format(
        colour, context.call(context["label"], colour, Colour)
    )


def init_template_helpers(app) -> None:
    # in place of the callables Flask-Babel installed (same behaviour, see template_gettext); imported macros use these
    unbound = template_gettext()
    app.jinja_env.globals.update(gettext=unbound, _=unbound, ngettext=_template_ngettext)
    app.jinja_env.filters["yuan"] = yuan
    app.jinja_env.filters["localtime"] = local_time
    app.jinja_env.filters["isodate"] = iso_date
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["colour_label"] = colour_label
    app.jinja_env.filters["type_label"] = type_label
    app.jinja_env.globals["colour_badge"] = colour_badge
    from assist.paging import page_url

    app.jinja_env.globals["page_url"] = page_url
    app.jinja_env.filters["count_in"] = lambda key, counts: counts.get(key, 0)
    from assist.assessments.explain import explain, factor_name, trigger_text

    app.jinja_env.globals.update(explain=explain, factor_name=factor_name, trigger_text=trigger_text)
    app.jinja_env.filters["reason_text"] = reason_text
    app.jinja_env.globals["label"] = label
    app.jinja_env.globals["choices"] = choices

    @app.context_processor
    def _locale():
        from flask_babel import get_locale

        from assist import permissions

        user = current_user._get_current_object() if current_user else None
        locale = str(get_locale())
        bound = template_gettext(catalogue())
        return {
            # bound to this request's catalogue and labels once per page (see template_gettext)
            "_": bound,
            "gettext": bound,
            "label": partial(label, texts=label_texts(locale)),
            "role_choices": choices(Role),
            "current_locale": locale,
            "languages": app.config["LANGUAGES"],
            "can": lambda endpoint, method="GET": permissions.allowed(user, endpoint, method),
            "request_path": request.full_path.rstrip("?") if request else "/",
            "unread_messages": _unread(),
        }

    def _unread() -> int:
        """Unread messages of the logged-in user, for the badge in the navigation bar (one COUNT per page)."""
        if not current_user or not current_user.is_authenticated:
            return 0
        from assist.inbox.operations import unread_count

        try:
            return unread_count(current_user)
        except Exception:  # an error page must still render when the database is what failed
            return 0


def reason_text(reason: str) -> str:
    """A colour change's stored reason ("score:64", "hard_trigger:accident", ...) in the reader's language."""
    from assist.assessments.explain import trigger_text

    kind, _sep, value = (reason or "").partition(":")
    if kind == "score":
        return _("assessment score %(score)s", score=value)
    if kind == "hard_trigger":
        return _("hard trigger: %(what)s", what=trigger_text(value))
    return reason
