"""The sponsors' market (认领大厅): open posts, anonymised, ranked for one sponsor.

Ranking: red families first (colour), then posts in the sponsor's preferred areas, then posts within its remaining
monthly budget, then the longest waiting. Waiting time comes last because it is unique to each post: placed earlier it
would leave the preference and the budget no say at all.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, case, func, literal, or_, select

from assist.areas.models import Area
from assist.db_types import utcnow
from assist.enums import Colour, HardshipCategory, PostStatus, ProfileType
from assist.extensions import db
from assist.families.models import Family, Member
from assist.posts.models import Post
from assist.posts.operations import COLOUR_RANK, remaining_pledge
from assist.sponsors.models import Sponsor

PAGE_SIZE = 20


@dataclass
class MarketFilters:
    area_id: int | None = None
    colour: Colour | None = None
    category: HardshipCategory | None = None
    max_amount_fen: int | None = None
    within_budget: bool = False
    preferred_only: bool = False
    #: one post only (its detail page in the market)
    post_id: int | None = None


def preferred_area_ids(sponsor: Sponsor) -> list[int]:
    """The sponsor's preferred areas and everything under them."""
    if not sponsor.areas:
        return []
    prefixes = [a.path for a in sponsor.areas]
    return list(db.session.scalars(select(Area.id).where(or_(*(Area.path.startswith(p) for p in prefixes)))))


def market_query(sponsor: Sponsor, filters: MarketFilters | None = None) -> tuple[Select, dict]:
    """The ranked query of open posts for ``sponsor`` (columns only: nothing personal is selected) and its context."""
    filters = filters or MarketFilters()
    preferred = preferred_area_ids(sponsor)
    _, budget = remaining_pledge(sponsor)
    in_preferred = Post.area_id.in_(preferred) if preferred else literal(False)
    in_budget = Post.monthly_amount_fen <= budget
    stmt = (
        select(
            Post.id,
            Post.area_id,
            Post.title,
            Post.duties,
            Post.hours_per_month,
            Post.monthly_amount_fen,
            Post.term_months,
            Post.colour_rank,
            Post.published_at,
            Family.hardship_category,
            Family.primary_type,
            Family.colour,
            case((in_preferred, True), else_=False).label("preferred"),
            case((in_budget, True), else_=False).label("within_budget"),
        )
        .join(Family, Family.id == Post.family_id)
        .where(Post.status == PostStatus.OPEN)
    )
    if filters.area_id is not None:
        area = db.session.get(Area, filters.area_id)
        sub = select(Area.id).where(Area.path.startswith(area.path)) if area else select(literal(-1))
        stmt = stmt.where(Post.area_id.in_(sub))
    if filters.colour is not None:
        stmt = stmt.where(Post.colour_rank == COLOUR_RANK[filters.colour])
    if filters.category is not None:
        stmt = stmt.where(Family.hardship_category == filters.category)
    if filters.max_amount_fen is not None:
        stmt = stmt.where(Post.monthly_amount_fen <= filters.max_amount_fen)
    if filters.within_budget:
        stmt = stmt.where(in_budget)
    if filters.preferred_only:
        stmt = stmt.where(in_preferred)
    if filters.post_id is not None:
        stmt = stmt.where(Post.id == filters.post_id)
    stmt = stmt.order_by(
        Post.colour_rank,
        case((in_preferred, 0), else_=1),
        case((in_budget, 0), else_=1),
        Post.published_at,
        Post.id,
    )
    return stmt, {"preferred_area_ids": preferred, "remaining_budget_fen": budget}


@dataclass
class MarketPost:
    """What a sponsor may know of an open post: nothing that identifies the family."""

    id: int
    area: str
    category: HardshipCategory
    colour: Colour | None
    primary_type: ProfileType | None
    family_size: int
    title: str
    duties: str
    hours_per_month: int
    monthly_amount_fen: int
    term_months: int
    days_waiting: int
    preferred: bool
    within_budget: bool


def market_page(
    sponsor: Sponsor,
    filters: MarketFilters | None = None,
    page: int = 1,
    per_page: int = PAGE_SIZE,
    now: datetime | None = None,
) -> tuple[list[MarketPost], int, dict]:
    """One page of the ranked market, the total, and the context (remaining budget, preferred areas)."""
    stmt, context = market_query(sponsor, filters)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    ids = [r.id for r in rows]
    sizes = (
        dict(
            db.session.execute(
                select(Post.id, func.count(Member.id))
                .join(Member, Member.family_id == Post.family_id)
                .where(Post.id.in_(ids), Member.is_current)
                .group_by(Post.id)
            ).all()
        )
        if ids
        else {}
    )
    names = dict(db.session.execute(select(Area.id, Area.name).where(Area.id.in_({r.area_id for r in rows}))).all())
    now = now or utcnow()
    posts = [
        MarketPost(
            id=r.id,
            area=names.get(r.area_id, ""),
            category=r.hardship_category,
            colour=r.colour,
            primary_type=r.primary_type,
            family_size=sizes.get(r.id, 0),
            title=r.title,
            duties=r.duties,
            hours_per_month=r.hours_per_month,
            monthly_amount_fen=r.monthly_amount_fen,
            term_months=r.term_months,
            days_waiting=max((now - r.published_at).days, 0) if r.published_at else 0,
            preferred=bool(r.preferred),
            within_budget=bool(r.within_budget),
        )
        for r in rows
    ]
    return posts, total, context
