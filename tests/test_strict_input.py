"""Strict input (issue 10, item 11): a month with a trailing newline, names made of invisible characters, an empty
PATCH and a method a route does not take are each a clear 4xx that changes nothing."""

import pytest
from sqlalchemy import func, select

from assist.extensions import db
from tests.conftest import PASSWORD, csrf_token

#: what ``$`` let through: it matches before a final newline
NEWLINE_MONTHS = ["2026-01\n", "2026-01\r\n", "2026-01\n\n", "2026-01\r"]
#: names that show nothing: zero-width characters, bidi controls, the byte-order mark, a Hangul filler
INVISIBLE_NAMES = [
    "\u200b",
    "\u200b\u200c\u200d",
    "\u202e\u202d\u202c",
    "\u2066\u2069",
    "\u200e\u200f",
    "\ufeff",
    "\u3164",
    " \u200b ",
]


def token_for(client, username: str) -> dict:
    response = client.post("/api/v1/tokens", json={"username": username, "password": PASSWORD})
    assert response.status_code == 201, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def error_of(response) -> dict:
    body = response.get_json()
    assert set(body) == {"error"} and {"code", "message", "fields"} <= set(body["error"]), body
    return body["error"]


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# a month is exactly YYYY-MM ------------------------------------------------------------------------------------------


def test_the_month_checks_refuse_a_trailing_newline():
    from assist.families.operations import MONTH

    assert MONTH.match("2026-01")
    for month in NEWLINE_MONTHS:
        assert MONTH.match(month) is None, repr(month)


def test_an_income_month_with_a_trailing_newline_is_refused_by_the_api(app, client, world):
    from assist.families.models import Income

    headers = token_for(client, "cw_a")
    before = _count(Income)
    response = client.post(
        f"/api/v1/families/{world.family_a.id}/incomes",
        json={"month": "2026-01\n", "amount_fen": 100_000},
        headers=headers,
    )
    assert response.status_code == 422
    assert "month" in error_of(response)["fields"]
    assert _count(Income) == before
    listed = client.get("/api/v1/stipends?month=2026-01%0A", headers=token_for(client, "admin"))
    assert listed.status_code == 422 and "month" in error_of(listed)["fields"]


def test_generating_a_month_with_a_trailing_newline_is_refused_beside_the_field(app, client, auth, world):
    from assist.stipends.models import StipendBatch

    auth.login("admin")
    token = csrf_token(client, "/stipends/batches")
    response = client.post("/stipends/batches/generate", data={"month": "2026-01\n", "csrf_token": token})
    assert response.status_code == 422
    assert "YYYY-MM" in response.get_data(as_text=True) or "年-月" in response.get_data(as_text=True)
    assert _count(StipendBatch) == 0


def test_operations_refuse_a_month_with_a_trailing_newline(app, world):
    from assist.errors import ValidationFailed
    from assist.stipends.operations import generate_month

    with pytest.raises(ValidationFailed):
        generate_month("2026-01\n", world.admin)


# names show something ------------------------------------------------------------------------------------------------


def test_family_names_of_invisible_characters_are_refused_by_the_api(app, client, world):
    from assist.families.models import Family, Member
    from tests.factories import id_number

    headers = token_for(client, "cw_a")
    families, members = _count(Family), _count(Member)
    for name in INVISIBLE_NAMES:
        body = {
            "head_name": name,
            "head_id_number": id_number(),
            "area_code": "330482001001",
            "hardship_category": "deep",
        }
        response = client.post("/api/v1/families", json=body, headers=headers)
        assert response.status_code == 422, (repr(name), response.get_json())
        assert "head_name" in error_of(response)["fields"], repr(name)
        added = client.post(
            f"/api/v1/families/{world.family_a.id}/members",
            json={"relation": "child", "name": name, "id_number": id_number()},
            headers=headers,
        )
        assert added.status_code == 422 and "name" in error_of(added)["fields"], repr(name)
    inside = client.post(
        f"/api/v1/families/{world.family_a.id}/members",
        json={"relation": "child", "name": "李\u200b芳", "id_number": id_number()},
        headers=headers,
    )
    assert inside.status_code == 422 and "name" in error_of(inside)["fields"]
    assert (_count(Family), _count(Member)) == (families, members)


def test_operations_refuse_names_of_invisible_characters(app, world):
    """Every operation that takes a name: a family's members, a sponsor, an area, a post; a user's display name."""
    from assist.areas.operations import create_area
    from assist.auth.operations import create_user, update_user
    from assist.errors import ValidationFailed
    from assist.families.operations import add_member
    from assist.posts.operations import create_post
    from assist.sponsors.operations import register_sponsor
    from tests.factories import credit_code, member

    family = world.family_a
    someone = next(m for m in family.members if m.relation.value != "self")
    for name in INVISIBLE_NAMES + ["李\u200b芳", "芳\u202e李"]:
        attempts = {
            "member": lambda name=name: add_member(world.cw_a, family, member(name=name)),
            "area": lambda name=name: create_area(world.admin, "T99", name, "330482"),
            "post": lambda name=name: create_post(world.cw_a, someone, {"title": name, "monthly_amount_fen": 50_000}),
            "sponsor": lambda name=name: register_sponsor(
                {"name": name, "credit_code": credit_code(7), "contact_name": "王", "phone": "13800000000"},
                "new_sponsor",
                PASSWORD,
            ),
        }
        for what, attempt in attempts.items():
            with pytest.raises(ValidationFailed) as refused:
                attempt()
                pytest.fail(f"{what} took {name!r}")
            assert refused.value.fields, (what, repr(name))
            db.session.rollback()
    # a display name may be left empty: one of invisible characters is empty; one with them inside is refused
    assert create_user(world.admin, "someone_new", PASSWORD, "provider", display_name="\u200b\u202e").display_name == ""
    for attempt in (
        lambda: create_user(world.admin, "someone_else", PASSWORD, "provider", display_name="李\u200b芳"),
        lambda: update_user(world.admin, world.cw_b, display_name="芳\u202e李"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            attempt()
        assert "display_name" in refused.value.fields
        db.session.rollback()


def test_invisible_characters_around_a_name_are_dropped(app, client, world):
    from assist.families.models import Member
    from tests.factories import id_number

    response = client.post(
        f"/api/v1/families/{world.family_a.id}/members",
        json={"relation": "child", "name": "\u200b\ufeff李芳\u200e ", "id_number": id_number()},
        headers=token_for(client, "cw_a"),
    )
    assert response.status_code == 201, response.get_json()
    assert db.session.get(Member, response.get_json()["id"]).name == "李芳"


# an empty PATCH changes nothing and says so --------------------------------------------------------------------------


@pytest.mark.parametrize("body", [None, {}, "null"])
def test_an_empty_patch_is_refused(app, client, world, body):
    from assist.audit.models import AuditEntry

    headers = token_for(client, "cw_a")
    entries = _count(AuditEntry)
    url = f"/api/v1/families/{world.family_a.id}"
    if body is None:
        response = client.patch(url, headers=headers)
    elif isinstance(body, str):
        response = client.patch(url, data=body, headers={**headers, "Content-Type": "application/json"})
    else:
        response = client.patch(url, json=body, headers=headers)
    assert response.status_code in (400, 422), response.get_json()
    assert error_of(response)["message"]
    assert _count(AuditEntry) == entries
    changed = client.patch(url, json={"phone": "13900000000"}, headers=headers)
    assert changed.status_code == 200 and changed.get_json()["phone"] == "13900000000"


def test_an_empty_patch_names_what_is_missing(app, client, world):
    response = client.patch(f"/api/v1/families/{world.family_a.id}", json={}, headers=token_for(client, "cw_a"))
    assert response.status_code == 422
    assert "没有要修改的内容" in " ".join(error_of(response)["fields"].values())  # "Nothing to change"


# a method the address does not take: 405 with Allow -------------------------------------------------------------------


def test_a_page_answers_405_with_the_methods_it_takes(app, client, auth, world):
    auth.login("admin")
    response = client.delete("/families/")
    assert response.status_code == 405
    assert {"GET", "HEAD"} <= {m.strip() for m in response.headers["Allow"].split(",")}
    assert response.mimetype == "text/html"
    posted_only = client.get("/logout")
    assert posted_only.status_code == 405 and "POST" in posted_only.headers["Allow"]


def test_the_api_answers_405_with_the_methods_it_takes_in_its_error_shape(app, client, world):
    headers = token_for(client, "admin")
    response = client.delete("/api/v1/families", headers=headers)
    assert response.status_code == 405
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}
    assert error_of(response)["code"] == "method_not_allowed"
    anonymous = client.put("/api/v1/health")
    assert anonymous.status_code == 405 and "GET" in anonymous.headers["Allow"]
    assert error_of(anonymous)["code"] == "method_not_allowed"
