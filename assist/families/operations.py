"""Operations on family files: create, edit, members, incomes, consent, revealing ID numbers, closing.

Operations change objects, flush and write the audit log; they never commit (the caller commits once).
"""

import re
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from assist import audit, checks, crypto, idnumber
from assist.areas.models import Area
from assist.db_types import local_today
from assist.enums import (
    ArchiveType,
    AssessmentKind,
    FamilyStatus,
    HardshipCategory,
    Health,
    Housing,
    IdentityStatus,
    Relation,
    Schooling,
    WorkAbility,
)
from assist.errors import Conflict, ValidationFailed
from assist.extensions import db
from assist.families.models import Family, Income, Member
from assist.permissions import area_in_scope

FAMILY_FIELDS = (
    "area_id",
    "status",
    "hardship_category",
    "archive_type",
    "head_name",
    "phone",
    "address",
    "employer",
    "employer_union",
    "identity_status",
    "accident_on",
    "accident_note",
    "single_parent",
    "debt_fen",
    "housing",
    "notes",
    "consent_on",
    "consent_scope",
)
EDITABLE_FAMILY_FIELDS = tuple(f for f in FAMILY_FIELDS if f not in ("status", "head_name"))
MEMBER_FIELDS = (
    "relation",
    "name",
    "id_masked",
    "birth_year",
    "health",
    "disability_grade",
    "illness",
    "work_ability",
    "schooling",
)
ENUMS = {
    "hardship_category": HardshipCategory,
    "archive_type": ArchiveType,
    "identity_status": IdentityStatus,
    "housing": Housing,
    "relation": Relation,
    "health": Health,
    "work_ability": WorkAbility,
    "schooling": Schooling,
}
PHONE = re.compile(r"^[0-9+\-() ]{5,20}\Z")
MONTH = re.compile(r"^(19|20)[0-9]{2}-(0[1-9]|1[0-2])\Z")  # ASCII digits: \d would also match ٢ or ２
MAX_FEN = 2_000_000_000


def _enum(errors: dict, field: str, value):
    try:
        return ENUMS[field](value)
    except ValueError:
        errors[field] = str(_l("Choose one of the listed values."))
        return None


def _fen(errors: dict, field: str, value) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_FEN:
        errors[field] = str(_l("Enter an amount from 0 to 20,000,000 yuan."))
        return 0
    return value


def _clean_family(data: dict[str, Any], actor, partial: bool = False) -> tuple[dict[str, Any], dict[str, str]]:
    """Check the family's own fields; returns the clean values and the field errors."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}

    def given(name: str) -> bool:
        return not partial or name in data

    if given("area_code") or given("area_id"):
        area = None
        if data.get("area_id") is not None:
            area = db.session.get(Area, data["area_id"]) if isinstance(data["area_id"], int) else None
        elif data.get("area_code"):
            area = db.session.scalar(select(Area).where(Area.code == str(data["area_code"])[:20]))
        if area is None or not area_in_scope(area, actor):
            errors["area_code"] = str(_l("Choose an area within your own areas."))
        else:
            clean["area_id"] = area.id
    for field in ("hardship_category", "identity_status", "housing", "archive_type"):
        if given(field) and (data.get(field) is not None or not partial):
            default = {"identity_status": "employed", "housing": "adequate", "archive_type": "new"}.get(field)
            value = data.get(field) or default
            if value is None:
                errors[field] = str(_l("This field is required."))
            else:
                clean[field] = _enum(errors, field, value)
    for field, limit in (
        ("phone", 20),
        ("address", 200),
        ("employer", 100),
        ("employer_union", 100),
        ("accident_note", 200),
        ("notes", 2000),
        ("consent_scope", 200),
    ):
        if given(field):
            clean[field] = checks.text(errors, field, data.get(field), limit)
    if clean.get("phone") and not PHONE.match(clean["phone"]):
        errors["phone"] = str(_l("Enter a phone number of digits (5–20 characters)."))
    for field in ("accident_on", "consent_on"):
        if given(field):
            value = data.get(field)
            if value is not None and not isinstance(value, date):
                errors[field] = str(_l("Enter a date."))
            elif value is not None and value > local_today():
                errors[field] = str(_l("This date cannot be in the future."))
            elif value is not None and value.year < 1900:
                errors[field] = str(_l("Enter a date from 1900 on."))
            else:
                clean[field] = value
    if given("single_parent"):
        clean["single_parent"] = bool(data.get("single_parent"))
    if given("debt_fen"):
        clean["debt_fen"] = _fen(errors, "debt_fen", data.get("debt_fen"))
    if clean.get("consent_on") and not clean.get("consent_scope") and given("consent_scope"):
        errors["consent_scope"] = str(_l("Say what the family consented to."))
    return clean, errors


def _clean_member(data: dict[str, Any], errors: dict[str, str], prefix: str = "") -> dict[str, Any]:
    """Check one member's fields; errors are keyed ``prefix + field``."""
    local: dict[str, str] = {}
    clean: dict[str, Any] = {}
    clean["name"] = checks.text(local, "name", data.get("name"), 40, required=True)
    clean["relation"] = _enum(local, "relation", data.get("relation") or "other")
    clean["health"] = _enum(local, "health", data.get("health") or "healthy")
    clean["work_ability"] = _enum(local, "work_ability", data.get("work_ability") or "full")
    clean["schooling"] = _enum(local, "schooling", data.get("schooling") or "none")
    clean["illness"] = checks.text(local, "illness", data.get("illness"), 100)
    grade = data.get("disability_grade")
    if grade in (None, ""):
        clean["disability_grade"] = None
    elif isinstance(grade, bool) or not isinstance(grade, int) or not 1 <= grade <= 4:
        local["disability_grade"] = str(_l("A disability grade is 1 to 4."))
    else:
        clean["disability_grade"] = grade
    if (
        clean.get("health") == Health.DISABLED
        and clean.get("disability_grade") is None
        and "disability_grade" not in local
    ):
        local["disability_grade"] = str(_l("Give the disability grade (1 to 4)."))
    raw_id = data.get("id_number")
    if raw_id in (None, ""):
        local["id_number"] = str(_l("This field is required."))
    else:
        try:
            parsed = idnumber.parse(raw_id)
        except idnumber.InvalidIdNumber as exc:
            local["id_number"] = str(exc)
        else:
            clean["id"] = parsed
            birth = data.get("birth_date")
            if birth not in (None, "") and birth != parsed.birth_date:
                local["birth_date"] = str(
                    _l("The birth date does not match the ID number (%(d)s).", d=parsed.birth_date.isoformat())
                )
    errors.update({prefix + k: v for k, v in local.items()})
    return clean


def _duplicate_message(existing: Member, actor) -> str:
    family = existing.family
    if area_in_scope(family.area, actor):
        return str(
            _l(
                "This person is already on family file No. %(id)s (head of household: %(head)s).",
                id=family.id,
                head=family.head_name,
            )
        )
    return str(_l("This person is already on a family file in another area; ask the city union to check."))


def _check_not_filed(parsed: idnumber.IdNumber, actor, field: str, except_member: Member | None = None) -> str:
    """The blind index for the ID number; refuses a person already on a current family file."""
    index = crypto.blind_index(parsed.value)
    existing = db.session.scalar(select(Member).where(Member.id_index == index, Member.is_current.is_(True)))
    if existing is not None and existing is not except_member:
        raise Conflict(_duplicate_message(existing, actor), {field: _duplicate_message(existing, actor)})
    return index


def _new_member(clean: dict[str, Any], index: str) -> Member:
    parsed: idnumber.IdNumber = clean["id"]
    return Member(
        relation=clean["relation"],
        name=clean["name"],
        id_cipher=crypto.encrypt(parsed.value),
        id_index=index,
        id_masked=parsed.masked,
        birth_year=parsed.birth_date.year,
        male=parsed.male,
        health=clean["health"],
        disability_grade=clean["disability_grade"],
        illness=clean["illness"],
        work_ability=clean["work_ability"],
        schooling=clean["schooling"],
    )


def _flush_or_conflict() -> None:
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        # a concurrent request filed the same person between our check and our insert
        raise Conflict(str(_l("This person was just filed by someone else; reload and check."))) from None


def create_family(actor, data: dict[str, Any], today: date | None = None) -> Family:
    """Open a family file with its head of household and members (一户一档)."""
    clean, errors = _clean_family(data, actor)
    if not data.get("hardship_category"):
        errors["hardship_category"] = str(_l("This field is required."))
    head = _clean_member(
        {
            "name": data.get("head_name"),
            "id_number": data.get("head_id_number"),
            "relation": "self",
            **{
                k: data.get("head_" + k)
                for k in ("health", "disability_grade", "illness", "work_ability", "schooling", "birth_date")
            },
        },
        errors,
        prefix="head_",
    )
    members_data = data.get("members") or []
    if not isinstance(members_data, list) or len(members_data) > 30:
        errors["members"] = str(_l("A family has at most 30 members."))
        members_data = []
    others = []
    for i, m in enumerate(members_data):
        if not isinstance(m, dict):
            errors[f"members.{i}"] = str(_l("Each member is a set of fields."))
            continue
        cm = _clean_member(m, errors, prefix=f"members.{i}.")
        if cm.get("relation") == Relation.SELF:
            errors[f"members.{i}.relation"] = str(_l("The household head is entered above."))
        others.append(cm)
    ids = [c["id"].value for c in [head, *others] if "id" in c]
    if len(ids) != len(set(ids)):
        errors["members"] = str(_l("The same ID number is entered twice."))
    if errors:
        raise ValidationFailed(str(_l("Please correct the marked fields.")), errors)

    family = Family(head_name=head["name"], created_by_id=getattr(actor, "id", None), **clean)
    family.members.append(_new_member(head, _check_not_filed(head["id"], actor, "head_id_number")))
    for i, cm in enumerate(others):
        family.members.append(_new_member(cm, _check_not_filed(cm["id"], actor, f"members.{i}.id_number")))
    db.session.add(family)
    _flush_or_conflict()
    after = audit.snapshot(family, FAMILY_FIELDS)
    after["members"] = [audit.snapshot(m, MEMBER_FIELDS) for m in family.members]
    audit.record(actor, "create", "family", family.id, after=after, family_id=family.id, summary=family.head_name)
    # every file starts with an intake assessment, so it has a colour and a review date from day one
    from assist.assessments.operations import assess_family

    assess_family(actor, family, AssessmentKind.INTAKE, today=today)
    return family


def update_family(actor, family: Family, data: dict[str, Any]) -> Family:
    """Change a family's own fields (only those given)."""
    data = {k: v for k, v in data.items() if k in (*EDITABLE_FAMILY_FIELDS, "area_code")}
    clean, errors = _clean_family(data, actor, partial=True)
    if errors:
        raise ValidationFailed(str(_l("Please correct the marked fields.")), errors)
    before = audit.snapshot(family, FAMILY_FIELDS)
    for key, value in clean.items():
        setattr(family, key, value)
    db.session.flush()
    b, a = audit.changed(before, audit.snapshot(family, FAMILY_FIELDS))
    if a:
        audit.record(
            actor, "update", "family", family.id, before=b, after=a, family_id=family.id, summary=family.head_name
        )
    return family


def add_member(actor, family: Family, data: dict[str, Any]) -> Member:
    """Add a member to a family file."""
    errors: dict[str, str] = {}
    clean = _clean_member(data, errors)
    if clean.get("relation") == Relation.SELF:
        errors["relation"] = str(_l("A family has one household head."))
    if errors:
        raise ValidationFailed(str(_l("Please correct the marked fields.")), errors)
    member = _new_member(clean, _check_not_filed(clean["id"], actor, "id_number"))
    member.is_current = family.status != FamilyStatus.CLOSED
    family.members.append(member)
    _flush_or_conflict()
    audit.record(
        actor,
        "create",
        "member",
        member.id,
        after=audit.snapshot(member, MEMBER_FIELDS),
        family_id=family.id,
        summary=member.name,
    )
    return member


def update_member(actor, member: Member, data: dict[str, Any]) -> Member:
    """Change a member; a new ID number is checked and re-encrypted."""
    errors: dict[str, str] = {}
    merged = {
        "name": member.name,
        "relation": member.relation,
        "health": member.health,
        "work_ability": member.work_ability,
        "schooling": member.schooling,
        "illness": member.illness,
        "disability_grade": member.disability_grade,
        **{k: v for k, v in data.items() if k != "id_number" and k != "birth_date"},
        "id_number": data.get("id_number") or crypto.decrypt(member.id_cipher),
    }
    clean = _clean_member(merged, errors)
    if (clean.get("relation") == Relation.SELF) != (member.relation == Relation.SELF):
        errors["relation"] = str(_l("The household head stays the household head."))
    if errors:
        raise ValidationFailed(str(_l("Please correct the marked fields.")), errors)
    before = audit.snapshot(member, MEMBER_FIELDS)
    parsed: idnumber.IdNumber = clean["id"]
    index = _check_not_filed(parsed, actor, "id_number", except_member=member)
    if index != member.id_index:
        member.id_cipher = crypto.encrypt(parsed.value)
        member.id_index = index
        member.id_masked = parsed.masked
        member.birth_year = parsed.birth_date.year
        member.male = parsed.male
    for key in ("name", "relation", "health", "disability_grade", "illness", "work_ability", "schooling"):
        setattr(member, key, clean[key])
    if member.relation == Relation.SELF:
        member.family.head_name = member.name
    _flush_or_conflict()
    b, a = audit.changed(before, audit.snapshot(member, MEMBER_FIELDS))
    if a:
        audit.record(
            actor, "update", "member", member.id, before=b, after=a, family_id=member.family_id, summary=member.name
        )
    return member


def remove_member(actor, member: Member) -> None:
    """Take a member off the file (moved out, deceased); the household head cannot be removed."""
    if member.relation == Relation.SELF:
        raise Conflict(str(_l("The household head cannot be removed; close the file instead.")))
    audit.record(
        actor,
        "delete",
        "member",
        member.id,
        before=audit.snapshot(member, MEMBER_FIELDS),
        family_id=member.family_id,
        summary=member.name,
    )
    member.family.members.remove(member)
    db.session.flush()


def reveal_id_number(actor, member: Member) -> str:
    """The full ID number; every reveal is written to the audit log."""
    audit.record(actor, "reveal_id", "member", member.id, family_id=member.family_id, summary=member.name)
    return crypto.decrypt(member.id_cipher)


def find_member_by_id_number(id_number: str) -> Member | None:
    """The current member with this ID number, through the blind index (no decryption, no scan)."""
    try:
        parsed = idnumber.parse(id_number)
    except idnumber.InvalidIdNumber:
        return None
    return db.session.scalar(
        select(Member).where(Member.id_index == crypto.blind_index(parsed.value), Member.is_current.is_(True))
    )


def record_income(actor, family: Family, month: str, amount_fen, medical_fen=0, education_fen=0) -> tuple[Income, bool]:
    """Record a month's household income and expenses; a month already recorded is corrected. Returns (row, created)."""
    errors: dict[str, str] = {}
    if not isinstance(month, str) or not MONTH.match(month):
        errors["month"] = str(_l("Enter a month as YYYY-MM."))
    elif month > local_today().strftime("%Y-%m"):
        errors["month"] = str(_l("Income cannot be recorded for a future month."))
    if amount_fen is None or amount_fen == "":
        errors["amount_fen"] = str(_l("This field is required."))
    amount = _fen(errors, "amount_fen", amount_fen)
    medical = _fen(errors, "medical_fen", medical_fen)
    education = _fen(errors, "education_fen", education_fen)
    if errors:
        raise ValidationFailed(str(_l("Please correct the marked fields.")), errors)
    row = db.session.scalar(select(Income).where(Income.family_id == family.id, Income.month == month))
    created = row is None
    before = None if created else audit.snapshot(row, ("month", "amount_fen", "medical_fen", "education_fen"))
    if created:
        row = Income(family_id=family.id, month=month, amount_fen=amount, medical_fen=medical, education_fen=education)
        db.session.add(row)
    else:
        row.amount_fen, row.medical_fen, row.education_fen = amount, medical, education
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict(str(_l("This month was just recorded by someone else; reload and check."))) from None
    after = audit.snapshot(row, ("month", "amount_fen", "medical_fen", "education_fen"))
    audit.record(
        actor,
        "create" if created else "update",
        "income",
        row.id,
        before=before,
        after=after,
        family_id=family.id,
        summary=month,
    )
    return row, created


def record_consent(actor, family: Family, consent_on: date, scope: str) -> Family:
    """Record the family's consent to data processing (date and scope)."""
    if consent_on is None:
        raise ValidationFailed(
            str(_l("Please correct the marked fields.")), {"consent_on": str(_l("This field is required."))}
        )
    return update_family(actor, family, {"consent_on": consent_on, "consent_scope": scope or ""})


def close_family(actor, family: Family, reason: str) -> Family:
    """Close a file (moved away, deceased...): its members may then be filed again elsewhere."""
    reason = (reason or "").strip()
    if not reason or len(reason) > 200:
        raise ValidationFailed(
            str(_l("Give a reason (at most 200 characters).")),
            {"reason": str(_l("Give a reason (at most 200 characters)."))},
        )
    if family.status == FamilyStatus.CLOSED:
        raise Conflict(str(_l("This file is already closed.")))
    before = {"status": family.status.value}
    family.status = FamilyStatus.CLOSED
    for m in family.members:
        m.is_current = False
    db.session.flush()
    audit.record(
        actor,
        "close",
        "family",
        family.id,
        before=before,
        after={"status": "closed", "reason": reason},
        family_id=family.id,
    )
    return family


#: what the family list shows of each family (the page reads these columns, not whole families)
LIST_COLUMNS = (
    Family.id,
    Family.head_name,
    Family.area_id,
    Family.hardship_category,
    Family.colour,
    Family.score,
    Family.next_review_on,
)

SORTS = {
    "review": (Family.next_review_on.asc(), Family.id.asc()),
    "score": (Family.score.desc(), Family.id.asc()),
    "name": (Family.head_name.asc(), Family.id.asc()),
    "newest": (Family.id.desc(),),
}


def _prefix(column, text_: str):
    """``column`` starts with ``text_``, in a form each database answers from a b-tree index."""
    if db.engine.dialect.name == "postgresql":
        escaped = text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return column.like(escaped + "%", escape="\\")
    return (column >= text_) & (column < text_ + "\U0010ffff")


def family_query(
    user,
    *,
    colour: str | None = None,
    area_code: str | None = None,
    category: str | None = None,
    status: str | None = FamilyStatus.ACTIVE.value,
    overdue: bool = False,
    exit_candidates: bool = False,
    q: str | None = None,
    sort: str = "review",
    today: date | None = None,
    area_paths: dict[str, str] | None = None,
):
    """The SELECT behind the family list (pages and API): scoped to the user, filtered and sorted.

    ``area_paths``: code → path of the user's areas, when the caller has them loaded already (the page lists them for
    its filter), so that filtering by area costs no look-up; a code outside them finds nothing, as it would anyway."""
    from sqlalchemy import or_, union

    from assist.permissions import scope_filter

    stmt = select(Family).where(scope_filter(Family.area_id, user))
    if status:
        stmt = stmt.where(Family.status == status)
    if colour:
        stmt = stmt.where(Family.colour == colour)
    if category:
        stmt = stmt.where(Family.hardship_category == category)
    if area_code:
        if area_paths is None:
            path = db.session.scalar(select(Area.path).where(Area.code == area_code))
        else:
            path = area_paths.get(area_code)
        if path is None:
            return stmt.where(False)
        subtree = select(Area.id).where(Area.path.startswith(path))
        stmt = stmt.where(Family.area_id.in_(subtree))
    if overdue:
        stmt = stmt.where(Family.next_review_on < (today or local_today()))
    if exit_candidates:
        stmt = stmt.where(Family.exit_flagged_on.is_not(None))
    q = (q or "").strip()
    if q:
        member = find_member_by_id_number(q) if len(q) == 18 else None
        if member is not None:
            stmt = stmt.where(Family.id == member.family_id)
        elif q.isdigit():
            stmt = stmt.where(or_(Family.phone == q, Family.id == (int(q) if len(q) < 10 else 0)))
        else:
            # one id list from both name indexes: an OR of the two lets SQLite's planner scan every family instead
            by_name = union(
                select(Family.id).where(_prefix(Family.head_name, q)),
                select(Member.family_id).where(_prefix(Member.name, q)),
            )
            stmt = stmt.where(Family.id.in_(by_name))
    return stmt.order_by(*SORTS.get(sort, SORTS["review"]))
