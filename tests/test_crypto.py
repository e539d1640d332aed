"""Encrypting and indexing many ID numbers at once gives what the one-value functions give."""

import pytest
from cryptography.fernet import Fernet
from hypothesis import given
from hypothesis import strategies as st

from assist import crypto

FIELD_KEY = Fernet.generate_key().decode()
INDEX_KEY = "dGVzdC1pbmRleC1rZXktMzItYnl0ZXMtbG9uZy0wMDA="
values = st.lists(st.text(max_size=70), max_size=40)


def test_every_length_round_trips_through_fernet(app):
    plains = ["", "1", "x" * 15, "x" * 16, "x" * 17, "330482198005171234", "y" * 31, "y" * 32, "中文" * 20]
    tokens = crypto.encrypt_many(plains)
    assert [crypto.decrypt(t) for t in tokens] == plains
    # a fresh IV for each value: the same value twice is two different tokens
    twice = crypto.encrypt_many(["330482198005171234", "330482198005171234"])
    assert twice[0] != twice[1]


def test_a_wrong_key_is_refused():
    with pytest.raises(ValueError):
        crypto.encrypt_many(["x"], key="c2hvcnQ=")


@given(values)
def test_the_blind_indexes_are_the_one_value_ones(plains):
    import hashlib
    import hmac

    key = crypto._index_key(INDEX_KEY)
    assert crypto.blind_indexes(plains, INDEX_KEY) == [
        hmac.new(key, p.encode(), hashlib.sha256).hexdigest() for p in plains
    ]


def test_a_key_longer_than_a_block_is_hashed_first_as_hmac_does():
    import hashlib
    import hmac

    long_key = "k" * 100
    assert crypto.blind_indexes(["330482198005171234"], long_key) == [
        hmac.new(crypto._index_key(long_key), b"330482198005171234", hashlib.sha256).hexdigest()
    ]


def test_the_app_uses_its_own_index_key(app):
    assert crypto.blind_indexes(["330482198005171234"]) == [crypto.blind_index("330482198005171234")]


def test_whole_files_round_trip_and_hide_what_they_hold(app):
    content = "姓名,身份证号\n周建国,330482198005171234\n".encode() * 1000
    token = crypto.encrypt_bytes(content)
    assert b"330482198005171234" not in token and crypto.decrypt_bytes(token) == content
    with pytest.raises(RuntimeError):
        crypto.decrypt_bytes(token, key=FIELD_KEY)
