"""Sponsors through the API: public registration, the admin's list and decision, each sponsor's own record."""

from sqlalchemy import func, select

from assist.audit.models import AuditEntry
from assist.extensions import db
from assist.sponsors.models import Sponsor
from tests import factories
from tests.api.test_api import error_of, token_for
from tests.conftest import PASSWORD


def registration(n: int, **overrides) -> dict:
    return {
        "name": "平湖暖心食品有限公司",
        "credit_code": factories.credit_code(n),
        "contact_name": "周敏",
        "phone": "0573-85111111",
        "areas": ["330482001"],
        "pledge_posts": 3,
        "pledge_budget_fen": 150_000,
        "username": f"warm{n}",
        "password": PASSWORD,
        **overrides,
    }


def test_anyone_registers_a_pending_sponsor_whose_user_can_log_in(client, world):
    answer = client.post("/api/v1/sponsors", json=registration(9001))
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["status"] == "pending" and body["areas"] == ["330482001"]
    assert body["pledge_budget_fen"] == 150_000 and body["remaining_posts"] == 3
    assert "password" not in body and "username" not in body
    sponsor = db.session.get(Sponsor, body["id"])
    assert sponsor.credit_code == factories.credit_code(9001)
    assert db.session.scalar(
        select(func.count()).where(AuditEntry.action == "register", AuditEntry.entity_id == str(sponsor.id))
    )
    # the first user logs in and sees its own organisation, pending
    headers = token_for(client, "warm9001")
    own = client.get(f"/api/v1/sponsors/{sponsor.id}", headers=headers)
    assert own.status_code == 200 and own.get_json()["status"] == "pending"


def test_registration_errors_name_the_fields_and_register_nothing(client, world):
    before = db.session.scalar(select(func.count(Sponsor.id)))
    code = factories.credit_code(9002)
    bad_check = code[:-1] + ("0" if code[-1] != "0" else "1")
    cases = [
        ({"credit_code": bad_check}, "credit_code"),
        ({"credit_code": "123"}, "credit_code"),
        ({"areas": ["999999"]}, "areas"),
        ({"password": "short"}, "password"),
        ({"username": "cw_a"}, "username"),  # taken
        ({"phone": "call me"}, "phone"),
        ({"pledge_posts": -1}, "pledge_posts"),
        ({"pledge_budget_fen": "1000"}, "pledge_budget_fen"),
        ({"name": ""}, "name"),
    ]
    for change, field in cases:
        answer = client.post("/api/v1/sponsors", json=registration(9002, **change))
        assert answer.status_code == 422, (change, answer.get_json())
        assert field in error_of(answer)["fields"], (change, answer.get_json())
    missing = client.post("/api/v1/sponsors", json={"name": "x"})
    assert missing.status_code == 422 and "credit_code" in error_of(missing)["fields"]
    assert db.session.scalar(select(func.count(Sponsor.id))) == before


def test_a_credit_code_registers_once(client, world):
    assert client.post("/api/v1/sponsors", json=registration(9003)).status_code == 201
    again = client.post("/api/v1/sponsors", json=registration(9003, username="someone_else"))
    assert again.status_code in (409, 422) and "credit_code" in error_of(again)["fields"]


def test_admin_lists_and_filters_a_sponsor_sees_only_its_own(client, world):
    pending = [factories.sponsor(f"待审{i}有限公司", approved=False) for i in range(3)]
    approved = factories.sponsor("已批准有限公司", admin=world.admin, username="approved_user")
    db.session.commit()
    admin = token_for(client, "admin")
    everything = client.get("/api/v1/sponsors", headers=admin).get_json()
    assert everything["total"] == 4
    only_pending = client.get("/api/v1/sponsors?status=pending&per_page=2", headers=admin).get_json()
    assert only_pending["total"] == 3 and len(only_pending["items"]) == 2
    page2 = client.get("/api/v1/sponsors?status=pending&per_page=2&page=2", headers=admin).get_json()
    assert {s["id"] for s in only_pending["items"] + page2["items"]} == {s.id for s in pending}
    assert client.get("/api/v1/sponsors?status=nonsense", headers=admin).status_code == 422

    mine = client.get("/api/v1/sponsors", headers=token_for(client, "approved_user")).get_json()
    assert [s["id"] for s in mine["items"]] == [approved.id] and mine["total"] == 1
    # another organisation's record is not found; caseworkers and anonymous callers are refused
    headers = token_for(client, "approved_user")
    assert client.get(f"/api/v1/sponsors/{pending[0].id}", headers=headers).status_code == 404
    assert client.get("/api/v1/sponsors/999999", headers=admin).status_code == 404
    assert client.get("/api/v1/sponsors", headers=token_for(client, "cw_a")).status_code == 403
    assert client.get("/api/v1/sponsors").status_code == 401


def test_admin_approves_or_rejects_with_a_reason(client, world):
    first = factories.sponsor("甲有限公司", approved=False)
    second = factories.sponsor("乙有限公司", approved=False)
    db.session.commit()
    admin = token_for(client, "admin")

    approved = client.post(f"/api/v1/sponsors/{first.id}/approve", json={}, headers=admin)
    assert approved.status_code == 200 and approved.get_json()["status"] == "approved"
    again = client.post(f"/api/v1/sponsors/{first.id}/approve", json={}, headers=admin)
    assert again.status_code == 409 and error_of(again)["code"] == "conflict"

    no_reason = client.post(f"/api/v1/sponsors/{second.id}/reject", json={"reason": "  "}, headers=admin)
    assert no_reason.status_code == 422 and "reason" in error_of(no_reason)["fields"]
    rejected = client.post(f"/api/v1/sponsors/{second.id}/reject", json={"reason": "资质不符"}, headers=admin)
    assert rejected.status_code == 200
    assert rejected.get_json()["status"] == "rejected" and rejected.get_json()["status_reason"] == "资质不符"
    # an approved sponsor cannot be rejected (suspension is the way)
    late = client.post(f"/api/v1/sponsors/{first.id}/reject", json={"reason": "x"}, headers=admin)
    assert late.status_code == 409
    assert client.post("/api/v1/sponsors/999999/approve", json={}, headers=admin).status_code == 404
    assert (
        db.session.scalar(
            select(func.count()).where(
                AuditEntry.action.in_(["approve", "reject"]), AuditEntry.entity_type == "sponsor"
            )
        )
        == 2
    )

    # only the admin decides
    for username in ("cw_a", "sponsor"):
        answer = client.post(f"/api/v1/sponsors/{second.id}/approve", json={}, headers=token_for(client, username))
        assert answer.status_code == 403 and error_of(answer)["code"] == "forbidden"
    assert db.session.get(Sponsor, second.id).status.value == "rejected"


def test_registration_is_a_json_call_without_csrf_even_beside_a_session(client, auth, world):
    """Like the token exchange, registration takes JSON only (a cross-site form cannot send it), so no CSRF token."""
    auth.login("cw_a")
    answer = client.post("/api/v1/sponsors", json=registration(9004))
    assert answer.status_code == 201, answer.get_json()


def test_openapi_describes_the_issue_3_rows(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path, methods in {
        "/api/v1/sponsors": {"get", "post"},
        "/api/v1/sponsors/{sponsor_id}": {"get"},
        "/api/v1/sponsors/{sponsor_id}/approve": {"post"},
        "/api/v1/sponsors/{sponsor_id}/reject": {"post"},
        "/api/v1/posts": {"get", "post"},
        "/api/v1/posts/{post_id}": {"get"},
        "/api/v1/posts/{post_id}/publish": {"post"},
        "/api/v1/posts/{post_id}/claim": {"post"},
        "/api/v1/posts/{post_id}/withdraw": {"post"},
        "/api/v1/market": {"get"},
        "/api/v1/agreements": {"post"},
        "/api/v1/agreements/{agreement_id}": {"get"},
        "/api/v1/agreements/{agreement_id}/pdf": {"get"},
        "/api/v1/agreements/{agreement_id}/sign": {"post"},
        "/api/v1/agreements/{agreement_id}/terminate": {"post"},
    }.items():
        assert methods <= set(paths[path]), path
        for method in methods:
            assert paths[path][method].get("summary"), (path, method)
    assert paths["/api/v1/sponsors"]["post"]["security"] == []  # public registration
    claim = paths["/api/v1/posts/{post_id}/claim"]["post"]["responses"]
    assert {"200", "403", "409"} <= set(claim)
    assert "application/pdf" in paths["/api/v1/agreements/{agreement_id}/pdf"]["get"]["responses"]["200"]["content"]
