"""Resident ID numbers (居民身份证号码, GB 11643-1999): checking, normalising and masking."""

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from assist.db_types import local_today

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"


class InvalidIdNumber(ValueError):
    """The text is not a valid 18-character resident ID number; the message says why."""


def check_char(first17: str) -> str:
    """The GB 11643 check character (ISO 7064 MOD 11-2) for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


@dataclass(frozen=True)
class IdNumber:
    value: str
    birth_date: date
    male: bool

    @property
    def masked(self) -> str:
        return mask(self.value)


def parse(text: str, today: date | None = None) -> IdNumber:
    """Check ``text`` and return the normalised number (upper-case X) with its birth date and sex."""
    if not isinstance(text, str):
        raise InvalidIdNumber(_l("An ID number must be text."))
    value = text.strip().replace(" ", "").upper()
    if len(value) != 18:
        raise InvalidIdNumber(_l("An ID number has 18 characters; this one has %(n)s.", n=len(value)))
    if not value[:17].isdigit() or not value[:17].isascii() or not (value[17].isdigit() or value[17] == "X"):
        raise InvalidIdNumber(_l("An ID number is 17 digits followed by a digit or X."))
    if value[0] == "0":
        raise InvalidIdNumber(_l("The ID number's region code is not valid."))
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidIdNumber(_l("The birth date inside the ID number is not a real date.")) from None
    today = today or local_today()
    if born > today or born.year < 1900:
        raise InvalidIdNumber(_l("The birth date inside the ID number is not plausible."))
    if check_char(value[:17]) != value[17]:
        raise InvalidIdNumber(_l("The ID number's check character is wrong; please check for a typing error."))
    return IdNumber(value=value, birth_date=born, male=int(value[16]) % 2 == 1)


def is_valid(text: str) -> bool:
    """True when ``text`` is a valid ID number."""
    try:
        parse(text)
    except InvalidIdNumber:
        return False
    return True


def mask(value: str) -> str:
    """330482********123X: the region code and the last four characters, the rest hidden."""
    return value[:6] + "*" * 8 + value[-4:]


def birth_date_of(value: str) -> date:
    """The birth date inside a normalised (already checked) number: its 7th to 14th characters."""
    return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def make(region: str, born: date, sequence: int) -> str:
    """A valid number from its parts (used by demo data and tests)."""
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)
