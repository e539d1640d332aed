"""Encryption of ID numbers at rest and the keyed blind index used to find them."""

import base64
import hashlib
import hmac
import os
import time
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
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


# --- many values at once (an import encrypts and indexes 100,000 ID numbers) ----------------------------------------


def encrypt_many(plains: list[str], key: str | None = None) -> list[str]:
    """The Fernet tokens of many values: what :func:`encrypt` gives each, made in one pass.

    Fernet encrypts each value with AES-128-CBC under a fresh random IV and signs it with HMAC-SHA256; building its
    Python objects costs far more than the cipher itself. Here CBC is chained by hand over the whole batch (the block
    cipher runs once per block position for all values together) and each token is then signed as Fernet signs it.
    """
    key = key or current_app.config["ASSIST_FIELD_KEY"]
    return fernet_tokens([p.encode() for p in plains], key, int(time.time()), os.urandom(16 * len(plains)))


def fernet_tokens(plains: list[bytes], key: str, at: int, ivs: bytes) -> list[str]:
    """Fernet tokens of ``plains`` at time ``at``, the i-th under the i-th 16 bytes of ``ivs`` (which must be random)."""
    raw = base64.urlsafe_b64decode(key.encode())
    if len(raw) != 32:
        raise ValueError("a Fernet key is 32 bytes, base64-encoded")
    sign = _hmac_sha256(raw[:16])
    # AES on single blocks: CBC is C[j] = AES(P[j] xor C[j-1]) with C[-1] = IV, chained below (never plain ECB use)
    block = Cipher(algorithms.AES(raw[16:]), modes.ECB()).encryptor()  # noqa: S305
    padded = [p + bytes([16 - len(p) % 16]) * (16 - len(p) % 16) for p in plains]  # PKCS7, as Fernet pads
    by_blocks: dict[int, list[int]] = {}
    for i, p in enumerate(padded):
        by_blocks.setdefault(len(p) // 16, []).append(i)
    head = b"\x80" + at.to_bytes(8, "big")
    tokens: list[str] = [""] * len(plains)
    encode = base64.urlsafe_b64encode
    for blocks, which in by_blocks.items():
        chain = b"".join(ivs[16 * i : 16 * i + 16] for i in which)
        columns = [chain]
        for j in range(blocks):
            plain = b"".join(padded[i][16 * j : 16 * j + 16] for i in which)
            # the xor of the whole column of blocks at once, as one big integer
            chain = block.update((int.from_bytes(plain) ^ int.from_bytes(chain)).to_bytes(len(plain)))
            columns.append(chain)
        for n, i in enumerate(which):
            # the token's IV and its cipher blocks: the n-th 16 bytes of each column
            body = head + b"".join(col[16 * n : 16 * n + 16] for col in columns)
            tokens[i] = encode(body + sign(body)).decode()
    return tokens


def _hmac_sha256(key: bytes):
    """HMAC-SHA256 under ``key`` (RFC 2104) as a function of the message, with the keyed pads hashed once."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def mac(message: bytes) -> bytes:
        i = inner.copy()
        i.update(message)
        o = outer.copy()
        o.update(i.digest())
        return o.digest()

    return mac


def blind_indexes(values: list[str], key: str | None = None) -> list[str]:
    """:func:`blind_index` of each value (the key decoded once)."""
    mac = _hmac_sha256(_index_key(key or current_app.config["ASSIST_INDEX_KEY"]))
    return [mac(v.encode()).hex() for v in values]
