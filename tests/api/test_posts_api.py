"""Posts, the market and claims through the API: caseworkers set posts up and publish them, sponsors claim."""

import json
from datetime import timedelta

from sqlalchemy import func, select

from assist.db_types import utcnow
from assist.enums import PostStatus
from assist.extensions import db
from assist.families.operations import update_member
from assist.posts.models import Post, PostEvent
from tests import factories
from tests.api.test_api import error_of, token_for

TERMS = {"title": "社区电话巡访员", "duties": "每周电话联系独居老人", "hours_per_month": 16, "term_months": 12}


def spouse(family):
    return next(m for m in family.members if m.relation.value == "spouse")


def eligible_spouse(world):
    member = spouse(world.family_a)
    update_member(world.cw_a, member, {"work_ability": "partial"})
    db.session.commit()
    return member


def test_caseworker_creates_and_publishes_a_post(client, world):
    member = eligible_spouse(world)
    headers = token_for(client, "cw_a")
    created = client.post(
        "/api/v1/posts", json={"member_id": member.id, "monthly_amount_fen": 60_000, **TERMS}, headers=headers
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["status"] == "draft" and body["member_id"] == member.id and body["monthly_amount_fen"] == 60_000
    assert body["allowed_actions"] == ["publish", "cancel"] and [e["action"] for e in body["events"]] == ["create"]

    published = client.post(f"/api/v1/posts/{body['id']}/publish", headers=headers)
    assert published.status_code == 200 and published.get_json()["status"] == "open"
    assert published.get_json()["published_at"]
    again = client.post(f"/api/v1/posts/{body['id']}/publish", headers=headers)
    assert again.status_code == 409 and error_of(again)["code"] == "conflict"

    one = client.get(f"/api/v1/posts/{body['id']}", headers=headers).get_json()
    assert one["status"] == "open" and [e["action"] for e in one["events"]] == ["create", "publish"]
    assert one["events"][1]["by"] == "cw_a" and one["area_code"] == "330482001001"


def test_post_rules_answer_422_and_409(client, world):
    member = spouse(world.family_a)
    headers = token_for(client, "cw_a")
    # full work ability: not eligible
    answer = client.post("/api/v1/posts", json={"member_id": member.id, **TERMS}, headers=headers)
    assert answer.status_code == 422 and "member_id" in error_of(answer)["fields"]
    member = eligible_spouse(world)
    for change, field in (
        ({"monthly_amount_fen": 1}, "monthly_amount_fen"),
        ({"monthly_amount_fen": "500"}, "monthly_amount_fen"),
        ({"title": ""}, "title"),
        ({"hours_per_month": 0}, "hours_per_month"),
        ({"member_id": None}, "member_id"),
    ):
        answer = client.post("/api/v1/posts", json={"member_id": member.id, **TERMS, **change}, headers=headers)
        assert answer.status_code == 422 and field in error_of(answer)["fields"], (change, answer.get_json())
    assert db.session.scalar(select(func.count(Post.id))) == 0
    assert client.post("/api/v1/posts", json={"member_id": member.id, **TERMS}, headers=headers).status_code == 201
    duplicate = client.post("/api/v1/posts", json={"member_id": member.id, **TERMS}, headers=headers)
    assert duplicate.status_code == 409 and error_of(duplicate)["fields"] == {"member_id": "duplicate"}


def test_posts_are_scoped_to_the_caseworkers_areas(client, world):
    member = eligible_spouse(world)
    post = factories.post(world.cw_a, world.family_a, member=member)
    db.session.commit()
    cw_b = token_for(client, "cw_b")
    assert client.get(f"/api/v1/posts/{post.id}", headers=cw_b).status_code == 404
    assert client.post(f"/api/v1/posts/{post.id}/publish", headers=cw_b).status_code == 404
    creating = client.post("/api/v1/posts", json={"member_id": member.id, **TERMS}, headers=cw_b)
    assert creating.status_code == 404 and error_of(creating)["code"] == "not_found"
    assert client.post("/api/v1/posts", json={"member_id": 999_999, **TERMS}, headers=cw_b).status_code == 404
    assert client.get("/api/v1/posts", headers=cw_b).get_json()["total"] == 0
    assert client.get("/api/v1/posts/999999", headers=cw_b).status_code == 404

    mine = client.get("/api/v1/posts", headers=token_for(client, "cw_a")).get_json()
    assert [p["id"] for p in mine["items"]] == [post.id] and mine["total"] == 1
    admin = token_for(client, "admin")
    assert client.get("/api/v1/posts?status=open", headers=admin).get_json()["total"] == 1
    assert client.get("/api/v1/posts?status=draft", headers=admin).get_json()["total"] == 0
    assert client.get("/api/v1/posts?area_code=330482002", headers=admin).get_json()["total"] == 0
    assert client.get("/api/v1/posts?area_code=330482001", headers=admin).get_json()["total"] == 1
    assert client.get("/api/v1/posts?status=lost", headers=admin).status_code == 422
    # neither sponsors nor providers set posts up
    assert client.post("/api/v1/posts", json={"member_id": member.id, **TERMS}, headers=token_for(client, "sponsor"))
    assert client.get("/api/v1/posts", headers=token_for(client, "provider")).status_code == 403


def test_a_sponsor_sees_its_own_posts_without_the_family(client, world):
    market = factories.build_market(world)
    headers = token_for(client, "sponsor")
    listed = client.get("/api/v1/posts", headers=headers).get_json()
    assert [p["id"] for p in listed["items"]] == [market.claimed_post.id]
    one = client.get(f"/api/v1/posts/{market.claimed_post.id}", headers=headers)
    assert one.status_code == 200
    text = json.dumps(one.get_json(), ensure_ascii=False)
    assert one.get_json()["status"] == "claimed" and "社区电话巡访员" in text
    for hidden in ("member_id", "family_id", "member_name", "events", world.family_a.head_name):
        assert hidden not in text
    # another sponsor's claim is not found
    other = token_for(client, "sponsor_b")
    assert client.get(f"/api/v1/posts/{market.claimed_post.id}", headers=other).status_code == 404
    assert client.get("/api/v1/posts", headers=other).get_json()["total"] == 0


def test_market_lists_anonymised_open_posts_for_sponsors_only(client, world):
    market = factories.build_market(world)
    headers = token_for(client, "sponsor")
    page = client.get("/api/v1/market", headers=headers).get_json()
    assert [p["id"] for p in page["items"]] == [market.open_post.id] and page["total"] == 1
    item = page["items"][0]
    assert item["area"] == "钟埭社区" and item["title"] == "手工编织" and item["family_size"] == 2
    assert item["preferred"] is False and item["within_budget"] is True
    assert page["remaining_budget_fen"] == 300_000 - market.claimed_post.monthly_amount_fen
    assert client.get("/api/v1/market?preferred_only=true", headers=headers).get_json()["total"] == 0
    assert client.get("/api/v1/market?area_code=330482002", headers=headers).get_json()["total"] == 1
    assert client.get("/api/v1/market?area_code=330482001", headers=headers).get_json()["total"] == 0
    assert client.get("/api/v1/market?area_code=nowhere", headers=headers).get_json()["total"] == 0
    assert client.get("/api/v1/market?max_amount_fen=100", headers=headers).get_json()["total"] == 0
    assert client.get("/api/v1/market?category=relative", headers=headers).get_json()["total"] == 1
    assert client.get("/api/v1/market?category=deep", headers=headers).get_json()["total"] == 0
    assert client.get("/api/v1/market?page=2", headers=headers).get_json()["items"] == []
    assert client.get("/api/v1/market?colour=purple", headers=headers).status_code == 422
    assert client.get("/api/v1/market?per_page=1000", headers=headers).status_code == 422
    for username in ("admin", "cw_a", "provider"):
        assert client.get("/api/v1/market", headers=token_for(client, username)).status_code == 403


def test_market_ranks_for_the_sponsor(client, world):
    """Both families have the same colour rank here, so the sponsor's preferred town A comes first for world.sponsor
    and last for sponsor_b (no preference: longest waiting first)."""
    from assist.settings.operations import update_settings

    market = factories.build_market(world)
    update_settings(world.admin, {"family_post_limit": 2})
    head = next(m for m in world.family_a.members if m.relation.value == "self")
    update_member(world.cw_a, head, {"work_ability": "none"})
    preferred = factories.post(world.cw_a, world.family_a, member=head, title="在家手工")
    db.session.commit()
    assert preferred.colour_rank == market.open_post.colour_rank
    items = client.get("/api/v1/market", headers=token_for(client, "sponsor")).get_json()["items"]
    assert [p["id"] for p in items] == [preferred.id, market.open_post.id]
    assert [p["preferred"] for p in items] == [True, False]
    other = client.get("/api/v1/market", headers=token_for(client, "sponsor_b")).get_json()["items"]
    assert [p["id"] for p in other] == [market.open_post.id, preferred.id]


def test_claim_reserves_the_post_and_the_second_claim_is_409(client, world):
    market = factories.build_market(world)
    post_id = market.open_post.id
    claimed = client.post(f"/api/v1/posts/{post_id}/claim", headers=token_for(client, "sponsor"))
    assert claimed.status_code == 200, claimed.get_json()
    body = claimed.get_json()
    assert body["id"] == post_id and body["status"] == "claimed"
    post = db.session.get(Post, post_id)
    db.session.refresh(post)
    assert post.sponsor_id == market.org.id
    assert abs(post.claim_expires_at - utcnow() - timedelta(days=14)) < timedelta(minutes=5)
    assert body["claim_expires_at"].startswith(post.claim_expires_at.date().isoformat())

    second = client.post(f"/api/v1/posts/{post_id}/claim", headers=token_for(client, "sponsor_b"))
    assert second.status_code == 409
    error = error_of(second)
    assert error["code"] == "conflict" and error["fields"] == {"status": "claimed"}
    assert error["message"] == "该岗位已被认领。" or "already been claimed" in error["message"]
    db.session.refresh(post)
    assert post.sponsor_id == market.org.id
    claims = db.session.scalar(select(func.count()).where(PostEvent.post_id == post_id, PostEvent.action == "claim"))
    assert claims == 1


def test_only_approved_sponsors_claim_and_only_market_posts(client, world):
    market = factories.build_market(world)
    pending = client.post(f"/api/v1/posts/{market.open_post.id}/claim", headers=token_for(client, "sponsor_p"))
    assert pending.status_code == 403 and error_of(pending)["code"] == "forbidden"
    assert db.session.get(Post, market.open_post.id).status == PostStatus.OPEN
    headers = token_for(client, "sponsor_b")
    assert client.post("/api/v1/posts/999999/claim", headers=headers).status_code == 404
    draft = factories.post(world.cw_b, world.family_b, member=spouse_or_new(world), publish=False)
    db.session.commit()
    assert client.post(f"/api/v1/posts/{draft.id}/claim", headers=headers).status_code == 404
    assert (
        client.post(f"/api/v1/posts/{market.open_post.id}/claim", headers=token_for(client, "cw_b")).status_code == 403
    )


def spouse_or_new(world):
    """A second eligible member of family_b (its first holds the open post)."""
    from assist.families.operations import add_member
    from assist.settings.operations import update_settings

    update_settings(world.admin, {"family_post_limit": 2})
    return add_member(world.cw_b, world.family_b, factories.member("child", "王小", work_ability="none"))


def test_the_sponsor_withdraws_its_claim(client, world):
    market = factories.build_market(world)
    post_id = market.claimed_post.id
    other = client.post(f"/api/v1/posts/{post_id}/withdraw", headers=token_for(client, "sponsor_b"))
    assert other.status_code == 404
    headers = token_for(client, "sponsor")
    answer = client.post(f"/api/v1/posts/{post_id}/withdraw", headers=headers)
    assert answer.status_code == 200 and answer.get_json()["status"] == "open"
    post = db.session.get(Post, post_id)
    db.session.refresh(post)
    assert post.sponsor_id is None and post.status == PostStatus.OPEN
    db.session.refresh(market.agreement)
    assert market.agreement.status.value == "cancelled"
    # no longer its post
    assert client.post(f"/api/v1/posts/{post_id}/withdraw", headers=headers).status_code == 404
