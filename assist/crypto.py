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


def encrypt_bytes(plain: bytes, key: str | None = None) -> bytes:
    """Fernet ciphertext of a whole file (an import's original) under ASSIST_FIELD_KEY."""
    return _fernet(key or current_app.config["ASSIST_FIELD_KEY"]).encrypt(plain)


def decrypt_bytes(token: bytes, key: str | None = None) -> bytes:
    """The bytes written by :func:`encrypt_bytes`."""
    try:
        return _fernet(key or current_app.config["ASSIST_FIELD_KEY"]).decrypt(token)
    except InvalidToken as exc:
        raise RuntimeError("ASSIST_FIELD_KEY does not decrypt the stored import files") from exc


def blind_index(normalised: str) -> str:
    """HMAC-SHA256 of the normalised value under ASSIST_INDEX_KEY: equal inputs give equal indexes, nothing else leaks."""
    key = _index_key(current_app.config["ASSIST_INDEX_KEY"])
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()


# --- many values at once (an import encrypts and indexes 100,000 ID numbers) ----------------------------------------


def encrypt_many(plains: list[str], key: str | None = None) -> list[str]:
    """:func:`encrypt` of each value, with the key read once (each token has its own random IV, as Fernet makes it).

    A hand-built CBC over the whole batch was measured at a quarter of the cost; Fernet itself is kept: the cipher
    stays the library's, and this is not where an import spends most of its time.
    """
    fernet = _fernet(key or current_app.config["ASSIST_FIELD_KEY"])
    return [fernet.encrypt(p.encode()).decode() for p in plains]


def blind_indexes(values: list[str], key: str | None = None) -> list[str]:
    """:func:`blind_index` of each value: one keyed HMAC state, copied for each value (the key's pads hashed once)."""
    keyed = hmac.new(_index_key(key or current_app.config["ASSIST_INDEX_KEY"]), digestmod=hashlib.sha256)
    out = []
    for value in values:
        mac = keyed.copy()
        mac.update(value.encode())
        out.append(mac.hexdigest())
    return out
