"""The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters with a mod-31 check character."""

import re

#: the code's alphabet: digits and capitals without I, O, S, V, Z
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_FORM = re.compile(rf"[{ALPHABET}]{{18}}")


def normalise(value: str) -> str:
    """Upper case without spaces or hyphens, as people type it."""
    return re.sub(r"[\s\-]", "", value or "").upper()


def check_char(body: str) -> str:
    """The 18th character for the first 17."""
    total = sum(ALPHABET.index(c) * w for c, w in zip(body, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def is_valid(code: str) -> bool:
    """True for an 18-character code of the right alphabet whose check character matches."""
    return bool(_FORM.fullmatch(code)) and check_char(code[:17]) == code[17]


def make(body: str) -> str:
    """A valid code from 17 characters (for demo data and tests)."""
    return body + check_char(body)
