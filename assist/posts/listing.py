"""The staff's list of posts: scoped, filtered and sorted."""

from sqlalchemy import Select, select

from assist.areas.models import Area
from assist.enums import Colour, PostStatus
from assist.permissions import post_scope
from assist.posts.models import Post
from assist.posts.operations import COLOUR_RANK

ORDER = {
    "newest": (Post.created_at.desc(), Post.id.desc()),
    "waiting": (Post.published_at.asc(), Post.id),
    "amount": (Post.monthly_amount_fen.desc(), Post.id.desc()),
    "colour": (Post.colour_rank, Post.published_at.asc(), Post.id),
}


def post_query(
    user,
    status: PostStatus | None = None,
    colour: Colour | None = None,
    area_code: str | None = None,
    sort: str = "newest",
) -> Select:
    """The posts ``user`` may list (through ``post_scope``), filtered and sorted."""
    stmt = select(Post).where(post_scope(user))
    if status is not None:
        stmt = stmt.where(Post.status == status)
    if colour is not None:
        stmt = stmt.where(Post.colour_rank == COLOUR_RANK[colour])
    if area_code:
        stmt = stmt.join(Area, Area.id == Post.area_id).where(
            Area.path.startswith(select(Area.path).where(Area.code == area_code).scalar_subquery())
        )
    return stmt.order_by(*ORDER.get(sort, ORDER["newest"]))
