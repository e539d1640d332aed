"""Sponsors (爱心单位): self-registration, the union's decision, profile changes and the sponsor's own users."""

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from assist import audit, checks
from assist.areas.models import Area
from assist.auth.models import User
from assist.auth.operations import create_user, validate_password
from assist.db_types import utcnow
from assist.enums import Role, SponsorChangeStatus, SponsorStatus
from assist.errors import Conflict, ValidationFailed
from assist.extensions import db
from assist.sponsors import creditcode
from assist.sponsors.models import Sponsor, SponsorChange

PHONE = re.compile(r"^[0-9+\-() ]{5,20}\Z")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,120}\.[^@\s]{1,20}\Z")
SPONSOR_FIELDS = (
    "name",
    "credit_code",
    "contact_name",
    "phone",
    "email",
    "address",
    "pledge_posts",
    "pledge_budget_fen",
)
MAX_BUDGET_FEN = 1_000_000_000  # ten million yuan a month
#: the sponsor's legal identity: 甲方 on its agreements; changed only with the union's approval once decided on
IDENTITY = ("name", "credit_code")


def _clean(data: dict[str, Any], partial: bool = False) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}

    def given(name):
        return not partial or name in data

    if given("name"):
        clean["name"] = checks.text(errors, "name", data.get("name"), 100, required=True)
    if given("credit_code"):
        raw = data.get("credit_code")
        code = creditcode.normalise(raw) if isinstance(raw, str) else ""
        if not code:
            errors["credit_code"] = str(_l("This field is required."))
        elif len(code) != 18:
            errors["credit_code"] = str(_l("A unified social credit code has 18 characters."))
        elif not creditcode.is_valid(code):
            errors["credit_code"] = str(
                _l("This is not a valid unified social credit code (its check character does not match).")
            )
        clean["credit_code"] = code
    if given("contact_name"):
        clean["contact_name"] = checks.text(errors, "contact_name", data.get("contact_name"), 40, required=True)
    if given("phone"):
        phone = checks.text(errors, "phone", data.get("phone"), 20, required=True)
        if phone and "phone" not in errors and not PHONE.match(phone):
            errors["phone"] = str(_l("Enter a phone number of digits (5–20 characters)."))
        clean["phone"] = phone
    if given("email"):
        email = checks.text(errors, "email", data.get("email"), 120)
        if email and "email" not in errors and not EMAIL.match(email):
            errors["email"] = str(_l("Enter an e-mail address."))
        clean["email"] = email
    if given("address"):
        clean["address"] = checks.text(errors, "address", data.get("address"), 200)
    if given("pledge_posts"):
        n = data.get("pledge_posts")
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 1000:
            errors["pledge_posts"] = str(_l("Enter a number of posts from 0 to 1,000."))
        clean["pledge_posts"] = n
    if given("pledge_budget_fen"):
        fen = data.get("pledge_budget_fen")
        if isinstance(fen, bool) or not isinstance(fen, int) or not 0 <= fen <= MAX_BUDGET_FEN:
            errors["pledge_budget_fen"] = str(_l("Enter a monthly budget from 0 to 10,000,000 yuan."))
        clean["pledge_budget_fen"] = fen
    if given("area_codes"):
        codes = data.get("area_codes") or []
        if not isinstance(codes, list) or len(codes) > 50 or not all(isinstance(c, str) for c in codes):
            errors["areas"] = str(_l("Choose areas from the list."))
            clean["areas"] = []
        else:
            areas = list(db.session.scalars(select(Area).where(Area.code.in_(codes)))) if codes else []
            if len(areas) != len(set(codes)):
                errors["areas"] = str(_l("Choose areas from the list."))
            clean["areas"] = areas
    return clean, errors


def _credit_code_taken(code: str, except_id: int | None = None) -> bool:
    stmt = select(Sponsor.id).where(Sponsor.credit_code == code)
    if except_id is not None:
        stmt = stmt.where(Sponsor.id != except_id)
    return db.session.scalar(stmt) is not None


def _flush_unique() -> None:
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict(
            str(_l("An organisation with this credit code or a user with this name is already registered.")),
            {"credit_code": str(_l("Already registered."))},
        ) from None


def register_sponsor(data: dict[str, Any], username: str, password: str, actor=None) -> Sponsor:
    """A company registers itself (pending the union's approval) with its first user; ``actor`` when staff enter it."""
    clean, errors = _clean(data)
    if "credit_code" not in errors and _credit_code_taken(clean["credit_code"]):
        errors["credit_code"] = str(_l("An organisation with this credit code is already registered."))
    username = username.strip() if isinstance(username, str) else ""
    if not username or len(username) > 60 or not all(c.isalnum() or c in "._-" for c in username):
        errors["username"] = str(_l("A user name is 1–60 letters, digits, dots, dashes or underscores."))
    elif db.session.scalar(select(User.id).where(User.username == username)):
        errors["username"] = str(_l("This user name is taken."))
    problem = validate_password(password if isinstance(password, str) else "")
    if problem:
        errors["password"] = problem
    if errors:
        raise ValidationFailed(str(_l("Please correct the marked fields.")), errors)
    areas = clean.pop("areas", [])
    sponsor = Sponsor(status=SponsorStatus.PENDING, **clean)
    sponsor.areas = areas
    db.session.add(sponsor)
    _flush_unique()
    user = create_user(
        actor, username, password, Role.SPONSOR, display_name=clean["contact_name"], sponsor_id=sponsor.id
    )
    snap = audit.snapshot(sponsor, (*SPONSOR_FIELDS, "status"))
    snap["areas"] = [a.code for a in areas]
    audit.record(actor or user, "register", "sponsor", sponsor.id, after=snap, summary=sponsor.name)
    db.session.flush()
    return sponsor


def identity_needs_approval(actor, sponsor: Sponsor) -> bool:
    """A sponsor's own user changes its legal identity (name, credit code) only with the union's approval once the
    union has decided on the registration; while it is pending, the registration's review covers the change."""
    return getattr(actor, "role", None) == Role.SPONSOR and sponsor.status != SponsorStatus.PENDING


def pending_change(sponsor: Sponsor) -> SponsorChange | None:
    """The change of name or credit code awaiting the union's decision, if any."""
    return db.session.scalar(
        select(SponsorChange).where(
            SponsorChange.sponsor_id == sponsor.id, SponsorChange.status == SponsorChangeStatus.PENDING
        )
    )


def pending_changes(limit: int = 20) -> list[SponsorChange]:
    """Changes of name or credit code awaiting the union's decision, oldest first (the admin's sponsor list)."""
    return list(
        db.session.scalars(
            select(SponsorChange)
            .where(SponsorChange.status == SponsorChangeStatus.PENDING)
            .order_by(SponsorChange.requested_at, SponsorChange.id)
            .limit(limit)
        )
    )


def update_sponsor(actor, sponsor: Sponsor, data: dict[str, Any]) -> Sponsor:
    """Change the profile, preferred areas or pledge (the sponsor's own users or the admin).

    A new name or credit code from the sponsor's own user, once the union has decided on the registration, is held
    as a change request for the admin (``request_identity_change``); the approved identity stays in force meanwhile."""
    clean, errors = _clean(data, partial=True)
    if "credit_code" in clean and "credit_code" not in errors and _credit_code_taken(clean["credit_code"], sponsor.id):
        errors["credit_code"] = str(_l("An organisation with this credit code is already registered."))
    if identity_needs_approval(actor, sponsor):
        # claims are held within the pledge (posts.operations.check_pledge): only the union raises it
        for field in ("pledge_posts", "pledge_budget_fen"):
            if field in clean and field not in errors and clean[field] > getattr(sponsor, field):
                errors[field] = str(_l("Only the union raises a pledge: ask the union's administrator."))
    if errors:
        raise ValidationFailed(str(_l("Please correct the marked fields.")), errors)
    held = {}
    if identity_needs_approval(actor, sponsor):
        held = {f: clean.pop(f) for f in IDENTITY if f in clean and clean[f] != getattr(sponsor, f)}
    before = audit.snapshot(sponsor, SPONSOR_FIELDS)
    before["areas"] = [a.code for a in sponsor.areas]
    areas = clean.pop("areas", None)
    for field, value in clean.items():
        setattr(sponsor, field, value)
    if areas is not None:
        sponsor.areas = areas
    after = audit.snapshot(sponsor, SPONSOR_FIELDS)
    after["areas"] = [a.code for a in sponsor.areas]
    old, new = audit.changed(before, after)
    if new:
        audit.record(actor, "update", "sponsor", sponsor.id, before=old, after=new, summary=sponsor.name)
    _flush_unique()
    if held:
        request_identity_change(actor, sponsor, held)
    return sponsor


def request_identity_change(actor, sponsor: Sponsor, identity: dict[str, str]) -> SponsorChange:
    """Hold a new name and/or credit code for the union's approval (one request at a time: a second one updates it)."""
    change = pending_change(sponsor)
    if change is None:
        change = SponsorChange(
            sponsor_id=sponsor.id,
            name=sponsor.name,
            credit_code=sponsor.credit_code,
            old_name=sponsor.name,
            old_credit_code=sponsor.credit_code,
            status=SponsorChangeStatus.PENDING,
        )
        db.session.add(change)
    for field, value in identity.items():
        setattr(change, field, value)
    change.requested_at = utcnow()
    change.requested_by_id = getattr(actor, "id", None)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # another request of the same sponsor at the same moment
        raise Conflict(str(_l("A change of name or credit code is already awaiting the union's decision."))) from None
    audit.record(
        actor,
        "request_change",
        "sponsor",
        sponsor.id,
        before={"name": sponsor.name, "credit_code": sponsor.credit_code},
        after={"name": change.name, "credit_code": change.credit_code, "change_id": change.id},
        summary=sponsor.name,
    )
    db.session.flush()
    return change


def decide_change(actor, sponsor: Sponsor, decision: str, reason: str = "") -> SponsorChange:
    """The union approves (the new name and code come into force) or rejects (with a reason) the pending change."""
    if decision == "reject":
        reason = checks.required_reason(reason)
    change = pending_change(sponsor)
    if change is None:
        raise Conflict(str(_l("No change of name or credit code is awaiting a decision.")))
    if decision == "approve" and _credit_code_taken(change.credit_code, sponsor.id):
        message = str(_l("An organisation with this credit code is already registered."))
        raise Conflict(message, {"credit_code": message})
    target = SponsorChangeStatus.APPROVED if decision == "approve" else SponsorChangeStatus.REJECTED
    result = db.session.execute(
        update(SponsorChange)
        .where(SponsorChange.id == change.id, SponsorChange.status == SponsorChangeStatus.PENDING)
        .values(status=target, reason=reason, decided_at=utcnow(), decided_by_id=actor.id)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(change)
    if result.rowcount != 1:
        raise Conflict(str(_l("No change of name or credit code is awaiting a decision.")))
    before = {"name": sponsor.name, "credit_code": sponsor.credit_code}
    if decision == "approve":
        sponsor.name, sponsor.credit_code = change.name, change.credit_code
        _flush_unique()
    audit.record(
        actor,
        f"{decision}_change",
        "sponsor",
        sponsor.id,
        before=before,
        after={"name": change.name, "credit_code": change.credit_code, "change_id": change.id, "reason": reason},
        summary=sponsor.name,
    )
    db.session.flush()
    return change


#: decision → (states it may be taken from, resulting state)
DECISIONS = {
    "approve": ({SponsorStatus.PENDING, SponsorStatus.REJECTED, SponsorStatus.SUSPENDED}, SponsorStatus.APPROVED),
    "reject": ({SponsorStatus.PENDING}, SponsorStatus.REJECTED),
    "suspend": ({SponsorStatus.APPROVED}, SponsorStatus.SUSPENDED),
}


def decide(actor, sponsor: Sponsor, decision: str, reason: str = "") -> Sponsor:
    """The union approves, rejects (with a reason) or suspends (with a reason) a sponsor."""
    sources, target = DECISIONS[decision]
    if decision == "approve" and not (reason.strip() if isinstance(reason, str) else ""):
        reason = ""  # an approval needs no reason; anything else does, and any reason given is checked
    else:
        reason = checks.required_reason(reason)
    if sponsor.status not in sources:
        raise Conflict(
            str(_l("This organisation's registration cannot be changed that way now.")),
            {"status": sponsor.status.value},
        )
    before = sponsor.status
    sponsor.status = target
    sponsor.status_reason = reason
    sponsor.decided_at = utcnow()
    sponsor.decided_by_id = actor.id
    audit.record(
        actor,
        decision,
        "sponsor",
        sponsor.id,
        before={"status": before.value},
        after={"status": target.value, "reason": reason},
        summary=sponsor.name,
    )
    db.session.flush()
    return sponsor


def add_sponsor_user(actor, sponsor: Sponsor, username: str, password: str, display_name: str = ""):
    """Another login for the same sponsor (a sponsor can have several users)."""
    return create_user(actor, username, password, Role.SPONSOR, display_name=display_name, sponsor_id=sponsor.id)
