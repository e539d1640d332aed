"""The market's pages, answered group by group, are exactly the pages of the ranked query (market_query)."""

import itertools
import random
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from assist.db_types import utcnow
from assist.enums import Colour, HardshipCategory
from assist.extensions import db
from assist.posts.market import MarketFilters, market_page, market_query
from assist.posts.models import Post
from assist.sponsors.models import Sponsor
from tests import factories


@pytest.fixture
def crowded(world):
    """The market of build_market plus 24 open posts spread over colours, both towns, amounts and waiting times
    (some published at the same moment, so the id breaks the tie)."""
    from assist.areas.models import Area
    from assist.families.operations import record_consent

    market = factories.build_market(world)
    for i in range(24):
        fam = factories.family(
            world.cw_a, "330482001001", head_name=f"孙{i}", members=[factories.member(name=f"李{i}")]
        )
        record_consent(world.cw_a, fam, fam.created_at.date(), "帮扶所需信息")
        factories.post(world.cw_a, fam, monthly_amount_fen=50_000)
    db.session.commit()
    town_b = db.session.scalar(select(Area.id).where(Area.code == "330482002001"))
    rng = random.Random(7)
    now = utcnow()
    ids = db.session.scalars(select(Post.id).where(Post.status == "open").order_by(Post.id)).all()
    for post_id in ids:
        values = {
            "colour_rank": rng.randint(0, 3),
            "monthly_amount_fen": rng.choice([30_000, 80_000, 200_000, 300_000]),
            "published_at": now - timedelta(days=rng.choice([1, 5, 5, 40, 200])),
        }
        if rng.random() < 0.4:
            values["area_id"] = town_b
        db.session.execute(update(Post).where(Post.id == post_id).values(**values))
    db.session.commit()
    return market


FILTERS = [
    MarketFilters(),
    MarketFilters(colour=Colour.RED),
    MarketFilters(within_budget=True),
    MarketFilters(preferred_only=True),
    MarketFilters(max_amount_fen=80_000),
    MarketFilters(category=HardshipCategory.RELATIVE, within_budget=True),
]


def test_pages_equal_the_ranked_query(world, crowded):
    # one world for every case (building it is the slow part)
    for filters, sponsor in itertools.product(FILTERS, (crowded.org, crowded.other_org)):  # town A, nowhere
        sponsor = db.session.get(Sponsor, sponsor.id)
        stmt, _ = market_query(sponsor, filters)
        expected = [r.id for r in db.session.execute(stmt).all()]
        # preferring nowhere, nothing is in a preferred area
        assert len(expected) >= 5 or (filters.preferred_only and not sponsor.areas and not expected)
        shown: list[int] = []
        for page in range(1, 8):
            posts, total, _ = market_page(sponsor, filters, page=page, per_page=4)
            assert total == len(expected)
            assert [p.id for p in posts] == expected[(page - 1) * 4 : page * 4]
            shown.extend(p.id for p in posts)
        assert shown == expected[:28]

    # and the ranking itself: within a colour, preferred areas first, then what the budget covers
    sponsor = db.session.get(Sponsor, crowded.org.id)
    posts, _, context = market_page(sponsor, MarketFilters(colour=Colour.RED), per_page=50)
    keys = [(not p.preferred, not p.within_budget) for p in posts]
    assert keys == sorted(keys) and len(set(keys)) > 1
    assert all(p.within_budget == (p.monthly_amount_fen <= context["remaining_budget_fen"]) for p in posts)
