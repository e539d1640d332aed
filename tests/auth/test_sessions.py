"""Sessions and API tokens end: at logout, a password change and deactivation (every one of the user's, in every
process), at DELETE /api/v1/tokens (that token), and after the session's idle and absolute lifetimes."""

import subprocess
import sys
import textwrap
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from assist.auth import operations
from assist.auth.models import ApiToken
from assist.db_types import utcnow
from assist.extensions import db
from assist.security import LOGIN_AT, SEEN_AT
from tests.conftest import PASSWORD, Auth, csrf_token

ROOT = Path(__file__).resolve().parents[2]


def _token(client, username: str = "cw_a", password: str = PASSWORD) -> dict[str, str]:
    answer = client.post("/api/v1/tokens", json={"username": username, "password": password})
    assert answer.status_code == 201, answer.get_json()
    return {"Authorization": f"Bearer {answer.get_json()['token']}"}


def _logged_in(app, username: str = "cw_a"):
    client = app.test_client()
    assert Auth(client).login(username).status_code == 302
    return client


def _copy(client, app):
    """Another browser holding a copy of ``client``'s session cookie."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def _in(client) -> bool:
    """Whether the client's session is still logged in (the family list, or a redirect to the login page)."""
    response = client.get("/families/")
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def _token_works(client, headers) -> bool:
    status = client.get("/api/v1/families", headers=headers).status_code
    assert status in (200, 401), status
    return status == 200


def test_a_copied_session_cookie_ends_at_logout(app, world):
    browser = _logged_in(app)
    copy = _copy(browser, app)
    assert _in(copy)
    Auth(browser).logout()
    assert not _in(browser)
    assert not _in(copy)


def test_logout_ends_every_session_and_token_of_the_user_and_no_one_elses(app, world):
    phone, laptop, other_user = _logged_in(app), _logged_in(app), _logged_in(app, "cw_b")
    api = app.test_client()
    mine, theirs = _token(api), _token(api, "cw_b")
    Auth(phone).logout()
    assert not _in(laptop) and not _token_works(api, mine)
    assert _in(other_user) and _token_works(api, theirs)
    # logging in again works, with a fresh session
    assert Auth(phone).login("cw_a").status_code == 302 and _in(phone)


def test_a_password_change_ends_the_other_sessions_and_tokens_but_not_this_one(app, world):
    here, elsewhere = _logged_in(app), _logged_in(app)
    stolen = _copy(here, app)
    api = app.test_client()
    headers = _token(api)
    token = csrf_token(here, "/profile")
    answer = here.post(
        "/profile",
        data={"current": PASSWORD, "password": "new password 1", "confirm": "new password 1", "csrf_token": token},
    )
    assert answer.status_code == 302
    assert _in(here)
    assert not _in(elsewhere) and not _in(stolen)
    assert not _token_works(api, headers)
    assert _token_works(api, _token(api, "cw_a", "new password 1"))


def test_the_admin_setting_a_password_ends_the_users_sessions_and_tokens(app, world):
    browser = _logged_in(app)
    api = app.test_client()
    headers = _token(api)
    operations.update_user(world.admin, world.cw_a, password="set by the admin")
    db.session.commit()
    assert not _in(browser) and not _token_works(api, headers)


def test_deactivation_ends_sessions_and_tokens_for_good(app, world):
    """Reactivating the account does not bring the old sessions and tokens back."""
    browser = _logged_in(app)
    api = app.test_client()
    headers = _token(api)
    operations.update_user(world.admin, world.cw_a, active=False)
    db.session.commit()
    assert not _in(browser) and not _token_works(api, headers)
    operations.update_user(world.admin, world.cw_a, active=True)
    db.session.commit()
    assert not _in(browser) and not _token_works(api, headers)
    assert db.session.scalar(select(func.count(ApiToken.id)).where(ApiToken.user_id == world.cw_a.id)) == 0


def test_delete_tokens_revokes_the_token_it_is_called_with(app, world):
    api = app.test_client()
    first, second = _token(api), _token(api)
    answer = api.delete("/api/v1/tokens", headers=first)
    assert answer.status_code == 204 and answer.get_data() == b""
    assert not _token_works(api, first)
    assert _token_works(api, second)  # only that one
    again = api.delete("/api/v1/tokens", headers=first)
    assert again.status_code == 401 and again.get_json()["error"]["code"] == "unauthorized"
    assert api.delete("/api/v1/tokens").status_code == 401


def test_delete_tokens_from_a_session_names_what_is_missing(app, world):
    browser = _logged_in(app)
    answer = browser.delete("/api/v1/tokens", headers={"X-CSRFToken": csrf_token(browser, "/profile")})
    assert answer.status_code == 400 and "Bearer" in answer.get_json()["error"]["message"]
    assert _in(browser)


def test_the_token_answer_says_when_it_expires(app, world):
    before = utcnow()
    body = app.test_client().post("/api/v1/tokens", json={"username": "cw_a", "password": PASSWORD}).get_json()
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert expires_at.utcoffset() == timedelta(0)
    days = timedelta(days=app.config["API_TOKEN_DAYS"])
    assert before + days - timedelta(seconds=1) <= expires_at <= utcnow() + days
    row = db.session.scalars(select(ApiToken)).one()
    assert abs(row.expires_at - expires_at) < timedelta(seconds=1)


def test_the_openapi_description_has_the_token_revocation(client):
    tokens = client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/tokens"]
    assert "204" in tokens["delete"]["responses"] and "401" in tokens["delete"]["responses"]
    schema = tokens["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert "$ref" in schema or "expires_at" in schema["properties"]


def test_an_ended_session_and_token_stay_ended_in_every_process(app, world, database_url):
    """Logout in another OS process (another web worker or host) ends the session and the token used here."""
    browser = _logged_in(app)
    api = app.test_client()
    headers = _token(api)
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from assist import create_app
        from tests.conftest import Auth
        app = create_app("test", SQLALCHEMY_DATABASE_URI={database_url!r})
        auth = Auth(app.test_client())
        assert auth.login("cw_a").status_code == 302
        assert auth.logout().status_code == 302
        """
    )
    db.session.remove()
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    assert not _in(browser) and not _token_works(api, headers)


def test_a_session_ends_after_its_idle_time(app, world):
    browser = _logged_in(app)
    with browser.session_transaction() as session:
        session[SEEN_AT] -= app.config["SESSION_IDLE_SECONDS"] - 120
    assert _in(browser)  # used within the idle time: it goes on, and counts from now
    with browser.session_transaction() as session:
        assert session[SEEN_AT] >= int(utcnow().timestamp()) - 5
        session[SEEN_AT] -= app.config["SESSION_IDLE_SECONDS"] + 1
    assert not _in(browser)


def test_a_session_ends_after_its_absolute_lifetime_however_busy(app, world):
    browser = _logged_in(app)
    with browser.session_transaction() as session:
        session[LOGIN_AT] -= app.config["SESSION_MAX_SECONDS"] - 60
    assert _in(browser)
    with browser.session_transaction() as session:
        session[LOGIN_AT] -= 120
    assert not _in(browser)


def test_a_client_logs_in_again_while_still_sending_its_ended_token(app, world):
    api = app.test_client()
    headers = _token(api)
    assert api.delete("/api/v1/tokens", headers=headers).status_code == 204
    again = api.post("/api/v1/tokens", json={"username": "cw_a", "password": PASSWORD}, headers=headers)
    assert again.status_code == 201
    assert _token_works(api, {"Authorization": f"Bearer {again.get_json()['token']}"})


def test_logging_out_is_in_the_audit_log(app, world):
    from assist.audit.models import AuditEntry

    phone = _logged_in(app)
    Auth(phone).logout()
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.actor_name == "cw_a").order_by(AuditEntry.id)
        ).all()
    assert actions[-2:] == ["login", "logout"]
