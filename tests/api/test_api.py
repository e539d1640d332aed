"""The JSON API through the client: tokens, families, members, incomes, assessments, colour history, errors."""

from sqlalchemy import func, select

from assist.assessments.operations import months_back
from assist.audit.models import AuditEntry
from assist.db_types import local_today
from assist.extensions import db
from assist.families.models import Family, Member
from tests import factories
from tests.conftest import PASSWORD


def token_for(client, username):
    response = client.post("/api/v1/tokens", json={"username": username, "password": PASSWORD})
    assert response.status_code == 201, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def error_of(response):
    body = response.get_json()
    assert set(body) == {"error"} and {"code", "message", "fields"} <= set(body["error"])
    return body["error"]


def test_health_needs_no_login(client):
    assert client.get("/api/v1/health").get_json() == {"status": "ok"}


def test_openapi_is_generated_and_lists_the_contract(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    for path in (
        "/api/v1/health",
        "/api/v1/tokens",
        "/api/v1/areas",
        "/api/v1/families",
        "/api/v1/families/{family_id}",
        "/api/v1/families/{family_id}/members",
        "/api/v1/families/{family_id}/incomes",
        "/api/v1/families/{family_id}/assessments",
        "/api/v1/families/{family_id}/colour-history",
    ):
        assert path in paths, path
    assert "bearerAuth" in spec["components"]["securitySchemes"]


def test_bad_credentials_and_missing_tokens_answer_401(client, world):
    assert (
        error_of(client.post("/api/v1/tokens", json={"username": "cw_a", "password": "nope"}))["code"] == "unauthorized"
    )
    assert client.get("/api/v1/families").status_code == 401
    response = client.get("/api/v1/families", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401 and error_of(response)["code"] == "unauthorized"


def test_family_lifecycle_through_the_api(client, world):
    headers = token_for(client, "cw_a")
    head = factories.id_number()
    body = {
        "head_name": "赵敏",
        "head_id_number": head.lower(),
        "phone": "13700000001",
        "address": "东湖社区5号",
        "area_code": "330482001001",
        "hardship_category": "deep",
        "members": [
            {
                "relation": "child",
                "name": "赵小",
                "id_number": factories.id_number(),
                "work_ability": "none",
                "health": "disabled",
                "disability_grade": 1,
            }
        ],
    }
    created = client.post("/api/v1/families", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    family = created.get_json()
    assert family["colour"] in ("red", "yellow", "green") and isinstance(family["score"], int)
    assert family["head_id_number"] == head[:6] + "********" + head[-4:]
    fid = family["id"]

    listed = client.get("/api/v1/families?colour=" + family["colour"], headers=headers).get_json()
    assert fid in [f["id"] for f in listed["items"]] and listed["total"] >= 1
    assert client.get("/api/v1/families?q=赵", headers=headers).get_json()["total"] == 1

    patched = client.patch(f"/api/v1/families/{fid}", json={"phone": "13700000002", "housing": "none"}, headers=headers)
    assert patched.status_code == 200 and patched.get_json()["phone"] == "13700000002"

    member = client.post(
        f"/api/v1/families/{fid}/members",
        json={"relation": "spouse", "name": "钱芳", "id_number": factories.id_number()},
        headers=headers,
    )
    assert member.status_code == 201 and member.get_json()["id_number"].count("*") == 8

    last_month = months_back(local_today(), 1)[0]  # recent enough to count in the assessment
    income = client.post(
        f"/api/v1/families/{fid}/incomes", json={"month": last_month, "amount_fen": 90_000}, headers=headers
    )
    assert income.status_code == 201
    again = client.post(
        f"/api/v1/families/{fid}/incomes", json={"month": last_month, "amount_fen": 95_000}, headers=headers
    )
    assert again.status_code == 200 and again.get_json()["amount_fen"] == 95_000

    assessment = client.post(f"/api/v1/families/{fid}/assessments", json={"kind": "review"}, headers=headers)
    assert assessment.status_code == 201
    a = assessment.get_json()
    assert a["colour"] == "red" and a["primary_type"] in a["types"]
    assert {f["name"] for f in a["factors"]} >= {"income", "work_ability", "illness"} and all(
        isinstance(f["points"], int) for f in a["factors"]
    )

    history = client.get(f"/api/v1/families/{fid}/colour-history", headers=headers).get_json()
    assert history[-1]["from"] is None and history[0]["to"] == "red" and history[-1]["by"] == "cw_a"

    revealed = client.get(f"/api/v1/families/{fid}?reveal=1", headers=headers).get_json()
    assert revealed["head_id_number"] == head
    assert (
        db.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "reveal_id", AuditEntry.family_id == fid)
        )
        == 3
    )


def test_records_outside_scope_are_404_and_roles_without_access_403(client, world):
    cw_b = token_for(client, "cw_b")
    fid = world.family_a.id
    for url in (
        f"/api/v1/families/{fid}",
        f"/api/v1/families/{fid}/colour-history",
        f"/api/v1/families/{fid}/assessments",
    ):
        response = client.get(url, headers=cw_b)
        assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    assert client.post(f"/api/v1/families/{fid}/assessments", json={}, headers=cw_b).status_code == 404
    sponsor = token_for(client, "sponsor")
    response = client.get("/api/v1/families", headers=sponsor)
    assert response.status_code == 403 and error_of(response)["code"] == "forbidden"
    assert client.get(f"/api/v1/families/{2**31 + 5}", headers=cw_b).status_code == 404


def test_validation_errors_name_the_fields_and_change_nothing(client, world):
    headers = token_for(client, "cw_a")
    before = db.session.scalar(select(func.count(Family.id)))
    response = client.post(
        "/api/v1/families",
        json={
            "head_name": "",
            "head_id_number": "33048219800517123",
            "area_code": "330482001001",
            "hardship_category": "poor",
        },
        headers=headers,
    )
    assert response.status_code == 422
    fields = error_of(response)["fields"]
    assert "hardship_category" in fields
    response = client.post(
        "/api/v1/families",
        json={
            "head_name": "孙",
            "head_id_number": "33048219800517123",
            "area_code": "330482001001",
            "hardship_category": "deep",
        },
        headers=headers,
    )
    assert response.status_code == 422 and "head_id_number" in error_of(response)["fields"]
    response = client.post(
        f"/api/v1/families/{world.family_a.id}/incomes", json={"month": "2026-13", "amount_fen": "12"}, headers=headers
    )
    assert response.status_code == 422 and {"month", "amount_fen"} <= set(error_of(response)["fields"])
    assert db.session.scalar(select(func.count(Family.id))) == before


def test_duplicate_person_is_409_naming_the_file(client, world):
    headers = token_for(client, "cw_a")
    number = client.get(f"/api/v1/families/{world.family_a.id}?reveal=1", headers=headers).get_json()["head_id_number"]
    before = db.session.scalar(select(func.count(Member.id)))
    response = client.post(
        "/api/v1/families",
        json={"head_name": "重复", "head_id_number": number, "area_code": "330482001001", "hardship_category": "deep"},
        headers=headers,
    )
    assert response.status_code == 409
    err = error_of(response)
    assert err["code"] == "conflict" and str(world.family_a.id) in err["message"]
    assert db.session.scalar(select(func.count(Member.id))) == before


def test_areas_read_by_staff_written_by_admin(client, world):
    cw = token_for(client, "cw_a")
    codes = [a["code"] for a in client.get("/api/v1/areas", headers=cw).get_json()]
    assert codes == ["330482001", "330482001001"]
    assert (
        client.post(
            "/api/v1/areas", json={"code": "330482003", "name": "曹桥街道", "parent_code": "330482"}, headers=cw
        ).status_code
        == 403
    )
    admin = token_for(client, "admin")
    response = client.post(
        "/api/v1/areas", json={"code": "330482003", "name": "曹桥街道", "parent_code": "330482"}, headers=admin
    )
    assert response.status_code == 201 and response.get_json()["parent_code"] == "330482"
    assert client.post("/api/v1/areas", json={"code": "330482003", "name": "重复"}, headers=admin).status_code == 409


def test_session_calls_to_the_api_need_csrf(client, auth, world):
    auth.login("cw_a")
    assert client.get("/api/v1/families").status_code == 200
    response = client.post(f"/api/v1/families/{world.family_a.id}/assessments", json={})
    assert response.status_code == 400 and error_of(response)["code"] == "bad_request"
