"""Checks of plain values that several operations share: a text field, and the reason a decision needs.

Each check strips what it is given, returns the clean value and, when the value cannot be accepted, puts the message
under the field's name in ``errors`` (the operation raises one ValidationFailed with them all).
"""

from flask_babel import lazy_gettext as _l

from assist.errors import ValidationFailed

#: a reason (for a rejection, a release, a termination …) fits on a line of the history
REASON_MAX = 200


def text(errors: dict[str, str], field: str, value, limit: int, required: bool = False) -> str:
    """Text of at most ``limit`` characters ("" when absent and not required)."""
    value = value.strip() if isinstance(value, str) else value
    if value is None or value == "":
        if required:
            errors[field] = str(_l("This field is required."))
        return ""
    if not isinstance(value, str):
        errors[field] = str(_l("Enter text."))
        return ""
    if len(value) > limit:
        errors[field] = str(_l("At most %(n)s characters.", n=limit))
    return value


def reason(errors: dict[str, str], value, field: str = "reason") -> str:
    """A required reason of at most REASON_MAX characters."""
    value = value.strip() if isinstance(value, str) else ""
    if not value:
        errors[field] = str(_l("Give a reason."))
    elif len(value) > REASON_MAX:
        errors[field] = str(_l("At most %(n)s characters.", n=REASON_MAX))
    return value


def required_reason(value, field: str = "reason") -> str:
    """:func:`reason` for an operation that needs nothing else checked: raises ValidationFailed at once."""
    errors: dict[str, str] = {}
    value = reason(errors, value, field)
    if errors:
        raise ValidationFailed(errors[field], errors)
    return value
