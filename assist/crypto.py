"""Encryption of ID numbers at rest and the keyed blind index used to find them."""

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app


@lru_cache(maxsize=8)
def _fernet(key: str) -> Fernet:
    return Fernet(key.encode())


def _index_key(key: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(key.encode())
    except ValueError:
        return key.encode()


def encrypt(plain: str) -> str:
    """Fernet (AES-128-CBC + HMAC-SHA256) ciphertext of ``plain`` under ASSIST_FIELD_KEY."""
    return _fernet(current_app.config["ASSIST_FIELD_KEY"]).encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    """The plain text of a value written by :func:`encrypt`."""
    try:
        return _fernet(current_app.config["ASSIST_FIELD_KEY"]).decrypt(token.encode()).decode()
    except InvalidToken as exc:  # a wrong key is an operator error, never a user's
        raise RuntimeError("ASSIST_FIELD_KEY does not decrypt the stored ID numbers") from exc


def blind_index(normalised: str) -> str:
    """HMAC-SHA256 of the normalised value under ASSIST_INDEX_KEY: equal inputs give equal indexes, nothing else leaks."""
    key = _index_key(current_app.config["ASSIST_INDEX_KEY"])
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()
