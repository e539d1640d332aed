"""Three-party agreements (帮扶协议): drafting from a claimed post, signing, scans, the daily advance of start and end
dates, suspension, renewal, early termination, and entering agreements signed on paper before the system.

Agreement states move by one table, like posts, each move a conditional UPDATE so that two requests cannot both win.
"""

import calendar
import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from assist import audit, checks
from assist.agreements.models import Agreement, AgreementScan, Suspension
from assist.db_types import local_today, utcnow
from assist.enums import AgreementStatus, PostStatus
from assist.errors import Conflict, ValidationFailed
from assist.extensions import db
from assist.posts import operations as posts
from assist.posts.models import Post
from assist.settings.operations import get_settings
from assist.sponsors.models import Sponsor

DRAFT, SIGNED, ACTIVE, ENDED, CANCELLED = (
    AgreementStatus.DRAFT,
    AgreementStatus.SIGNED,
    AgreementStatus.ACTIVE,
    AgreementStatus.ENDED,
    AgreementStatus.CANCELLED,
)

#: action → (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[AgreementStatus], AgreementStatus]] = {
    "sign": (frozenset({DRAFT}), SIGNED),
    "activate": (frozenset({SIGNED}), ACTIVE),  # the start date arrived
    "end": (frozenset({SIGNED, ACTIVE}), ENDED),  # the last day passed (end date or termination date)
    "cancel": (frozenset({DRAFT}), CANCELLED),
    "void": (frozenset({SIGNED}), CANCELLED),  # a signed renewal that can never start: its predecessor was terminated
}
AGREEMENT_FIELDS = ("start_on", "end_on", "monthly_amount_fen", "duties", "hours_per_month")
IN_FORCE = (SIGNED, ACTIVE)
SCAN_LIMIT = 10 * 1024 * 1024
SCAN_TYPES = {b"%PDF-": "application/pdf", b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}
EARLIEST = date(2000, 1, 1)


def _move(actor, agreement: Agreement, action: str, values: dict[str, Any] | None = None, where=None) -> Agreement:
    sources, target = TRANSITIONS[action]
    before = agreement.status
    conditions = [Agreement.id == agreement.id, Agreement.status.in_(sorted(sources))]
    if where is not None:
        conditions.append(where)
    result = db.session.execute(
        update(Agreement)
        .where(*conditions)
        .values(status=target, updated_at=utcnow(), **(values or {}))
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(agreement)
    if result.rowcount != 1:
        raise Conflict(str(_l("This agreement cannot be changed that way now.")), {"status": agreement.status.value})
    audit.record(
        actor,
        action,
        "agreement",
        agreement.id,
        before={"status": before.value},
        after={"status": target.value, **dict((values or {}).items())},
        family_id=agreement.family_id,
        summary=agreement.number,
    )
    db.session.flush()
    return agreement


def _date(errors: dict, field: str, value) -> date | None:
    if value is None or value == "":
        errors[field] = str(_l("This field is required."))
        return None
    if not isinstance(value, date):
        errors[field] = str(_l("Enter a date."))
        return None
    if not EARLIEST <= value <= date(2100, 12, 31):
        errors[field] = str(_l("Enter a date from 2000 to 2100."))
        return None
    return value


def default_end(start_on: date, months: int) -> date:
    """The last day of a term of ``months`` starting on ``start_on`` (12 months from 1 March end on 28/29 February)."""
    return add_months(start_on, months) - timedelta(days=1)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's last day (31 January + 1 month = 28/29 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _clean_terms(post: Post, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    start_on = _date(errors, "start_on", data.get("start_on"))
    end_on = data.get("end_on")
    if end_on in (None, "") and start_on is not None:
        end_on = default_end(start_on, post.term_months)
    else:
        end_on = _date(errors, "end_on", end_on)
    if start_on and end_on and end_on < start_on:
        errors["end_on"] = str(_l("The end date cannot be before the start date."))
    if start_on and end_on and end_on > default_end(start_on, 60):
        errors["end_on"] = str(_l("An agreement runs for at most five years; renew it for longer."))
    clean_post, post_errors = posts._clean_post(
        {
            "title": post.title,
            "term_months": post.term_months,
            "monthly_amount_fen": data.get("monthly_amount_fen", post.monthly_amount_fen),
            "hours_per_month": data.get("hours_per_month", post.hours_per_month),
            "duties": data.get("duties", post.duties),
        }
    )
    errors.update(post_errors)
    clean = {
        "start_on": start_on,
        "end_on": end_on,
        "monthly_amount_fen": clean_post["monthly_amount_fen"],
        "hours_per_month": clean_post["hours_per_month"],
        "duties": clean_post["duties"],
    }
    return clean, errors


def _number(start_on: date, post_id: int) -> str:
    n = db.session.scalar(select(func.count()).select_from(Agreement).where(Agreement.post_id == post_id)) or 0
    return f"XG-{start_on.year}-{post_id:06d}-{n + 1}"


def _insert(
    actor, post: Post, clean: dict[str, Any], *, previous: Agreement | None = None, from_paper: bool = False
) -> Agreement:
    agreement = Agreement(
        number=_number(clean["start_on"], post.id),
        post_id=post.id,
        sponsor_id=post.sponsor_id,
        member_id=post.member_id,
        family_id=post.family_id,
        area_id=post.area_id,
        status=DRAFT,
        previous_id=previous.id if previous else None,
        from_paper=from_paper,
        created_by_id=getattr(actor, "id", None),
        **clean,
    )
    db.session.add(agreement)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict(str(_l("This post already has an agreement starting on that date."))) from None
    snap = audit.snapshot(agreement, (*AGREEMENT_FIELDS, "number", "post_id", "sponsor_id", "member_id"))
    audit.record(
        actor, "create", "agreement", agreement.id, after=snap, family_id=post.family_id, summary=agreement.number
    )
    return agreement


def create_agreement(actor, post: Post, data: dict[str, Any]) -> Agreement:
    """Draft the three-party agreement for a claimed post (甲方 its sponsor, 乙方 the member, 丙方 the union)."""
    if post.status != PostStatus.CLAIMED or post.sponsor_id is None:
        raise Conflict(
            str(_l("An agreement is drafted for a post a sponsor has claimed.")), {"post_id": post.status.value}
        )
    pending = db.session.scalar(
        select(Agreement.id).where(Agreement.post_id == post.id, Agreement.status.in_([DRAFT, SIGNED, ACTIVE]))
    )
    if pending:
        raise Conflict(str(_l("This post already has an agreement; open it instead.")), {"post_id": "exists"})
    clean, errors = _clean_terms(post, data)
    if errors:
        raise ValidationFailed(str(_l("Please correct the marked fields.")), errors)
    return _insert(actor, post, clean)


def update_agreement(actor, agreement: Agreement, data: dict[str, Any]) -> Agreement:
    """Change a draft's dates or terms; a signed agreement is changed only by renewal or termination."""
    if agreement.status != DRAFT:
        raise Conflict(str(_l("Only a draft agreement can be changed.")), {"status": agreement.status.value})
    merged = {**audit.snapshot(agreement, AGREEMENT_FIELDS), **data}
    merged["start_on"] = data.get("start_on", agreement.start_on)
    merged["end_on"] = data.get("end_on", agreement.end_on)
    clean, errors = _clean_terms(agreement.post, merged)
    if errors:
        raise ValidationFailed(str(_l("Please correct the marked fields.")), errors)
    before = audit.snapshot(agreement, AGREEMENT_FIELDS)
    for field, value in clean.items():
        setattr(agreement, field, value)
    old, new = audit.changed(before, audit.snapshot(agreement, AGREEMENT_FIELDS))
    if new:
        audit.record(
            actor,
            "update",
            "agreement",
            agreement.id,
            before=old,
            after=new,
            family_id=agreement.family_id,
            summary=agreement.number,
        )
    db.session.flush()
    return agreement


def check_scan(filename: str, data: bytes) -> str:
    """The content type of a scan judged by its first bytes (the name and the browser's word are not trusted)."""
    if not data:
        raise ValidationFailed(str(_l("The file is empty.")), {"scan": str(_l("The file is empty."))})
    if len(data) > SCAN_LIMIT:
        message = str(_l("A scan may be at most 10 MB."))
        raise ValidationFailed(message, {"scan": message})
    for magic, content_type in SCAN_TYPES.items():
        if data.startswith(magic):
            return content_type
    message = str(_l("A scan must be a PDF, JPEG or PNG file."))
    raise ValidationFailed(message, {"scan": message})


def attach_scan(actor, agreement: Agreement, filename: str, data: bytes) -> AgreementScan:
    """Keep the scanned signed paper with the agreement (replacing an earlier scan)."""
    content_type = check_scan(filename, data)
    name = "".join(c for c in (filename or "scan") if c.isprintable() and c not in '/\\"')[-120:] or "scan"
    scan = agreement.scan or AgreementScan(agreement_id=agreement.id)
    scan.filename = name
    scan.content_type = content_type
    scan.size = len(data)
    scan.sha256 = hashlib.sha256(data).hexdigest()
    scan.data = data
    scan.uploaded_at = utcnow()
    scan.uploaded_by_id = getattr(actor, "id", None)
    db.session.add(scan)
    audit.record(
        actor,
        "attach_scan",
        "agreement",
        agreement.id,
        after={"filename": name, "size": len(data), "sha256": scan.sha256},
        family_id=agreement.family_id,
        summary=agreement.number,
    )
    db.session.flush()
    return scan


def sign_agreement(
    actor, agreement: Agreement, signed_on, scan: tuple[str, bytes] | None = None, today: date | None = None
) -> Agreement:
    """Record the signing (date, optional scan); the post becomes active on the start date."""
    today = today or local_today()
    errors: dict[str, str] = {}
    signed_on = _date(errors, "signed_on", signed_on)
    if signed_on and signed_on > today:
        errors["signed_on"] = str(_l("The signing date cannot be in the future."))
    if errors:
        raise ValidationFailed(str(_l("Please correct the marked fields.")), errors)
    if scan is not None:
        check_scan(*scan)
    _move(actor, agreement, "sign", {"signed_on": signed_on, **_parties_now(agreement)})
    if scan is not None:
        attach_scan(actor, agreement, *scan)
    # a signed claim no longer expires
    db.session.execute(
        update(Post)
        .where(Post.id == agreement.post_id)
        .values(claim_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    advance(today, agreement_ids=[agreement.id], actor=actor)
    return agreement


def cancel_agreement(actor, agreement: Agreement) -> Agreement:
    return _move(actor, agreement, "cancel")


def _successor_in_force(agreement: Agreement, day: date) -> Agreement | None:
    return db.session.scalar(
        select(Agreement).where(
            Agreement.previous_id == agreement.id, Agreement.status.in_(IN_FORCE), Agreement.start_on <= day
        )
    )


def advance(today: date | None = None, agreement_ids: list[int] | None = None, actor=None) -> dict[str, int]:
    """Bring agreements and their posts up to ``today``: start signed ones whose start date came, end those whose last
    day passed. Run daily by the scheduler and after each signing; safe to run twice."""
    today = today or local_today()
    counts = {"activated": 0, "ended": 0}

    def scoped(stmt):
        return stmt.where(Agreement.id.in_(agreement_ids)) if agreement_ids is not None else stmt

    starting = db.session.scalars(
        scoped(select(Agreement).where(Agreement.status == SIGNED, Agreement.start_on <= today)).order_by(Agreement.id)
    ).all()
    for agreement in starting:
        try:
            with db.session.begin_nested():
                _move(actor, agreement, "activate")
                post = agreement.post
                if post.status == PostStatus.CLAIMED:
                    posts.transition(
                        actor,
                        post,
                        "activate",
                        effective_on=agreement.start_on,
                        values={"claim_expires_at": None},
                        note=agreement.number,
                    )
        except Conflict:
            continue
        counts["activated"] += 1

    last_day = func.coalesce(Agreement.terminated_on, Agreement.end_on)
    finished = db.session.scalars(
        scoped(select(Agreement).where(Agreement.status.in_(IN_FORCE), last_day < today)).order_by(
            Agreement.start_on, Agreement.id
        )
    ).all()
    for agreement in finished:
        try:
            with db.session.begin_nested():
                _move(actor, agreement, "end", where=last_day < today)
                post = agreement.post
                successor = _successor_in_force(agreement, today)
                if not successor and post.status in (PostStatus.ACTIVE, PostStatus.SUSPENDED):
                    posts.transition(
                        actor,
                        post,
                        "end",
                        effective_on=agreement.last_day,
                        values={"ended_on": agreement.last_day},
                        note=agreement.number,
                    )
                _close_suspension(agreement, agreement.last_day, successor=successor)
                # a renewal left unsigned when its predecessor ends can no longer start
                for draft in db.session.scalars(
                    select(Agreement).where(Agreement.previous_id == agreement.id, Agreement.status == DRAFT)
                ):
                    if not successor:
                        _move(actor, draft, "cancel")
        except Conflict:
            continue
        counts["ended"] += 1
    return counts


def _close_suspension(agreement: Agreement, last_day: date, successor: Agreement | None = None) -> None:
    """Close the agreement's open suspension on its last day; a suspended post stays suspended into the renewal."""
    for suspension in agreement.suspensions:
        if suspension.end_on is None:
            suspension.end_on = max(last_day, suspension.start_on)
            if successor is not None and suspension.start_on <= last_day:
                db.session.add(
                    Suspension(agreement_id=successor.id, start_on=successor.start_on, reason=suspension.reason)
                )


def terminate_agreement(actor, agreement: Agreement, end_on, reason, today: date | None = None) -> Agreement:
    """End an agreement early (提前终止) on ``end_on`` for a reason; the post ends with it on that date."""
    today = today or local_today()
    errors: dict[str, str] = {}
    end_on = _date(errors, "end_date", end_on)
    reason = checks.reason(errors, reason)
    if end_on and not errors.get("end_date"):
        if end_on < agreement.start_on:
            errors["end_date"] = str(_l("The last day cannot be before the agreement starts."))
        elif end_on > agreement.end_on:
            errors["end_date"] = str(_l("The last day cannot be after the agreement's end date."))
    if errors:
        raise ValidationFailed(str(_l("Please correct the marked fields.")), errors)
    if agreement.status not in IN_FORCE or agreement.terminated_on is not None:
        raise Conflict(
            str(_l("Only a signed agreement still in force can be terminated.")), {"status": agreement.status.value}
        )
    result = db.session.execute(
        update(Agreement)
        .where(Agreement.id == agreement.id, Agreement.status.in_(IN_FORCE), Agreement.terminated_on.is_(None))
        .values(terminated_on=end_on, termination_reason=reason, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(agreement)
    if result.rowcount != 1:
        raise Conflict(str(_l("Only a signed agreement still in force can be terminated.")))
    audit.record(
        actor,
        "terminate",
        "agreement",
        agreement.id,
        after={"terminated_on": end_on, "reason": reason},
        family_id=agreement.family_id,
        summary=agreement.number,
    )
    # a renewal waiting to follow is cancelled with it (drafted) or voided (signed: it can never start now)
    for renewal in db.session.scalars(
        select(Agreement).where(Agreement.previous_id == agreement.id, Agreement.status.in_([DRAFT, SIGNED]))
    ):
        _move(actor, renewal, "cancel" if renewal.status == DRAFT else "void")
    advance(today, agreement_ids=[agreement.id], actor=actor)
    return agreement


def renew_agreement(actor, agreement: Agreement, data: dict[str, Any] | None = None) -> Agreement:
    """Draft the next term (续签), starting the day after this one ends, with the same parties."""
    data = data or {}
    if agreement.status not in IN_FORCE or agreement.terminated_on is not None:
        raise Conflict(str(_l("Only an agreement in force, not terminated, can be renewed.")))
    if db.session.scalar(
        select(Agreement.id).where(Agreement.previous_id == agreement.id, Agreement.status.in_([DRAFT, SIGNED, ACTIVE]))
    ):
        raise Conflict(str(_l("This agreement has already been renewed.")))
    start_on = agreement.end_on + timedelta(days=1)
    terms = {
        "start_on": start_on,
        "end_on": data.get("end_on") or default_end(start_on, agreement.post.term_months),
        "monthly_amount_fen": data.get("monthly_amount_fen", agreement.monthly_amount_fen),
        "hours_per_month": data.get("hours_per_month", agreement.hours_per_month),
        "duties": data.get("duties", agreement.duties),
    }
    clean, errors = _clean_terms(agreement.post, terms)
    if errors:
        raise ValidationFailed(str(_l("Please correct the marked fields.")), errors)
    return _insert(actor, agreement.post, clean, previous=agreement)


def current_agreement(post: Post, day: date | None = None) -> Agreement | None:
    """The agreement in force for ``post`` on ``day`` (today by default)."""
    day = day or local_today()
    return db.session.scalar(
        select(Agreement)
        .where(
            Agreement.post_id == post.id,
            Agreement.status.in_(IN_FORCE),
            Agreement.start_on <= day,
            func.coalesce(Agreement.terminated_on, Agreement.end_on) >= day,
        )
        .order_by(Agreement.start_on.desc())
    )


def suspend_post(actor, post: Post, start_on, reason, today: date | None = None) -> Suspension:
    """Suspend an active post (暂停) from ``start_on``: no stipend accrues while it lasts."""
    today = today or local_today()
    errors: dict[str, str] = {}
    start_on = _date(errors, "start_on", start_on)
    reason = checks.reason(errors, reason)
    agreement = current_agreement(post, today)
    if start_on and agreement and not agreement.start_on <= start_on <= agreement.last_day:
        errors["start_on"] = str(_l("The suspension must start while the agreement runs."))
    if errors:
        raise ValidationFailed(str(_l("Please correct the marked fields.")), errors)
    if agreement is None:
        raise Conflict(str(_l("Only a post with an agreement in force can be suspended.")))
    posts.transition(actor, post, "suspend", effective_on=start_on, note=reason)
    suspension = Suspension(agreement_id=agreement.id, start_on=start_on, reason=reason)
    db.session.add(suspension)
    db.session.flush()
    return suspension


def resume_post(actor, post: Post, resume_on, today: date | None = None) -> Suspension:
    """End a suspension: the stipend accrues again from ``resume_on``."""
    errors: dict[str, str] = {}
    resume_on = _date(errors, "resume_on", resume_on)
    suspension = db.session.scalar(
        select(Suspension).join(Agreement).where(Agreement.post_id == post.id, Suspension.end_on.is_(None))
    )
    if resume_on and suspension and resume_on <= suspension.start_on:
        errors["resume_on"] = str(_l("The post resumes after the suspension started."))
    if errors:
        raise ValidationFailed(str(_l("Please correct the marked fields.")), errors)
    posts.transition(actor, post, "resume", effective_on=resume_on)
    if suspension is None:
        raise Conflict(str(_l("This post is not suspended.")))
    suspension.end_on = resume_on - timedelta(days=1)
    db.session.flush()
    return suspension


def enter_paper_agreement(
    actor, post: Post, sponsor: Sponsor, data: dict[str, Any], today: date | None = None
) -> Agreement:
    """Enter an agreement signed on paper before the system, with its original dates (claim, draft, sign at once)."""
    today = today or local_today()
    errors: dict[str, str] = {}
    signed_on = _date(errors, "signed_on", data.get("signed_on"))
    if signed_on and signed_on > today:
        errors["signed_on"] = str(_l("The signing date cannot be in the future."))
    if not sponsor.approved:
        errors["sponsor_id"] = str(_l("Choose an approved sponsor."))
    clean, term_errors = _clean_terms(post, data)
    errors.update(term_errors)
    if errors:
        raise ValidationFailed(str(_l("Please correct the marked fields.")), errors)
    if post.status == PostStatus.DRAFT:
        posts.publish_post(actor, post)
    # a paper agreement still running takes up the sponsor's pledge like any claim; one that already ended does not
    running = clean["end_on"] >= today
    if running:
        try:
            posts.check_pledge(sponsor, post.monthly_amount_fen)
        except Conflict as exc:  # named beside the sponsor chosen on the form
            raise Conflict(exc.message, {"sponsor_id": exc.message}) from None
    posts.claim_post(actor, post, sponsor=sponsor, within_pledge=running)
    agreement = _insert(actor, post, clean, from_paper=True)
    sign_agreement(actor, agreement, signed_on, scan=data.get("scan"), today=today)
    return agreement


@dataclass(frozen=True)
class Parties:
    """The three parties as the agreement names them: 甲方 (name, credit code), 乙方 (the member), 丙方 (the union)."""

    a_name: str
    a_credit_code: str
    b_name: str
    c_name: str


def _parties_now(agreement: Agreement) -> dict[str, str]:
    """The parties' names in force now, as the columns that keep them once signed."""
    return {
        "party_a_name": agreement.sponsor.name,
        "party_a_credit_code": agreement.sponsor.credit_code,
        "party_b_name": agreement.member.name,
        "party_c_name": get_settings()["union_name"],
    }


def fill_signed_parties() -> None:
    """Record the parties of signed agreements written without them (the demo's set-based rows) as named now."""
    from assist.families.models import Member

    db.session.execute(
        update(Agreement)
        .where(Agreement.signed_on.is_not(None), Agreement.party_a_name.is_(None))
        .values(
            party_a_name=select(Sponsor.name).where(Sponsor.id == Agreement.sponsor_id).scalar_subquery(),
            party_a_credit_code=select(Sponsor.credit_code).where(Sponsor.id == Agreement.sponsor_id).scalar_subquery(),
            party_b_name=select(Member.name).where(Member.id == Agreement.member_id).scalar_subquery(),
            party_c_name=get_settings()["union_name"],
        )
        .execution_options(synchronize_session=False)
    )


def parties(agreement: Agreement) -> Parties:
    """The parties exactly as signed once the agreement is signed (later changes of a name or code never reach it);
    a draft names them as they are now."""
    if agreement.party_a_name is not None:
        return Parties(
            agreement.party_a_name,
            agreement.party_a_credit_code or "",
            agreement.party_b_name or "",
            agreement.party_c_name or "",
        )
    now = _parties_now(agreement)
    return Parties(now["party_a_name"], now["party_a_credit_code"], now["party_b_name"], now["party_c_name"])


def sponsor_may_see_member(agreement: Agreement) -> bool:
    """After signing, the sponsor sees the member's name and the contact needed — nothing more."""
    return agreement.status in (SIGNED, ACTIVE, ENDED)


def agreements_ending(within_days: int = 30, today: date | None = None):
    """Agreements in force whose last day falls within the next ``within_days`` days and that are not renewed."""
    today = today or local_today()
    horizon = today + timedelta(days=within_days)
    renewed = select(Agreement.previous_id).where(
        Agreement.previous_id.is_not(None), Agreement.status.in_([DRAFT, SIGNED, ACTIVE])
    )
    last_day = func.coalesce(Agreement.terminated_on, Agreement.end_on)
    return select(Agreement).where(
        Agreement.status.in_(IN_FORCE),
        and_(last_day >= today, last_day <= horizon),
        or_(Agreement.terminated_on.is_not(None), Agreement.id.not_in(renewed)),
    )
