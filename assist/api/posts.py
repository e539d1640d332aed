"""Virtual posts (虚拟岗位) for caseworkers, and the sponsors' market with its claims (认领); the same operations as the
pages."""

from flask import abort
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from assist.api import schemas
from assist.areas.models import Area
from assist.enums import Colour, HardshipCategory, Role
from assist.extensions import db
from assist.families.models import Member
from assist.permissions import get_family_or_404, get_market_post_or_404, get_member_or_404, get_post_or_404, post_scope
from assist.posts import market, operations
from assist.posts.models import Post

blp = Blueprint("api_posts", __name__, description="Virtual posts (虚拟岗位), the market (认领大厅) and claims")

TERMS = ("id", "title", "duties", "hours_per_month", "monthly_amount_fen", "term_months")
TIMES = ("published_at", "claimed_at", "claim_expires_at", "ended_on", "created_at")


def post_out(post: Post, history: bool = False) -> dict:
    """A post as the caller may see it: staff get the member and the history, a sponsor only the terms (no family)."""
    out = {f: getattr(post, f) for f in (*TERMS, *TIMES)}
    out.update(
        status=post.status.value,
        area_code=post.area.code,
        area=post.area.name,
        sponsor_id=post.sponsor_id,
        sponsor_name=post.sponsor.name if post.sponsor else None,
        colour=post.family.colour.value if post.family.colour else None,
    )
    if current_user.role == Role.SPONSOR:
        return out
    out.update(family_id=post.family_id, member_id=post.member_id, member_name=post.member.name)
    if history:
        out["allowed_actions"] = operations.allowed_actions(post)
        out["events"] = [
            {
                "action": e.action,
                "from_status": e.from_status.value if e.from_status else None,
                "to_status": e.to_status.value,
                "effective_on": e.effective_on,
                "note": e.note,
                "by": e.actor_name,
                "at": e.at,
            }
            for e in post.events
        ]
    return out


def _member_or_404(member_id: int) -> Member:
    """The member a new post is for, if its family lies in the caller's scope."""
    member = db.session.get(Member, member_id)
    if member is None:
        abort(404)
    return get_member_or_404(get_family_or_404(member.family_id), member_id)


@blp.route("/posts")
class Posts(MethodView):
    @blp.arguments(schemas.PostListArgs, location="query")
    @blp.response(200, schemas.PostPage)
    def get(self, args):
        """Posts in the caller's areas, newest first, filter by status and area (a sponsor: the posts it holds)."""
        stmt = (
            select(Post)
            .where(post_scope(current_user))
            .options(selectinload(Post.area), selectinload(Post.sponsor), selectinload(Post.family))
            .order_by(Post.id.desc())
        )
        if args.get("status"):
            stmt = stmt.where(Post.status == args["status"])
        if args.get("area_code"):
            area = db.session.scalar(select(Area).where(Area.code == args["area_code"]))
            subtree = select(Area.id).where(Area.path.startswith(area.path)) if area else select(Area.id).where(False)
            stmt = stmt.where(Post.area_id.in_(subtree))
        if current_user.role != Role.SPONSOR:
            stmt = stmt.options(selectinload(Post.member))
        page = db.paginate(stmt, page=args["page"], per_page=args["per_page"], error_out=False)
        return {
            "items": [post_out(p) for p in page.items],
            "page": page.page,
            "per_page": page.per_page,
            "total": page.total,
        }

    @blp.arguments(schemas.PostIn)
    @blp.response(201, schemas.PostOut)
    def post(self, body):
        """Set up a draft post for a member with partial or total loss of work ability (one live post per person)."""
        member = _member_or_404(body.pop("member_id"))
        post = operations.create_post(current_user, member, body)
        db.session.commit()
        return post_out(post, history=True)


@blp.route("/posts/<int:post_id>")
class PostById(MethodView):
    @blp.response(200, schemas.PostOut)
    def get(self, post_id):
        """One post: staff in whose areas it lies (with its history), or the sponsor holding it (terms only)."""
        return post_out(get_post_or_404(post_id), history=True)


@blp.route("/posts/<int:post_id>/publish")
class PublishPost(MethodView):
    @blp.response(200, schemas.PostOut)
    def post(self, post_id):
        """Put a draft on the sponsors' market (发布) → status open."""
        post = get_post_or_404(post_id)
        operations.publish_post(current_user, post)
        db.session.commit()
        return post_out(post, history=True)


@blp.route("/posts/<int:post_id>/claim")
class ClaimPost(MethodView):
    @blp.response(200, schemas.ClaimOut)
    @blp.alt_response(
        409,
        schema=schemas.ErrorSchema,
        description="Already claimed by another sponsor, or beyond the sponsor's pledge",
    )
    @blp.alt_response(403, schema=schemas.ErrorSchema, description="The sponsor is not approved (yet)")
    def post(self, post_id):
        """Claim an open post for the caller's sponsor (认领): reserved for it for the claim period, or 409 when
        another sponsor was first or the sponsor's pledge (posts, monthly budget) has no room for it."""
        post = get_market_post_or_404(post_id, claiming=True)
        operations.claim_post(current_user, post)
        db.session.commit()
        return {"id": post.id, "status": post.status.value, "claim_expires_at": post.claim_expires_at}


@blp.route("/posts/<int:post_id>/withdraw")
class WithdrawClaim(MethodView):
    @blp.response(200, schemas.PostOut)
    def post(self, post_id):
        """The sponsor gives up its unsigned claim; the post returns to the market."""
        post = get_post_or_404(post_id)
        operations.withdraw_claim(current_user, post)
        db.session.commit()
        return {"id": post.id, "status": post.status.value}


@blp.route("/market")
class Market(MethodView):
    @blp.arguments(schemas.MarketArgs, location="query")
    @blp.response(200, schemas.MarketPage)
    def get(self, args):
        """Open posts, anonymised, ranked for the caller's sponsor: red families first, its preferred areas, within
        its remaining budget, then the longest waiting."""
        sponsor = operations.sponsor_of(current_user)
        area_id = None
        if args.get("area_code"):
            area = db.session.scalar(select(Area).where(Area.code == args["area_code"]))
            area_id = area.id if area else -1
        filters = market.MarketFilters(
            area_id=area_id,
            colour=Colour(args["colour"]) if args.get("colour") else None,
            category=HardshipCategory(args["category"]) if args.get("category") else None,
            max_amount_fen=args.get("max_amount_fen"),
            within_budget=args["within_budget"],
            preferred_only=args["preferred_only"],
        )
        items, total, context = market.market_page(sponsor, filters, args["page"], args["per_page"])
        posts_left, _budget = operations.remaining_pledge(sponsor)
        return {
            "items": [
                {
                    **vars(p),
                    "claimable": posts_left > 0 and p.within_budget,
                    "category": p.category.value,
                    "colour": p.colour.value if p.colour else None,
                    "primary_type": p.primary_type.value if p.primary_type else None,
                }
                for p in items
            ],
            "page": args["page"],
            "per_page": args["per_page"],
            "total": total,
            "remaining_budget_fen": context["remaining_budget_fen"],
            "remaining_posts": posts_left,
        }
