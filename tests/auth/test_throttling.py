"""Failed logins tell nothing about which names exist (same words, same work), are throttled per name and address
together (a stranger cannot lock the owner out), anonymous registration's "user name taken" is throttled per address,
and old attempts are pruned by the daily job."""

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from assist.auth import operations
from assist.auth.models import ApiToken, LoginAttempt
from assist.db_types import utcnow
from assist.extensions import db
from tests import factories
from tests.conftest import PASSWORD, csrf_token

STRANGER = "10.0.0.9"


def _client(app, address: str = "127.0.0.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _token_answer(client, username: str, password: str):
    return client.post("/api/v1/tokens", json={"username": username, "password": password})


@pytest.fixture
def hashing(monkeypatch):
    """Counts of argon2 verifications and hashings (the real ones run)."""
    counts = {"verify": 0, "hash": 0}
    verify, hash_ = PasswordHasher.verify, PasswordHasher.hash

    def counting_verify(self, *args, **kwargs):
        counts["verify"] += 1
        return verify(self, *args, **kwargs)

    def counting_hash(self, *args, **kwargs):
        counts["hash"] += 1
        return hash_(self, *args, **kwargs)

    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)
    monkeypatch.setattr(PasswordHasher, "hash", counting_hash)
    return counts


def test_every_failed_login_costs_one_hash_verification_and_says_the_same(app, world, hashing):
    """An unknown name, a wrong password and a deactivated account: the same status and words, after exactly one
    argon2 verification each (and no hashing), so neither the answer nor its time tells which names exist."""
    world.cw_b.active = False
    db.session.commit()
    api = _client(app)
    _token_answer(api, "warm-up", "x")  # the dummy hash is made once per process
    answers = {}
    for case, username, password in (
        ("unknown", "nobody_here", "wrong password"),
        ("wrong password", "cw_a", "wrong password"),
        ("deactivated", "cw_b", PASSWORD),
    ):
        hashing.update(verify=0, hash=0)
        answer = _token_answer(api, username, password)
        assert hashing == {"verify": 1, "hash": 0}, case
        answers[case] = (answer.status_code, answer.get_json())
    assert len(set(map(repr, answers.values()))) == 1, answers
    assert answers["unknown"][0] == 401
    # the login page too: the same operation
    pages = _client(app)
    texts = set()
    for username, password in (("nobody_here", "wrong password"), ("cw_a", "wrong password"), ("cw_b", PASSWORD)):
        hashing.update(verify=0)
        page = pages.post("/login", data={"username": username, "password": password, "csrf_token": csrf_token(pages)})
        assert page.status_code == 401 and hashing["verify"] == 1
        texts.add(page.get_data(as_text=True).replace(username, ""))
    assert len(texts) == 1


def test_a_stranger_cannot_lock_out_a_user_who_logs_in_from_elsewhere(app, world):
    stranger, owner = _client(app, STRANGER), _client(app)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert _token_answer(stranger, "admin", "guess").status_code == 401
    locked = _token_answer(stranger, "admin", PASSWORD)
    assert locked.status_code == 429  # the stranger's address is locked for the name, even with the right password
    assert _token_answer(owner, "admin", PASSWORD).status_code == 201
    pages = _client(app)
    page = pages.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": csrf_token(pages)})
    assert page.status_code == 302


def test_a_locked_name_and_a_locked_unknown_name_answer_alike(app, world):
    stranger = _client(app, STRANGER)
    answers = []
    for username in ("admin", "no_such_user"):
        for _ in range(app.config["LOGIN_MAX_FAILURES"]):
            _token_answer(stranger, username, "guess")
        answer = _token_answer(stranger, username, "guess")
        answers.append((answer.status_code, answer.get_json()))
    assert answers[0] == answers[1] and answers[0][0] == 429


def test_one_address_guessing_many_names_is_locked(app, world):
    stranger = _client(app, STRANGER)
    for i in range(10 * app.config["LOGIN_MAX_FAILURES"]):
        assert _token_answer(stranger, f"name{i}", "guess").status_code == 401
    assert _token_answer(stranger, "cw_a", PASSWORD).status_code == 429
    assert _token_answer(_client(app), "cw_a", PASSWORD).status_code == 201


def test_a_name_guessed_from_everywhere_still_logs_in_from_where_it_did_before(app, world):
    """Failures of one name from many addresses refuse it to new addresses only: its owner's known address works."""
    assert _token_answer(_client(app), "admin", PASSWORD).status_code == 201  # the owner's usual address
    for i in range(10 * app.config["LOGIN_MAX_FAILURES"]):
        with pytest.raises(operations.LoginFailed):
            operations.authenticate("admin", "guess", f"10.1.{i // 200}.{i % 200}")
        db.session.commit()
    assert _token_answer(_client(app, "10.2.0.1"), "admin", PASSWORD).status_code == 429
    assert _token_answer(_client(app), "admin", PASSWORD).status_code == 201


def test_an_ipv6_host_is_counted_by_its_network():
    assert (
        operations.address_key("2001:db8:1:2::1")
        == operations.address_key("2001:db8:1:2:ffff::9")
        == ("2001:db8:1:2::/64")
    )
    assert operations.address_key("2001:db8:1:3::1") != operations.address_key("2001:db8:1:2::1")
    assert operations.address_key("::ffff:10.0.0.9") == "10.0.0.9"
    assert operations.address_key("10.0.0.9") == "10.0.0.9"
    assert operations.address_key("") == ""


def _registration(n: int, username: str) -> dict:
    return {
        "name": "平湖暖心食品有限公司",
        "credit_code": factories.credit_code(n),
        "contact_name": "周敏",
        "phone": "0573-85111111",
        "areas": ["330482001"],
        "pledge_posts": 3,
        "pledge_budget_fen": 150_000,
        "username": username,
        "password": PASSWORD,
    }


def test_registration_tells_an_address_a_name_is_taken_only_so_often(app, world):
    prober = _client(app, STRANGER)
    for n in range(app.config["REGISTRATION_MAX_NAMES_TAKEN"]):
        answer = prober.post("/api/v1/sponsors", json=_registration(9100 + n, "admin"))
        assert answer.status_code == 422 and "username" in answer.get_json()["error"]["fields"]
    refused = prober.post("/api/v1/sponsors", json=_registration(9200, "cw_a"))
    assert refused.status_code == 429 and "username" not in refused.get_json()["error"]["fields"]
    # the page too, for that address
    page = prober.post(
        "/sponsors/register",
        data={**_registration(9201, "cw_b"), "pledge_budget_fen": "1500", "csrf_token": csrf_token(prober, "/login")},
    )
    assert page.status_code == 429
    # another address registers as usual
    assert _client(app).post("/api/v1/sponsors", json=_registration(9300, "new_sponsor")).status_code == 201


def test_free_names_do_not_count_toward_the_registration_limit(app, world):
    prober = _client(app, STRANGER)
    for n in range(app.config["REGISTRATION_MAX_NAMES_TAKEN"] + 2):
        answer = prober.post("/api/v1/sponsors", json=_registration(9100 + n, f"free{n}") | {"phone": "bad"})
        assert answer.status_code == 422 and "phone" in answer.get_json()["error"]["fields"]


def test_the_daily_job_prunes_old_attempts_and_expired_tokens_and_can_run_twice(app, world):
    from jobs.tasks import database_statistics

    now = utcnow()
    keep = timedelta(days=app.config["LOGIN_ATTEMPTS_KEEP_DAYS"])
    db.session.add_all(
        [
            LoginAttempt(username="old", address=STRANGER, at=now - keep - timedelta(hours=1)),
            LoginAttempt(username="recent", address=STRANGER, at=now - keep + timedelta(hours=1)),
            ApiToken(user_id=world.cw_a.id, token_hash="a" * 64, expires_at=now - timedelta(minutes=1)),
            ApiToken(user_id=world.cw_a.id, token_hash="b" * 64, expires_at=now + timedelta(days=1)),
        ]
    )
    db.session.commit()
    first = database_statistics(app)
    assert first["login_attempts"] == 1 and first["expired_tokens"] == 1
    db.session.expire_all()
    assert db.session.scalars(select(LoginAttempt.username)).all() == ["recent"]
    assert db.session.scalars(select(ApiToken.token_hash)).all() == ["b" * 64]
    db.session.rollback()  # the job runs in its own app context; on SQLite this one must not hold the lock
    second = database_statistics(app)
    assert second["login_attempts"] == 0 and second["expired_tokens"] == 0
    assert db.session.scalar(select(func.count(LoginAttempt.id))) == 1
