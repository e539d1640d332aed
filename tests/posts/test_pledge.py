"""A sponsor's claims and the posts it carries stay within its pledge (posts and monthly budget), on every path that
claims: the market (page and API), accepted matching offers and paper agreements still running."""

from datetime import date

import pytest
from sqlalchemy import func, select

from assist.agreements import operations as agreements
from assist.audit.models import AuditEntry
from assist.enums import OfferStatus, PostStatus
from assist.errors import Conflict
from assist.extensions import db
from assist.posts import matching
from assist.posts import operations as posts
from assist.posts.models import PostEvent
from assist.sponsors.operations import update_sponsor
from tests import factories
from tests.api.test_api import error_of, token_for
from tests.conftest import csrf_token


@pytest.fixture
def market(world):
    return factories.build_market(world)


def _claims_audited() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "claim"))


def test_claims_stop_at_the_pledged_number_of_posts_until_the_admin_raises_it(world, market):
    # market.org pledged 5 posts and carries the market's claimed post: room for four more
    extra = [factories.open_post(world, 20_000) for _ in range(5)]
    for post in extra[:4]:
        posts.claim_post(world.sponsor, post)
    audited = _claims_audited()
    with pytest.raises(Conflict) as refused:
        posts.claim_post(world.sponsor, extra[4])
    assert refused.value.status == 409 and refused.value.fields == {"pledge": "posts"}
    assert "承诺的 5 个岗位中已有 5 个" in refused.value.message
    db.session.refresh(extra[4])
    assert extra[4].status == PostStatus.OPEN and extra[4].sponsor_id is None
    assert _claims_audited() == audited
    assert not db.session.scalar(
        select(PostEvent.id).where(PostEvent.post_id == extra[4].id, PostEvent.action == "claim")
    )

    update_sponsor(world.admin, market.org, {"pledge_posts": 6})
    posts.claim_post(world.sponsor, extra[4])
    assert extra[4].status == PostStatus.CLAIMED and posts.remaining_pledge(market.org) == (0, 300_000 - 150_000)


def test_claims_stop_at_the_pledged_monthly_budget(world, market):
    # 3,000 yuan pledged, 500 carried: a post of 2,500 fits exactly, then nothing more
    fits, too_much = factories.open_post(world, 250_000), factories.open_post(world, 10_000)
    posts.claim_post(world.sponsor, fits)
    with pytest.raises(Conflict) as refused:
        posts.claim_post(world.sponsor, too_much)
    assert refused.value.fields == {"pledge": "budget"} and "100.00" in refused.value.message
    assert too_much.status == PostStatus.OPEN
    posts.withdraw_claim(world.sponsor, fits)  # a withdrawn claim gives its room back
    posts.claim_post(world.sponsor, too_much)
    assert too_much.status == PostStatus.CLAIMED


def test_the_api_answers_409_beyond_the_pledge(client, world, market):
    update_sponsor(world.admin, market.org, {"pledge_posts": 1})
    db.session.commit()
    response = client.post(f"/api/v1/posts/{market.open_post.id}/claim", headers=token_for(client, "sponsor"))
    assert response.status_code == 409
    error = error_of(response)
    assert (
        error["code"] == "conflict"
        and error["fields"] == {"pledge": "posts"}
        and "承诺的 1 个岗位中已有 1 个" in error["message"]
    )
    db.session.expire_all()
    assert market.open_post.status == PostStatus.OPEN
    listed = client.get("/api/v1/market", headers=token_for(client, "sponsor")).get_json()
    assert listed["remaining_posts"] == 0 and [p["claimable"] for p in listed["items"]] == [False]


def test_the_market_says_what_is_left_and_disables_claims_beyond_it(client, auth, world, market):
    update_sponsor(world.admin, market.org, {"pledge_budget_fen": 80_000})  # 300 yuan left: the 500-yuan post is not
    db.session.commit()
    auth.login("sponsor")
    page = client.get("/portal/market").get_data(as_text=True)
    card = page.split(f'data-post-id="{market.open_post.id}"')[1]
    assert "300.00" in page and 'id="pledge-full"' not in page
    assert "beyond-pledge" in card and "disabled" in card.split("</div></div>")[0]
    detail = client.get(f"/portal/market/{market.open_post.id}").get_data(as_text=True)
    assert 'id="beyond-pledge"' in detail and "disabled" in detail
    # the claim posted anyway is refused with the reason, and changes nothing
    token = csrf_token(client, "/portal/market")
    refused = client.post(f"/portal/market/{market.open_post.id}/claim", data={"csrf_token": token})
    assert refused.status_code == 302
    assert "300.00" in client.get("/portal/market").get_data(as_text=True)  # the flashed reason names what is left
    db.session.expire_all()
    assert market.open_post.status == PostStatus.OPEN

    update_sponsor(world.admin, market.org, {"pledge_posts": 1, "pledge_budget_fen": 300_000})
    db.session.commit()
    full = client.get("/portal/market").get_data(as_text=True)
    assert 'id="pledge-full"' in full and "beyond-pledge" in full.split(f'data-post-id="{market.open_post.id}"')[1]


def test_an_offer_beyond_the_pledge_is_refused_and_stays_open(world, market):
    offer = factories.sent_offer(market, post=market.open_post)
    update_sponsor(world.admin, market.org, {"pledge_posts": 1})
    with pytest.raises(Conflict) as refused:
        matching.accept_offer(world.sponsor, offer)
    assert refused.value.fields == {"pledge": "posts"}
    db.session.refresh(offer)
    assert offer.status == OfferStatus.SENT and market.open_post.status == PostStatus.OPEN
    update_sponsor(world.admin, market.org, {"pledge_posts": 2})
    matching.accept_offer(world.sponsor, offer)
    assert offer.status == OfferStatus.ACCEPTED and market.open_post.status == PostStatus.CLAIMED


def test_a_running_paper_agreement_takes_up_the_pledge_an_ended_one_does_not(world, market):
    update_sponsor(world.admin, market.org, {"pledge_posts": 1})  # taken by the market's claimed post
    today = date(2026, 6, 10)
    running = {"start_on": date(2026, 1, 1), "end_on": date(2026, 12, 31), "signed_on": date(2025, 12, 20)}
    with pytest.raises(Conflict) as refused:
        agreements.enter_paper_agreement(world.admin, market.open_post, market.org, running, today=today)
    assert "承诺" in refused.value.fields["sponsor_id"]  # beside the sponsor chosen on the paper form
    assert market.open_post.status == PostStatus.OPEN
    ended = {"start_on": date(2024, 1, 1), "end_on": date(2024, 12, 31), "signed_on": date(2023, 12, 20)}
    agreement = agreements.enter_paper_agreement(world.admin, market.open_post, market.org, ended, today=today)
    assert agreement.status.value == "ended" and market.open_post.status == PostStatus.ENDED
