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
    #: one post, as the market shows it (the detail page uses the market's own anonymised query)
    post_id: int | None = None


def preferred_area_ids(sponsor: Sponsor) -> list[int]:
    """The sponsor's preferred areas and everything under them."""
    if not sponsor.areas:
        return []
    prefixes = [a.path for a in sponsor.areas]
    return list(db.session.scalars(select(Area.id).where(or_(*(Area.path.startswith(p) for p in prefixes)))))


def _market_parts(sponsor: Sponsor, filters: MarketFilters | None):
    """The market's pieces for ``sponsor``: its columns' statement with the filters (unordered), the ranking's two
    conditions (preferred area, within the remaining budget), the filters' conditions alone, and the context."""
    filters = filters or MarketFilters()
    preferred = preferred_area_ids(sponsor)
    _, budget = remaining_pledge(sponsor)
    in_preferred = Post.area_id.in_(preferred) if preferred else literal(False)
    in_budget = Post.monthly_amount_fen <= budget
    conditions = [Post.status == PostStatus.OPEN]
    if filters.area_id is not None:
        area = db.session.get(Area, filters.area_id)
        sub = select(Area.id).where(Area.path.startswith(area.path)) if area else select(literal(-1))
        conditions.append(Post.area_id.in_(sub))
    if filters.colour is not None:
        conditions.append(Post.colour_rank == COLOUR_RANK[filters.colour])
    if filters.category is not None:
        conditions.append(Family.hardship_category == filters.category)
    if filters.max_amount_fen is not None:
        conditions.append(Post.monthly_amount_fen <= filters.max_amount_fen)
    if filters.within_budget:
        conditions.append(in_budget)
    if filters.preferred_only:
        conditions.append(in_preferred)
    if filters.post_id is not None:
        conditions.append(Post.id == filters.post_id)
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
        .where(*conditions)
    )
    context = {"preferred_area_ids": preferred, "remaining_budget_fen": budget}
    return stmt, (in_preferred, in_budget), conditions, filters, context


def market_query(sponsor: Sponsor, filters: MarketFilters | None = None) -> tuple[Select, dict]:
    """The ranked query of open posts for ``sponsor`` (columns only: nothing personal is selected) and its context.

    This statement defines the ranking; ``market_page`` answers the same pages group by group (see there)."""
    stmt, (in_preferred, in_budget), _, _, context = _market_parts(sponsor, filters)
    stmt = stmt.order_by(
        Post.colour_rank,
        case((in_preferred, 0), else_=1),
        case((in_budget, 0), else_=1),
        Post.published_at,
        Post.id,
    )
    return stmt, context


def _ranked_rows(sponsor: Sponsor, filters: MarketFilters | None, offset: int, limit: int) -> tuple[list, int, dict]:
    """One page of ``market_query`` without sorting every open post: the ranking's first three keys take a few values
    (colour rank 0–3, preferred or not, within budget or not), so the posts fall into at most 16 groups in rank order,
    each ordered by waiting (published_at, id) as the market index (status, colour_rank, published_at, id) reads them.
    The groups are read in rank order, each by its own ordered range scan with a limit, until the page is full; a group
    wholly before the page's offset is counted and skipped (page 1 counts none). The total counts the posts alone
    (joined to their families only to filter on the category)."""
    stmt, _, conditions, filters, context = _market_parts(sponsor, filters)
    preferred = context["preferred_area_ids"]
    budget = context["remaining_budget_fen"]

    def count(*group):
        counted = select(func.count()).select_from(Post).where(*conditions, *group)
        if filters.category is not None:  # the only filter on the family; otherwise each post has exactly one family
            counted = counted.join(Family, Family.id == Post.family_id)
        return db.session.scalar(counted)

    total = count()
    colours = [COLOUR_RANK[filters.colour]] if filters.colour is not None else [0, 1, 2, 3]
    rows: list = []
    for colour_rank in colours:
        for pref in (True, False) if preferred else (False,):
            for within in (True, False):
                if len(rows) >= limit or len(rows) + offset >= total:
                    return rows, total, context
                group = [Post.colour_rank == colour_rank]
                if preferred:
                    group.append(Post.area_id.in_(preferred) if pref else Post.area_id.not_in(preferred))
                group.append(Post.monthly_amount_fen <= budget if within else Post.monthly_amount_fen > budget)
                if offset:
                    n = count(*group)
                    if offset >= n:
                        offset -= n
                        continue
                page = stmt.where(*group).order_by(Post.published_at, Post.id).limit(limit - len(rows)).offset(offset)
                rows.extend(db.session.execute(page).all())
                offset = 0
    return rows, total, context


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
    rows, total, context = _ranked_rows(sponsor, filters, (page - 1) * per_page, per_page)
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
