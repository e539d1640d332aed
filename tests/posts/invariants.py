"""What must hold for every post and its agreements, whatever happened to them: the state-machine property tests check
it after every step, and the demo-data test checks it over the whole generated scheme."""

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import select

from assist.agreements.models import Agreement, Suspension
from assist.enums import AgreementStatus, PostStatus
from assist.extensions import db
from assist.posts.models import LIVE_STATES, Post, PostEvent
from assist.posts.operations import TRANSITIONS

IN_FORCE = {AgreementStatus.SIGNED, AgreementStatus.ACTIVE}
PENDING_OR_IN_FORCE = {AgreementStatus.DRAFT, *IN_FORCE}


def violations(today: date, post_ids: list[int] | None = None, now: datetime | None = None) -> list[str]:
    """Every broken rule, as readable lines (empty when all hold). ``now``: also require claims to be unexpired."""
    posts = select(Post).order_by(Post.id)
    if post_ids is not None:
        posts = posts.where(Post.id.in_(post_ids))
    posts = list(db.session.scalars(posts))
    ids = [p.id for p in posts]
    agreements, events, open_suspensions = defaultdict(list), defaultdict(list), defaultdict(int)
    for a in db.session.scalars(select(Agreement).where(Agreement.post_id.in_(ids)).order_by(Agreement.id)):
        agreements[a.post_id].append(a)
    for e in db.session.scalars(select(PostEvent).where(PostEvent.post_id.in_(ids)).order_by(PostEvent.id)):
        events[e.post_id].append(e)
    for post_id, n in db.session.execute(
        select(Agreement.post_id, db.func.count())
        .join(Suspension, Suspension.agreement_id == Agreement.id)
        .where(Agreement.post_id.in_(ids), Suspension.end_on.is_(None))
        .group_by(Agreement.post_id)
    ):
        open_suspensions[post_id] = n
    found: list[str] = []
    live_members: dict[int, int] = {}
    for post in posts:
        where = f"post {post.id} ({post.status.value})"
        status = post.status
        if status not in set(PostStatus):
            found.append(f"{where}: unknown status")
        mine = agreements[post.id]
        covering = [a for a in mine if a.status in IN_FORCE and a.start_on <= today <= a.last_day]
        pending = [a for a in mine if a.status in PENDING_OR_IN_FORCE]
        if status in (PostStatus.DRAFT, PostStatus.OPEN):
            if post.sponsor_id is not None or post.claimed_at is not None or post.claim_expires_at is not None:
                found.append(f"{where}: a draft or open post holds a sponsor or a claim")
            if pending:
                found.append(f"{where}: has agreements {[a.status.value for a in pending]}")
        if status == PostStatus.CLAIMED:
            signed = [a for a in mine if a.status in IN_FORCE]
            if post.sponsor_id is None:
                found.append(f"{where}: claimed without a sponsor")
            if post.claim_expires_at is None and not signed:
                found.append(f"{where}: an unsigned claim without an expiry")
            if now is not None and post.claim_expires_at is not None and post.claim_expires_at <= now:
                found.append(f"{where}: the claim has expired")
            # one agreement waiting to start (with, perhaps, its renewal already drafted), none running yet
            chained = {a.id for a in pending}
            roots = [a for a in pending if a.previous_id not in chained]
            if any(a.status == AgreementStatus.ACTIVE for a in mine) or len(roots) > 1:
                found.append(f"{where}: agreements {[a.status.value for a in pending]} for a claim")
        if status in (PostStatus.ACTIVE, PostStatus.SUSPENDED):
            if len(covering) != 1:
                found.append(f"{where}: {len(covering)} agreements in force cover {today}")
            if post.sponsor_id is None:
                found.append(f"{where}: no sponsor")
        if status == PostStatus.ENDED and pending:
            found.append(f"{where}: ended with agreements {[a.status.value for a in pending]}")
        if status != PostStatus.ENDED and post.ended_on is not None:
            found.append(f"{where}: an end date on a post that has not ended")
        if status == PostStatus.ENDED and post.ended_on is None:
            found.append(f"{where}: ended without an end date")
        wanted_suspensions = 1 if status == PostStatus.SUSPENDED else 0
        if open_suspensions[post.id] != wanted_suspensions:
            found.append(f"{where}: {open_suspensions[post.id]} open suspensions")
        for a in mine:
            if a.status == AgreementStatus.ACTIVE and a.start_on > today:
                found.append(f"{where}: agreement {a.number} active before its start")
            if a.status in IN_FORCE and a.last_day < today:
                found.append(f"{where}: agreement {a.number} still in force after its last day")
            if a.status in IN_FORCE and a.signed_on is None:
                found.append(f"{where}: agreement {a.number} in force but never signed")
            if a.sponsor_id != post.sponsor_id and a.status in PENDING_OR_IN_FORCE:
                found.append(f"{where}: agreement {a.number} with another sponsor than the post's")
        if status in LIVE_STATES:
            if post.member_id in live_members:
                found.append(f"{where}: member {post.member_id} also holds post {live_members[post.member_id]}")
            live_members[post.member_id] = post.id
        # the history replays to the current state, each step along the table
        history = events[post.id]
        if not history or history[0].action != "create" or history[0].to_status != PostStatus.DRAFT:
            found.append(f"{where}: history does not start with its creation as a draft")
            continue
        previous = history[0].to_status
        for e in history[1:]:
            sources, target = TRANSITIONS.get(e.action, (frozenset(), None))
            if e.from_status != previous or e.from_status not in sources or e.to_status != target:
                found.append(f"{where}: event {e.action} {e.from_status} → {e.to_status} after {previous}")
            previous = e.to_status
        if previous != status:
            found.append(f"{where}: history ends in {previous.value}")
    return found
