"""Virtual posts (虚拟岗位): creating them, the one transition table they move by, claiming, and claim expiry.

Every transition is one conditional UPDATE (``… WHERE id = :id AND status IN (allowed)``): when two requests race, the
database lets exactly one of them through and the other sees no row changed and gets a Conflict. Operations flush and
write the audit log and the post's history; they never commit.
"""

from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, select, update
from sqlalchemy.exc import IntegrityError

from assist import audit, checks
from assist.agreements.models import Agreement
from assist.db_types import utcnow
from assist.enums import AgreementStatus, Colour, FamilyStatus, OfferStatus, PostStatus, Role, WorkAbility
from assist.errors import Conflict, Forbidden, ValidationFailed
from assist.extensions import db
from assist.families.models import Family, Member
from assist.posts.models import LIVE_STATES, Offer, Post, PostEvent
from assist.settings.operations import get_settings
from assist.sponsors.models import Sponsor

D, O, C, A, S, E = (  # noqa: E741 - the states by initial keep the table readable
    PostStatus.DRAFT,
    PostStatus.OPEN,
    PostStatus.CLAIMED,
    PostStatus.ACTIVE,
    PostStatus.SUSPENDED,
    PostStatus.ENDED,
)

#: action → (states it may start from, state it leads to): the post's whole state machine
TRANSITIONS: dict[str, tuple[frozenset[PostStatus], PostStatus]] = {
    "publish": (frozenset({D}), O),  # 发布: to the sponsors' market
    "unpublish": (frozenset({O}), D),  # back to draft for changes
    "claim": (frozenset({O}), C),  # 认领: reserved for one sponsor
    "withdraw": (frozenset({C}), O),  # the sponsor gives its claim up
    "release": (frozenset({C}), O),  # the union takes an unsigned claim back
    "expire": (frozenset({C}), O),  # the reservation ran out unsigned
    "activate": (frozenset({C}), A),  # the signed agreement's start date arrived
    "suspend": (frozenset({A}), S),  # 暂停
    "resume": (frozenset({S}), A),
    "end": (frozenset({A, S}), E),  # the agreement ended or was terminated
    "cancel": (frozenset({D, O}), E),  # no longer needed before any sponsor took it
}

ACTION_LABELS = {
    "create": _l("Created"),
    "publish": _l("Published"),
    "unpublish": _l("Taken back to draft"),
    "claim": _l("Claimed"),
    "withdraw": _l("Claim withdrawn by the sponsor"),
    "release": _l("Claim released by the union"),
    "expire": _l("Claim expired"),
    "activate": _l("Agreement in force"),
    "suspend": _l("Suspended"),
    "resume": _l("Resumed"),
    "end": _l("Ended"),
    "cancel": _l("Cancelled"),
}

COLOUR_RANK = {Colour.RED: 0, Colour.YELLOW: 1, Colour.GREEN: 2}
UNASSESSED_RANK = 3
POST_FIELDS = ("title", "duties", "hours_per_month", "monthly_amount_fen", "term_months")
EDITABLE_STATES = frozenset({D, O})


def allowed_actions(post: Post) -> list[str]:
    """The actions the table allows from the post's current state."""
    return [action for action, (sources, _) in TRANSITIONS.items() if post.status in sources]


def colour_rank(colour: Colour | None) -> int:
    return COLOUR_RANK.get(colour, UNASSESSED_RANK) if colour else UNASSESSED_RANK


def _conflict_for(post: Post, action: str) -> Conflict:
    if action == "claim" and post.status != O:
        return Conflict(str(_l("This post has already been claimed.")), {"status": post.status.value})
    return Conflict(
        str(_l("This post cannot be changed that way now (it is %(state)s).", state=_state(post.status))),
        {"status": post.status.value},
    )


def _state(status: PostStatus) -> str:
    from assist.enums import label

    return label(status)


def transition(
    actor,
    post: Post,
    action: str,
    *,
    values: dict[str, Any] | None = None,
    where: Any = None,
    sponsor_id: int | None = None,
    effective_on: date | None = None,
    note: str = "",
) -> Post:
    """Move ``post`` by ``action`` if the table allows it from the state it is in *in the database*.

    One conditional UPDATE decides: when it changes no row, another request moved the post first, and the caller gets a
    Conflict naming the state the post is really in.
    """
    sources, target = TRANSITIONS[action]
    before = post.status
    conditions = [Post.id == post.id, Post.status.in_(sorted(sources))]
    if where is not None:
        conditions.append(where)
    changes = {"status": target, "updated_at": utcnow(), **(values or {})}
    result = db.session.execute(
        update(Post).where(*conditions).values(**changes).execution_options(synchronize_session=False)
    )
    db.session.refresh(post)
    if result.rowcount != 1:
        raise _conflict_for(post, action)
    db.session.add(
        PostEvent(
            post_id=post.id,
            action=action,
            from_status=before if before in sources else None,
            to_status=target,
            sponsor_id=sponsor_id if sponsor_id is not None else post.sponsor_id,
            effective_on=effective_on,
            note=note[:200],
            actor_id=getattr(actor, "id", None),
            actor_name=(getattr(actor, "username", None) or "system")[:60],
        )
    )
    audit.record(
        actor,
        action,
        "post",
        post.id,
        before={"status": before.value},
        after={"status": target.value, **({"note": note} if note else {})},
        family_id=post.family_id,
        summary=f"{before.value} → {target.value}",
    )
    db.session.flush()
    return post


# creating and editing ------------------------------------------------------------------------------------------------


def _whole(errors: dict, field: str, value, low: int, high: int, message) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[field] = str(message)
        return 0
    return value


def _clean_post(data: dict[str, Any], partial: bool = False) -> tuple[dict[str, Any], dict[str, str]]:
    """Check a post's terms against the settings; returns the clean values and the field errors."""
    settings = get_settings()
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    defaults = {
        "hours_per_month": 20,
        "monthly_amount_fen": settings["post_amount_default_fen"],
        "term_months": settings["post_term_months"],
        "duties": "",
    }
    for field in POST_FIELDS:
        if field not in data or data[field] is None:
            if partial:
                continue
            if field == "title":
                errors["title"] = str(_l("This field is required."))
                continue
            data = {**data, field: defaults[field]}
        value = data[field]
        if field in ("title", "duties"):
            limit = 100 if field == "title" else 2000
            value = checks.visible(value) if isinstance(value, str) else value
            if not isinstance(value, str):
                errors[field] = str(_l("Enter text."))
            elif field == "title" and not value:
                errors[field] = str(_l("This field is required."))
            elif len(value) > limit:
                errors[field] = str(_l("At most %(n)s characters.", n=limit))
            elif problem := checks.invisible_error(value):
                errors[field] = problem
            clean[field] = value
        elif field == "hours_per_month":
            clean[field] = _whole(errors, field, value, 1, 200, _l("Enter hours from 1 to 200 a month."))
        elif field == "term_months":
            clean[field] = _whole(errors, field, value, 1, 60, _l("Enter a term from 1 to 60 months."))
        else:
            low, high = settings["post_amount_min_fen"], settings["post_amount_max_fen"]
            clean[field] = _whole(
                errors,
                field,
                value,
                low,
                high,
                _l(
                    "Enter a monthly amount from %(low)s to %(high)s yuan.",
                    low=f"{low / 100:,.2f}",
                    high=f"{high / 100:,.2f}",
                ),
            )
    return clean, errors


def _check_eligible(member: Member, errors: dict[str, str]) -> None:
    """A post is for a member who lost some or all work ability, in an active family that gave consent."""
    family = member.family
    if family.status != FamilyStatus.ACTIVE:
        errors["member_id"] = str(_l("The family's file is not active."))
    elif family.consent_on is None:
        errors["member_id"] = str(_l("Record the family's consent before setting up a post."))
    elif member.work_ability not in (WorkAbility.PARTIAL, WorkAbility.NONE):
        errors["member_id"] = str(_l("A virtual post is for a member with partial or total loss of work ability."))
    elif not member.is_current:
        errors["member_id"] = str(_l("This person is no longer on a current file."))


def _lock_family(family_id: int) -> None:
    """Serialise post creation per family (PostgreSQL row lock; SQLite writes are serialised already)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Family.id).where(Family.id == family_id).with_for_update())


def create_post(actor, member: Member, data: dict[str, Any]) -> Post:
    """Set up a virtual post (draft) for one member; one live post per person, a family limit from the settings."""
    clean, errors = _clean_post(data)
    _check_eligible(member, errors)
    if errors:
        raise ValidationFailed(str(_l("Please correct the marked fields.")), errors)
    _lock_family(member.family_id)
    live = list(
        db.session.scalars(select(Post).where(Post.family_id == member.family_id, Post.status.in_(LIVE_STATES)))
    )
    if any(p.member_id == member.id for p in live):
        raise Conflict(str(_l("This person already has a post that has not ended.")), {"member_id": "duplicate"})
    limit = get_settings()["family_post_limit"]
    if len(live) >= limit:
        raise Conflict(
            str(_l("This family already holds %(n)d post(s) that have not ended, the limit.", n=limit)),
            {"member_id": "family_limit"},
        )
    family = member.family
    post = Post(
        family_id=family.id,
        member_id=member.id,
        area_id=family.area_id,
        status=D,
        colour_rank=colour_rank(family.colour),
        created_by_id=getattr(actor, "id", None),
        **clean,
    )
    db.session.add(post)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict(
            str(_l("This person already has a post that has not ended.")), {"member_id": "duplicate"}
        ) from None
    db.session.add(
        PostEvent(
            post_id=post.id,
            action="create",
            to_status=D,
            actor_id=getattr(actor, "id", None),
            actor_name=(getattr(actor, "username", None) or "system")[:60],
        )
    )
    audit.record(
        actor,
        "create",
        "post",
        post.id,
        after=audit.snapshot(post, (*POST_FIELDS, "member_id", "status")),
        family_id=family.id,
        summary=clean["title"],
    )
    db.session.flush()
    return post


def update_post(actor, post: Post, data: dict[str, Any]) -> Post:
    """Change a post's terms while it is a draft or open on the market."""
    if post.status not in EDITABLE_STATES:
        raise Conflict(str(_l("A post's terms can be changed only while it is a draft or open.")))
    clean, errors = _clean_post(data, partial=True)
    if errors:
        raise ValidationFailed(str(_l("Please correct the marked fields.")), errors)
    before = audit.snapshot(post, POST_FIELDS)
    for field, value in clean.items():
        setattr(post, field, value)
    old, new = audit.changed(before, audit.snapshot(post, POST_FIELDS))
    if new:
        audit.record(actor, "update", "post", post.id, before=old, after=new, family_id=post.family_id)
    db.session.flush()
    return post


# the life of a post --------------------------------------------------------------------------------------------------


def publish_post(actor, post: Post) -> Post:
    """Put a draft on the sponsors' market (发布); waiting time counts from the first publication."""
    errors: dict[str, str] = {}
    _check_eligible(post.member, errors)
    if errors:
        raise ValidationFailed(errors["member_id"], errors)
    return transition(
        actor,
        post,
        "publish",
        values={
            "published_at": post.published_at or utcnow(),
            "colour_rank": colour_rank(post.family.colour),
            "sponsor_id": None,
        },
    )


def unpublish_post(actor, post: Post) -> Post:
    return transition(actor, post, "unpublish")


def cancel_post(actor, post: Post, reason: str) -> Post:
    reason = checks.required_reason(reason)
    return transition(actor, post, "cancel", values={"ended_on": _today()}, note=reason)


def _today() -> date:
    from assist.db_types import local_today

    return local_today()


def sponsor_of(actor) -> Sponsor:
    """The sponsor a sponsor user speaks for (Forbidden for anyone else)."""
    sponsor = db.session.get(Sponsor, actor.sponsor_id) if getattr(actor, "sponsor_id", None) else None
    if actor.role != Role.SPONSOR or sponsor is None:
        raise Forbidden(str(_l("Only a sponsor's own users can do this.")))
    return sponsor


def claim_post(
    actor, post: Post, sponsor: Sponsor | None = None, now: datetime | None = None, *, within_pledge: bool = True
) -> Post:
    """Reserve an open post for the actor's sponsor (认领). Exactly one of many simultaneous claims wins, and a claim
    the sponsor's pledge has no room for is refused (``within_pledge=False`` only for a paper agreement that ended)."""
    sponsor = sponsor or sponsor_of(actor)
    if not sponsor.approved:
        raise Forbidden(str(_l("Your organisation can claim posts once the union has approved its registration.")))
    if within_pledge:
        check_pledge(sponsor, post.monthly_amount_fen)
    now = now or utcnow()
    days = get_settings()["claim_days"]
    transition(
        actor,
        post,
        "claim",
        values={"sponsor_id": sponsor.id, "claimed_at": now, "claim_expires_at": now + timedelta(days=days)},
        sponsor_id=sponsor.id,
    )
    # offers of this post to other sponsors lapse; the claimant's own offer counts as accepted
    db.session.execute(
        update(Offer)
        .where(Offer.post_id == post.id, Offer.status.in_([OfferStatus.SENT, OfferStatus.PROPOSED]))
        .values(
            status=case((Offer.sponsor_id == sponsor.id, OfferStatus.ACCEPTED.value), else_=OfferStatus.LAPSED.value),
            responded_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return post


def _unsigned() -> Any:
    """No agreement of the post is signed or in force (a signed claim never expires or goes back)."""
    return (
        ~select(Agreement.id)
        .where(Agreement.post_id == Post.id, Agreement.status.in_([AgreementStatus.SIGNED, AgreementStatus.ACTIVE]))
        .exists()
    )


def _cancel_drafts(actor, post: Post) -> None:
    for agreement in db.session.scalars(
        select(Agreement).where(Agreement.post_id == post.id, Agreement.status == AgreementStatus.DRAFT)
    ):
        agreement.status = AgreementStatus.CANCELLED
        audit.record(
            actor,
            "cancel",
            "agreement",
            agreement.id,
            before={"status": "draft"},
            after={"status": "cancelled"},
            family_id=post.family_id,
        )


_RETURN = {"sponsor_id": None, "claimed_at": None, "claim_expires_at": None}


def withdraw_claim(actor, post: Post) -> Post:
    """The sponsor gives up an unsigned claim; the post returns to the market."""
    sponsor = sponsor_of(actor)
    transition(
        actor,
        post,
        "withdraw",
        values=_RETURN,
        where=and_(Post.sponsor_id == sponsor.id, _unsigned()),
        sponsor_id=sponsor.id,
    )
    _cancel_drafts(actor, post)
    return post


def release_claim(actor, post: Post, reason: str) -> Post:
    """The union takes an unsigned claim back (e.g. the sponsor cannot be reached)."""
    reason = checks.required_reason(reason)
    sponsor_id = post.sponsor_id
    transition(actor, post, "release", values=_RETURN, where=_unsigned(), sponsor_id=sponsor_id, note=reason)
    _cancel_drafts(actor, post)
    return post


def expire_claims(now: datetime | None = None) -> int:
    """Return every unsigned claim past its reservation to the market; lapse offers past theirs. Safe to run twice."""
    now = now or utcnow()
    due = list(
        db.session.scalars(
            select(Post).where(Post.status == C, Post.claim_expires_at < now, _unsigned()).order_by(Post.id)
        )
    )
    expired = 0
    for post in due:
        sponsor_id = post.sponsor_id
        try:
            with db.session.begin_nested():
                transition(
                    None,
                    post,
                    "expire",
                    values=_RETURN,
                    where=and_(Post.claim_expires_at < now, _unsigned()),
                    sponsor_id=sponsor_id,
                )
                _cancel_drafts(None, post)
        except Conflict:
            continue  # signed or moved meanwhile
        expired += 1
    db.session.execute(
        update(Offer)
        .where(Offer.status == OfferStatus.SENT, Offer.expires_at < now)
        .values(status=OfferStatus.LAPSED, responded_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return expired


def refresh_colour_ranks(family_ids: list[int] | None = None) -> None:
    """Keep posts still looking for a sponsor ranked by their family's current colour."""
    rank = (
        select(case(*((Family.colour == c, r) for c, r in COLOUR_RANK.items()), else_=UNASSESSED_RANK))
        .where(Family.id == Post.family_id)
        .scalar_subquery()
    )
    stmt = update(Post).where(Post.status.in_([D, O])).values(colour_rank=rank)
    if family_ids is not None:
        stmt = stmt.where(Post.family_id.in_(family_ids))
    db.session.execute(stmt.execution_options(synchronize_session=False))


# pledges -------------------------------------------------------------------------------------------------------------

CARRIED = (C, A, S)


def carried(sponsor_ids: list[int] | None = None) -> dict[int, tuple[int, int]]:
    """sponsor id → (posts it holds or carries, their monthly amounts in fen)."""
    stmt = (
        select(Post.sponsor_id, func.count(), func.coalesce(func.sum(Post.monthly_amount_fen), 0))
        .where(Post.status.in_(CARRIED), Post.sponsor_id.is_not(None))
        .group_by(Post.sponsor_id)
    )
    if sponsor_ids is not None:
        stmt = stmt.where(Post.sponsor_id.in_(sponsor_ids))
    return {sid: (int(n), int(total)) for sid, n, total in db.session.execute(stmt)}


def check_pledge(sponsor: Sponsor, amount_fen: int) -> None:
    """Refuse (Conflict) one more post of ``amount_fen`` a month when the sponsor's claims and posts it carries would
    then exceed its pledge (posts or monthly budget).

    The sponsor's row is locked first (PostgreSQL; SQLite's BEGIN IMMEDIATE serialises writers already), so two claims
    by the same sponsor at once are counted one after the other: the second sees the first's claim once it commits."""
    stmt = select(Sponsor.pledge_posts, Sponsor.pledge_budget_fen).where(Sponsor.id == sponsor.id)
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(key_share=True)  # FOR NO KEY UPDATE: rows referring to the sponsor still insert
    pledge_posts, pledge_fen = db.session.execute(stmt).one()
    n, total = carried([sponsor.id]).get(sponsor.id, (0, 0))
    if n + 1 > pledge_posts:
        raise Conflict(
            str(
                _l(
                    "The pledge has no room for another post: %(n)s of %(pledged)s pledged post(s) are already "
                    "claimed or carried. Withdraw a claim, or raise the pledge first.",
                    n=n,
                    pledged=pledge_posts,
                )
            ),
            {"pledge": "posts"},
        )
    if total + amount_fen > pledge_fen:
        raise Conflict(
            str(
                _l(
                    "The pledge has no room for this post: its %(amount)s yuan a month exceed the %(left)s yuan left "
                    "of the pledged monthly budget. Withdraw a claim, or raise the pledge first.",
                    amount=f"{amount_fen / 100:,.2f}",
                    left=f"{max(pledge_fen - total, 0) / 100:,.2f}",
                )
            ),
            {"pledge": "budget"},
        )


def remaining_pledge(sponsor: Sponsor) -> tuple[int, int]:
    """(posts, fen a month) the sponsor pledged and does not carry yet; never below zero."""
    n, total = carried([sponsor.id]).get(sponsor.id, (0, 0))
    return max(sponsor.pledge_posts - n, 0), max(sponsor.pledge_budget_fen - total, 0)
