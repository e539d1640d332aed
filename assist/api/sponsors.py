"""Sponsors (爱心单位): public registration, the union's decision, and each sponsor's own record."""

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from assist.api import schemas
from assist.enums import SponsorChangeStatus
from assist.extensions import db
from assist.permissions import get_sponsor_or_404, sponsor_scope
from assist.posts.operations import carried
from assist.sponsors import operations
from assist.sponsors.models import Sponsor, SponsorChange

blp = Blueprint("api_sponsors", __name__, description="Sponsors (爱心单位): registration and approval")

FIELDS = (
    "id",
    "name",
    "credit_code",
    "contact_name",
    "phone",
    "email",
    "address",
    "pledge_posts",
    "pledge_budget_fen",
    "status_reason",
    "decided_at",
    "created_at",
)


def sponsor_out(
    sponsor: Sponsor, load: dict[int, tuple[int, int]] | None = None, changes: dict[int, SponsorChange] | None = None
) -> dict:
    """A sponsor's record with its preferred areas, the part of its pledge not yet taken up and the change of name or
    credit code awaiting the union's approval, if any."""
    if load is None:
        load = carried([sponsor.id])
    if changes is None:
        changes = _pending_changes([sponsor.id])
    change = changes.get(sponsor.id)
    posts, fen = load.get(sponsor.id, (0, 0))
    return {
        "pending_change": (
            {"name": change.name, "credit_code": change.credit_code, "requested_at": change.requested_at}
            if change
            else None
        ),
        **{f: getattr(sponsor, f) for f in FIELDS},
        "status": sponsor.status.value,
        "areas": [a.code for a in sponsor.areas],
        "remaining_posts": max(sponsor.pledge_posts - posts, 0),
        "remaining_budget_fen": max(sponsor.pledge_budget_fen - fen, 0),
    }


def _pending_changes(sponsor_ids: list[int]) -> dict[int, SponsorChange]:
    if not sponsor_ids:
        return {}
    rows = db.session.scalars(
        select(SponsorChange).where(
            SponsorChange.sponsor_id.in_(sponsor_ids), SponsorChange.status == SponsorChangeStatus.PENDING
        )
    )
    return {c.sponsor_id: c for c in rows}


@blp.route("/sponsors")
class Sponsors(MethodView):
    @blp.arguments(schemas.SponsorListArgs, location="query")
    @blp.response(200, schemas.SponsorPage)
    def get(self, args):
        """Sponsors, newest first (admin: all, filter by status; a sponsor's user: its own organisation only)."""
        stmt = (
            select(Sponsor)
            .where(sponsor_scope(current_user))
            .options(selectinload(Sponsor.areas))
            .order_by(Sponsor.id.desc())
        )
        if args.get("status"):
            stmt = stmt.where(Sponsor.status == args["status"])
        page = db.paginate(stmt, page=args["page"], per_page=args["per_page"], error_out=False)
        load = carried([s.id for s in page.items])
        changes = _pending_changes([s.id for s in page.items])
        return {
            "items": [sponsor_out(s, load, changes) for s in page.items],
            "page": page.page,
            "per_page": page.per_page,
            "total": page.total,
        }

    @blp.doc(security=[])
    @blp.arguments(schemas.SponsorIn)
    @blp.response(201, schemas.SponsorOut)
    def post(self, body):
        """Register a company (pending the union's approval) with its first user; anyone may call this."""
        username, password = body.pop("username"), body.pop("password")
        body["area_codes"] = body.pop("areas")
        actor = current_user if current_user.is_authenticated else None
        sponsor = operations.register_sponsor(body, username, password, actor=actor)
        db.session.commit()
        return sponsor_out(sponsor)


@blp.route("/sponsors/<int:sponsor_id>")
class SponsorById(MethodView):
    @blp.response(200, schemas.SponsorOut)
    def get(self, sponsor_id):
        """One sponsor (admin; a sponsor's user sees its own organisation)."""
        return sponsor_out(get_sponsor_or_404(sponsor_id))


@blp.route("/sponsors/<int:sponsor_id>/approve")
class ApproveSponsor(MethodView):
    @blp.arguments(schemas.ApproveIn)
    @blp.response(200, schemas.SponsorOut)
    def post(self, body, sponsor_id):
        """Approve a registration (also a rejected or suspended one); the sponsor may then claim posts."""
        sponsor = get_sponsor_or_404(sponsor_id)
        operations.decide(current_user, sponsor, "approve")
        db.session.commit()
        return sponsor_out(sponsor)


@blp.route("/sponsors/<int:sponsor_id>/reject")
class RejectSponsor(MethodView):
    @blp.arguments(schemas.ReasonIn)
    @blp.response(200, schemas.SponsorOut)
    def post(self, body, sponsor_id):
        """Reject a pending registration, with the reason the sponsor will see."""
        sponsor = get_sponsor_or_404(sponsor_id)
        operations.decide(current_user, sponsor, "reject", body["reason"])
        db.session.commit()
        return sponsor_out(sponsor)
