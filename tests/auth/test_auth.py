"""Login, throttling across processes, passwords, CSRF, cookies and security headers."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select

from assist.audit.models import AuditEntry
from assist.auth import operations
from assist.auth.models import LoginAttempt, User
from assist.errors import Conflict
from assist.extensions import db
from tests.conftest import PASSWORD, csrf_token

ROOT = Path(__file__).resolve().parents[2]


def test_passwords_are_argon2id_hashes(world):
    assert world.admin.password_hash.startswith("$argon2id$")
    assert operations.check_password(world.admin, PASSWORD)
    assert not operations.check_password(world.admin, PASSWORD + "x")


def test_login_logout_and_the_login_is_audited(client, auth, world):
    response = auth.login("cw_a")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/families/").status_code == 200
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "login")) == 1
    auth.logout()
    response = client.get("/families/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_wrong_password_gives_a_message_not_a_hint(client, auth, world):
    response = auth.login("cw_a", "wrong password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    unknown = auth.login("nobody", "wrong password")
    assert unknown.status_code == 401


def test_inactive_users_cannot_log_in(client, auth, world):
    world.cw_b.active = False
    db.session.commit()
    assert auth.login("cw_b").status_code == 401


def test_open_redirects_are_refused(client, world):
    token = csrf_token(client)
    response = client.post(
        "/login?next=https://evil.example/x", data={"username": "cw_a", "password": PASSWORD, "csrf_token": token}
    )
    assert response.headers["Location"] == "/"


def test_throttling_locks_after_five_failures_even_with_the_right_password(client, auth, world):
    for _ in range(5):
        assert auth.login("cw_a", "nope").status_code == 401
    locked = auth.login("cw_a")
    assert locked.status_code == 429
    assert auth.login("cw_b").status_code == 302  # other names are not affected


def test_throttling_counts_failures_made_by_another_process(app, client, auth, world, database_url):
    """Failures recorded by a separate OS process lock the name here: the count lives in the database. (The other
    process fails from the test client's own address: failures from elsewhere lock only their own address.)"""
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from assist import create_app
        from assist.auth import operations
        from assist.extensions import db
        app = create_app("test", SQLALCHEMY_DATABASE_URI={database_url!r})
        with app.app_context():
            for _ in range(5):
                try:
                    operations.authenticate("cw_a", "guess", "127.0.0.1")
                except operations.LoginFailed:
                    db.session.commit()
        """
    )
    db.session.remove()
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    assert db.session.scalar(select(func.count(LoginAttempt.id)).where(LoginAttempt.username == "cw_a")) == 5
    assert auth.login("cw_a").status_code == 429


def test_forms_need_a_csrf_token(client, auth, world):
    response = client.post("/login", data={"username": "cw_a", "password": PASSWORD})
    assert response.status_code == 400
    auth.login("cw_a")
    response = client.post(f"/families/{world.family_a.id}/incomes", data={"month": "2026-01", "amount_fen": "100"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(db.metadata.tables["incomes"])) == 0


def test_session_cookie_flags(client, auth, world):
    response = auth.login("cw_a")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_security_headers_and_csp_without_inline_script(client, auth, world):
    auth.login("cw_a")
    response = client.get(f"/families/{world.family_a.id}")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "<script>" not in html and " style=" not in html and "onclick" not in html.lower()


def test_production_refuses_to_start_without_keys(monkeypatch):
    from assist import create_app
    from config import ConfigError

    for name in ("SECRET_KEY", "ASSIST_FIELD_KEY", "ASSIST_INDEX_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="ASSIST_FIELD_KEY"):
        create_app("production")


def test_admin_manages_users(client, auth, world):
    auth.login("admin")
    token = csrf_token(client, "/admin/users/new")
    response = client.post(
        "/admin/users/new",
        data={
            "username": "cw_new",
            "display_name": "新干部",
            "role": "caseworker",
            "areas": ["330482001"],
            "password": "long enough pw",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.username == "cw_new"))
    assert [a.code for a in user.areas] == ["330482001"]
    # a caseworker without areas is refused, with the message beside the field
    token = csrf_token(client, "/admin/users/new")
    response = client.post(
        "/admin/users/new",
        data={"username": "cw_none", "role": "caseworker", "password": "long enough pw", "csrf_token": token},
    )
    assert response.status_code == 422
    assert db.session.scalar(select(User).where(User.username == "cw_none")) is None
    # deactivate
    token = csrf_token(client, f"/admin/users/{user.id}")
    response = client.post(
        f"/admin/users/{user.id}",
        data={"username": "cw_new", "role": "caseworker", "areas": ["330482001"], "csrf_token": token},
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.active is False
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.entity_type == "user", AuditEntry.action == "update")
    ).one()
    assert entry.before == {"active": True} and entry.after == {"active": False}


def test_admin_cannot_lock_themselves_out(world):
    with pytest.raises(Conflict):
        operations.update_user(world.admin, world.admin, active=False)


def test_profile_password_change(client, auth, world):
    auth.login("cw_a")
    token = csrf_token(client, "/profile")
    bad = client.post(
        "/profile",
        data={"current": "wrong", "password": "new password 1", "confirm": "new password 1", "csrf_token": token},
    )
    assert bad.status_code == 422
    token = csrf_token(client, "/profile")
    ok = client.post(
        "/profile",
        data={"current": PASSWORD, "password": "new password 1", "confirm": "new password 1", "csrf_token": token},
    )
    assert ok.status_code == 302
    db.session.refresh(world.cw_a)
    assert operations.check_password(world.cw_a, "new password 1")
