"""Checks of plain values that several operations share: a text field, and the reason a decision needs.

Each check strips what it is given, returns the clean value and, when the value cannot be accepted, puts the message
under the field's name in ``errors`` (the operation raises one ValidationFailed with them all).
"""

import unicodedata

from flask_babel import lazy_gettext as _l

from assist.errors import ValidationFailed

#: a reason (for a rejection, a release, a termination …) fits on a line of the history
REASON_MAX = 200

#: characters that show nothing though their category says letter or symbol (Hangul and braille fillers); every
#: format character (category Cf) shows nothing too: zero-width spaces and joiners, the byte-order mark, and the bidi
#: controls that reorder the text around them on screen (U+061C, U+200E/F, U+202A–E, U+2066–9)
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def invisible(char: str) -> bool:
    """True for a character that shows nothing and is not a space: a format character or a blank letter."""
    return char in _BLANK_LETTERS or unicodedata.category(char) == "Cf"


def visible(value: str) -> str:
    """``value`` without spaces and invisible characters at either end (what ``str.strip`` does for spaces)."""
    start, end = 0, len(value)
    while start < end and (value[start].isspace() or invisible(value[start])):
        start += 1
    while end > start and (value[end - 1].isspace() or invisible(value[end - 1])):
        end -= 1
    return value[start:end]


def invisible_error(value: str) -> str | None:
    """The message for text that keeps an invisible character inside it (李, a zero-width space and 芳 is not 李芳 to a
    search, and a direction mark shows the text in another order than it is stored), else None."""
    if any(invisible(char) for char in value):
        return str(_l("Remove the invisible characters (zero-width spaces, direction marks)."))
    return None


def text(errors: dict[str, str], field: str, value, limit: int, required: bool = False) -> str:
    """Text of at most ``limit`` characters ("" when absent and not required); nothing invisible is kept at either
    end, and text with an invisible character inside is refused (so a name of zero-width characters is no name)."""
    value = visible(value) if isinstance(value, str) else value
    if value is None or value == "":
        if required:
            errors[field] = str(_l("This field is required."))
        return ""
    if not isinstance(value, str):
        errors[field] = str(_l("Enter text."))
        return ""
    if len(value) > limit:
        errors[field] = str(_l("At most %(n)s characters.", n=limit))
    elif problem := invisible_error(value):
        errors[field] = problem
    return value


def reason(errors: dict[str, str], value, field: str = "reason") -> str:
    """A required reason of at most REASON_MAX characters."""
    value = visible(value) if isinstance(value, str) else ""
    if not value:
        errors[field] = str(_l("Give a reason."))
    elif len(value) > REASON_MAX:
        errors[field] = str(_l("At most %(n)s characters.", n=REASON_MAX))
    elif problem := invisible_error(value):
        errors[field] = problem
    return value


def required_reason(value, field: str = "reason") -> str:
    """:func:`reason` for an operation that needs nothing else checked: raises ValidationFailed at once."""
    errors: dict[str, str] = {}
    value = reason(errors, value, field)
    if errors:
        raise ValidationFailed(errors[field], errors)
    return value
