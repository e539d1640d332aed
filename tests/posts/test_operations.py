"""Posts, claims, agreements and sponsors through the operations alone (no HTTP)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from assist.agreements import operations as agreements
from assist.agreements.models import Agreement
from assist.enums import AgreementStatus, PostStatus
from assist.errors import Conflict, Forbidden, ValidationFailed
from assist.extensions import db
from assist.posts import operations as posts
from assist.posts.market import MarketFilters, market_page
from assist.posts.models import PostEvent
from assist.sponsors import creditcode
from tests import factories


@pytest.fixture
def market(world):
    return factories.build_market(world)


def test_credit_code_checksum():
    assert creditcode.is_valid("91350100M000100Y43")
    assert not creditcode.is_valid("91350100M000100Y44")
    assert not creditcode.is_valid("91350100M000100Y4")
    assert creditcode.is_valid(factories.credit_code(7))


def test_post_needs_lost_work_ability_and_consent(world):
    head = next(m for m in world.family_a.members if m.relation.value == "self")
    with pytest.raises(ValidationFailed) as err:
        posts.create_post(world.cw_a, head, {"title": "x"})
    assert "member_id" in err.value.fields
    spouse_b = world.family_b.members[0]
    with pytest.raises(ValidationFailed):
        posts.create_post(world.cw_b, spouse_b, {"title": "x"})  # no consent


def test_one_live_post_per_person_and_family_limit(world):
    post = factories.post(world.cw_a, world.family_a)
    member = post.member
    with pytest.raises(Conflict):
        posts.create_post(world.cw_a, member, {"title": "另一个"})


def test_amount_range_from_settings(world):
    member = next(m for m in world.family_a.members if m.relation.value != "self")
    from assist.families.operations import update_member

    update_member(world.cw_a, member, {"work_ability": "none"})
    with pytest.raises(ValidationFailed) as err:
        posts.create_post(world.cw_a, member, {"title": "x", "monthly_amount_fen": 5_000})
    assert "monthly_amount_fen" in err.value.fields
    with pytest.raises(ValidationFailed):
        posts.create_post(world.cw_a, member, {"title": "x", "monthly_amount_fen": 300_001})


def test_claim_once_then_conflict(world, market):
    post = market.open_post
    posts.claim_post(market.other_user, post)
    assert post.status == PostStatus.CLAIMED
    with pytest.raises(Conflict):
        posts.claim_post(world.sponsor, post)


def test_unapproved_sponsor_cannot_claim(world, market):
    from assist.auth.models import User

    user = db.session.scalar(select(User).where(User.username == "sponsor_p"))
    with pytest.raises(Forbidden):
        posts.claim_post(user, market.open_post)
    assert market.open_post.status == PostStatus.OPEN


def test_withdraw_and_expire(world, market):
    post = market.open_post
    posts.claim_post(market.other_user, post)
    with pytest.raises(Conflict):
        posts.withdraw_claim(world.sponsor, post)  # not its claim
    posts.withdraw_claim(market.other_user, post)
    assert post.status == PostStatus.OPEN and post.sponsor_id is None
    posts.claim_post(market.other_user, post)
    assert posts.expire_claims(datetime.now(UTC)) == 0
    # both unsigned claims lapse: this one and the market's claimed post (its agreement is only a draft)
    assert posts.expire_claims(datetime.now(UTC) + timedelta(days=15)) == 2
    assert post.status == PostStatus.OPEN
    assert posts.expire_claims(datetime.now(UTC) + timedelta(days=15)) == 0
    actions = [
        e.action
        for e in db.session.scalars(select(PostEvent).where(PostEvent.post_id == post.id).order_by(PostEvent.id))
    ]
    assert actions == ["create", "publish", "claim", "withdraw", "claim", "expire"]


def test_signed_claim_never_expires(world, market):
    agreement = market.agreement
    agreements.sign_agreement(world.cw_a, agreement, date(2026, 11, 20), today=date(2026, 11, 24))
    assert agreement.status == AgreementStatus.SIGNED
    assert posts.expire_claims(datetime.now(UTC) + timedelta(days=30)) == 0
    assert market.claimed_post.status == PostStatus.CLAIMED


def test_agreement_lifecycle(world, market):
    agreement, post = market.agreement, market.claimed_post
    start, month = agreement.start_on, factories.next_month
    # twelve months from the first of next month (the market's agreement starts then, whenever the suite runs)
    assert agreement.end_on == date(start.year + 1, start.month, 1) - timedelta(days=1)
    agreements.sign_agreement(world.cw_a, agreement, start - timedelta(days=11), today=start - timedelta(days=7))
    counts = agreements.advance(start)
    assert counts == {"activated": 1, "ended": 0}
    assert post.status == PostStatus.ACTIVE and agreement.status == AgreementStatus.ACTIVE
    assert agreements.advance(start) == {"activated": 0, "ended": 0}
    suspended_from = month(month(start))
    suspension = agreements.suspend_post(
        world.cw_a, post, suspended_from, "住院", today=suspended_from + timedelta(days=2)
    )
    assert post.status == PostStatus.SUSPENDED
    agreements.resume_post(world.cw_a, post, month(suspended_from))
    assert suspension.end_on == month(suspended_from) - timedelta(days=1) and post.status == PostStatus.ACTIVE
    renewal = agreements.renew_agreement(world.cw_a, agreement)
    assert renewal.start_on == agreement.end_on + timedelta(days=1) and renewal.previous_id == agreement.id
    agreements.sign_agreement(
        world.cw_a, renewal, renewal.start_on - timedelta(days=30), today=renewal.start_on - timedelta(days=29)
    )
    agreements.advance(renewal.start_on)
    assert agreement.status == AgreementStatus.ENDED and renewal.status == AgreementStatus.ACTIVE
    assert post.status == PostStatus.ACTIVE
    # terminated on the last day of the renewal's fourth month
    last_day = month(month(month(month(renewal.start_on)))) - timedelta(days=1)
    agreements.terminate_agreement(world.cw_a, renewal, last_day, "家庭脱困", today=last_day - timedelta(days=21))
    assert post.status == PostStatus.ACTIVE
    agreements.advance(last_day + timedelta(days=1))
    assert renewal.status == AgreementStatus.ENDED and post.status == PostStatus.ENDED
    assert post.ended_on == last_day


def test_paper_agreement_with_past_dates(world, market):
    open_post = market.open_post
    agreement = agreements.enter_paper_agreement(
        world.cw_b,
        open_post,
        market.other_org,
        {"start_on": date(2023, 1, 1), "end_on": date(2023, 12, 31), "signed_on": date(2022, 12, 20)},
        today=date(2026, 11, 24),
    )
    assert agreement.from_paper and agreement.status == AgreementStatus.ENDED
    assert open_post.status == PostStatus.ENDED and open_post.ended_on == date(2023, 12, 31)


def test_market_is_ranked_and_anonymous(world, market):
    page, total, context = market_page(market.org, MarketFilters())
    assert total == 1 and page[0].id == market.open_post.id
    assert context["remaining_budget_fen"] == 300_000 - 50_000
    fields = set(vars(page[0]))
    assert not fields & {"head_name", "name", "phone", "address", "id_number", "illness", "income"}


def test_draft_agreement_only_for_claimed_post(world, market):
    with pytest.raises(Conflict):
        agreements.create_agreement(world.cw_b, market.open_post, {"start_on": date(2026, 12, 1)})
    with pytest.raises(Conflict):
        agreements.create_agreement(world.cw_a, market.claimed_post, {"start_on": date(2026, 12, 1)})
    assert db.session.scalar(select(Agreement.id).where(Agreement.post_id == market.open_post.id)) is None
