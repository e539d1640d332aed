"""Assessments, colour history, review cadence, exit (脱困) and return to hardship (返困)."""

from collections import defaultdict
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select, update

from assist import audit
from assist.assessments import scoring
from assist.assessments.models import Assessment, ColourChange
from assist.db_types import utcnow
from assist.enums import ArchiveType, AssessmentKind, FamilyStatus, Schooling
from assist.errors import Conflict, ValidationFailed
from assist.extensions import db
from assist.families.models import Family, Income, Member
from assist.settings.operations import get_settings

IN_SCHOOL = {
    Schooling.PRESCHOOL,
    Schooling.PRIMARY,
    Schooling.JUNIOR,
    Schooling.SENIOR,
    Schooling.VOCATIONAL,
    Schooling.COLLEGE,
}


def months_back(today: date, n: int) -> list[str]:
    """The ``n`` whole months before ``today``'s month, newest first, as YYYY-MM."""
    y, m = today.year, today.month
    out = []
    for _ in range(n):
        m -= 1
        if m == 0:
            y, m = y - 1, 12
        out.append(f"{y:04d}-{m:02d}")
    return out


def _age(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _months_between(earlier: date, later: date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month - (later.day < earlier.day)


def build_facts(family_row, members, incomes, today: date) -> scoring.FamilyFacts:
    """Facts for scoring from a family, its members and its income rows (month, amount, medical, education).

    Per-capita income uses the average of the latest three recorded months in the last year; burdens use the
    sums of the recorded months of the last year.
    """
    year = set(months_back(today, 12)) | {today.strftime("%Y-%m")}
    recent = sorted((r for r in incomes if r[0] in year), key=lambda r: r[0], reverse=True)
    latest = recent[:3]
    monthly = sum(r[1] for r in latest) // len(latest) if latest else None
    accident_on = family_row.accident_on
    return scoring.FamilyFacts(
        members=tuple(
            scoring.MemberFacts(
                age=_age(m.birth_date, today),
                health=m.health,
                disability_grade=m.disability_grade,
                work_ability=m.work_ability,
                in_school=m.schooling in IN_SCHOOL,
            )
            for m in members
        ),
        monthly_income_fen=monthly,
        income_12m_fen=sum(r[1] for r in recent),
        medical_12m_fen=sum(r[2] for r in recent),
        education_12m_fen=sum(r[3] for r in recent),
        accident_months_ago=_months_between(accident_on, today) if accident_on else None,
        single_parent=family_row.single_parent,
        debt_fen=family_row.debt_fen,
        housing=family_row.housing,
    )


def facts_for(family: Family, today: date) -> scoring.FamilyFacts:
    incomes = [(i.month, i.amount_fen, i.medical_fen, i.education_fen) for i in family.incomes]
    return build_facts(family, family.members, incomes, today)


def _reason(result: scoring.Result) -> str:
    if result.hard_trigger:
        return f"hard_trigger:{result.hard_trigger}"
    return f"score:{result.score}"


def next_review(colour, today: date, settings=None) -> date:
    settings = settings or get_settings()
    return today + timedelta(days=int(settings["review_days"][colour.value]))


def assess_family(
    actor,
    family: Family,
    kind: AssessmentKind | str = AssessmentKind.ON_DEMAND,
    note: str = "",
    today: date | None = None,
) -> Assessment:
    """Score the family now, store the assessment with its explanation, and move its colour (with history)."""
    try:
        kind = AssessmentKind(kind)
    except ValueError:
        raise ValidationFailed(
            str(_l("Choose the kind of assessment.")), {"kind": str(_l("Choose one of the listed values."))}
        ) from None
    if not isinstance(note, str) or len(note) > 500:
        raise ValidationFailed(
            str(_l("Please correct the marked fields.")), {"note": str(_l("At most %(n)s characters.", n=500))}
        )
    if family.status == FamilyStatus.CLOSED:
        raise Conflict(str(_l("A closed file is not assessed.")))
    today = today or date.today()
    settings = get_settings()
    rules = scoring.Rules.from_settings(settings)
    result = scoring.assess(facts_for(family, today), rules)
    assessment = Assessment(
        family_id=family.id,
        kind=kind,
        score=result.score,
        colour=result.colour,
        primary_type=result.primary_type,
        types=[t.value for t in result.types],
        factors=[f.as_dict() for f in result.factors],
        hard_trigger=result.hard_trigger,
        inputs={
            "per_capita_fen": result.per_capita_fen,
            "members": len(family.members),
            "line_fen": rules.line_fen,
            "weights": dict(rules.weights),
            "red_threshold": rules.red_threshold,
            "yellow_threshold": rules.yellow_threshold,
            "as_of": today.isoformat(),
        },
        note=note.strip(),
        assessed_by_id=getattr(actor, "id", None),
    )
    db.session.add(assessment)
    db.session.flush()
    before = audit.snapshot(family, ("colour", "score", "primary_type", "next_review_on"))
    if family.colour != result.colour:
        db.session.add(
            ColourChange(
                family_id=family.id,
                from_colour=family.colour,
                to_colour=result.colour,
                reason=_reason(result),
                assessment_id=assessment.id,
                by_id=getattr(actor, "id", None),
            )
        )
    family.colour = result.colour
    family.score = result.score
    family.primary_type = result.primary_type
    family.last_assessed_at = assessment.assessed_at
    family.next_review_on = next_review(result.colour, today, settings)
    db.session.flush()
    audit.record(
        actor,
        "assess",
        "family",
        family.id,
        before=before,
        after=audit.snapshot(family, ("colour", "score", "primary_type", "next_review_on")),
        family_id=family.id,
        summary=f"assessment {assessment.id}",
    )
    return assessment


def reassess_all(today: date | None = None, batch: int = 5000, actor=None, at=None) -> int:
    """Reassess every active family in set-based batches (the periodic review); returns the number assessed.

    Loads facts with three queries per batch, computes in Python, and writes with executemany inserts and updates,
    so 100,000 families take seconds, not an ORM object per row.
    """
    today = today or date.today()
    settings = get_settings()
    rules = scoring.Rules.from_settings(settings)
    first_month = months_back(today, 12)[-1]
    now = at or utcnow()
    actor_id = getattr(actor, "id", None)
    done = 0
    last_id = 0
    fam_cols = (
        Family.id,
        Family.colour,
        Family.accident_on,
        Family.single_parent,
        Family.debt_fen,
        Family.housing,
    )
    while True:
        families = db.session.execute(
            select(*fam_cols)
            .where(Family.id > last_id, Family.status == FamilyStatus.ACTIVE)
            .order_by(Family.id)
            .limit(batch)
        ).all()
        if not families:
            break
        lo, hi = families[0].id, families[-1].id
        members = defaultdict(list)
        for m in db.session.execute(
            select(
                Member.family_id,
                Member.birth_date,
                Member.health,
                Member.disability_grade,
                Member.work_ability,
                Member.schooling,
            ).where(Member.family_id.between(lo, hi))
        ):
            members[m.family_id].append(m)
        incomes = defaultdict(list)
        for r in db.session.execute(
            select(Income.family_id, Income.month, Income.amount_fen, Income.medical_fen, Income.education_fen).where(
                Income.family_id.between(lo, hi), Income.month >= first_month
            )
        ):
            incomes[r.family_id].append((r.month, r.amount_fen, r.medical_fen, r.education_fen))
        assessment_rows, family_rows, changes = [], [], []
        for f in families:
            result = scoring.assess(build_facts(f, members[f.id], incomes[f.id], today), rules)
            assessment_rows.append(
                {
                    "family_id": f.id,
                    "kind": AssessmentKind.REVIEW.value,
                    "score": result.score,
                    "colour": result.colour.value,
                    "primary_type": result.primary_type.value,
                    "types": [t.value for t in result.types],
                    "factors": [x.as_dict() for x in result.factors],
                    "hard_trigger": result.hard_trigger,
                    "inputs": {
                        "per_capita_fen": result.per_capita_fen,
                        "line_fen": rules.line_fen,
                        "as_of": today.isoformat(),
                    },
                    "note": "",
                    "assessed_at": now,
                    "assessed_by_id": actor_id,
                }
            )
            family_rows.append(
                {
                    "fid": f.id,
                    "colour": result.colour.value,
                    "score": result.score,
                    "primary_type": result.primary_type.value,
                    "last_assessed_at": now,
                    "next_review_on": next_review(result.colour, today, settings),
                }
            )
            if f.colour != result.colour:
                changes.append(
                    {
                        "family_id": f.id,
                        "from_colour": f.colour.value if f.colour else None,
                        "to_colour": result.colour.value,
                        "reason": _reason(result),
                        "at": now,
                        "by_id": actor_id,
                    }
                )
        # render_nulls: a None left out of some rows splits the batch into thousands of small executemany calls
        db.session.execute(insert(Assessment).execution_options(render_nulls=True), assessment_rows)
        if changes:
            db.session.execute(insert(ColourChange).execution_options(render_nulls=True), changes)
        db.session.execute(
            update(Family.__table__)
            .where(Family.__table__.c.id == db.bindparam("fid"))
            .values(
                colour=db.bindparam("colour"),
                score=db.bindparam("score"),
                primary_type=db.bindparam("primary_type"),
                last_assessed_at=db.bindparam("last_assessed_at"),
                next_review_on=db.bindparam("next_review_on"),
            ),
            family_rows,
        )
        done += len(families)
        last_id = hi
    if done:
        audit.record(actor, "reassess_all", "family", "", after={"families": done}, summary=f"{done} families")
    return done


def colour_history(family: Family) -> list[ColourChange]:
    return list(
        db.session.scalars(
            select(ColourChange)
            .where(ColourChange.family_id == family.id)
            .order_by(ColourChange.at.desc(), ColourChange.id.desc())
        )
    )


def flag_exit_candidates(today: date | None = None) -> int:
    """Flag active families whose per-capita income was above the line in each of the last N months; returns how many."""
    today = today or date.today()
    settings = get_settings()
    n = int(settings["exit_months"])
    line = int(settings["min_living_line_fen"])
    months = months_back(today, n)
    sizes = select(Member.family_id, func.count(Member.id).label("size")).group_by(Member.family_id).subquery()
    qualifying = (
        select(Income.family_id)
        .join(sizes, sizes.c.family_id == Income.family_id)
        .where(Income.month.in_(months), Income.amount_fen > line * sizes.c.size)
        .group_by(Income.family_id)
        .having(func.count(Income.id) == n)
    )
    result = db.session.execute(
        update(Family)
        .where(Family.status == FamilyStatus.ACTIVE, Family.exit_flagged_on.is_(None), Family.id.in_(qualifying))
        .values(exit_flagged_on=today)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def confirm_exit(actor, family: Family, on: date | None = None) -> Family:
    """A caseworker confirms the family is out of hardship (脱困)."""
    if family.status != FamilyStatus.ACTIVE:
        raise Conflict(str(_l("Only an active file can exit.")))
    if family.exit_flagged_on is None:
        raise Conflict(str(_l("This family has not been above the line long enough to exit.")))
    on = on or date.today()
    family.status = FamilyStatus.EXITED
    family.exited_on = on
    db.session.flush()
    audit.record(
        actor,
        "exit",
        "family",
        family.id,
        before={"status": "active"},
        after={"status": "exited", "exited_on": on},
        family_id=family.id,
    )
    return family


def return_to_hardship(actor, family: Family, reason: str, today: date | None = None) -> Assessment:
    """Bring an exited family back (返困): active again, archive type 返困, and assessed at once."""
    reason = (reason or "").strip()
    if not reason or len(reason) > 200:
        raise ValidationFailed(
            str(_l("Give a reason (at most 200 characters).")),
            {"reason": str(_l("Give a reason (at most 200 characters)."))},
        )
    if family.status != FamilyStatus.EXITED:
        raise Conflict(str(_l("Only a family that exited can return to hardship.")))
    before = audit.snapshot(family, ("status", "archive_type", "exited_on"))
    family.status = FamilyStatus.ACTIVE
    family.archive_type = ArchiveType.RETURNED
    family.exit_flagged_on = None
    family.exited_on = None
    db.session.flush()
    audit.record(
        actor,
        "return",
        "family",
        family.id,
        before=before,
        after={**audit.snapshot(family, ("status", "archive_type", "exited_on")), "reason": reason},
        family_id=family.id,
    )
    return assess_family(actor, family, AssessmentKind.REVIEW, note=reason, today=today)
