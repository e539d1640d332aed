"""Assessments, colour history, review cadence, exit (脱困) and return to hardship (返困)."""

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from datetime import date, timedelta
from typing import NamedTuple

import orjson
from flask_babel import lazy_gettext as _l
from sqlalchemy import Column, Date, Integer, MetaData, String, Table, Text, cast, func, select, text, update

from assist import audit, checks
from assist.assessments import scoring
from assist.assessments.models import Assessment, ColourChange
from assist.bulk import insert_rows
from assist.db_types import UTCDateTime, local_today, utcnow
from assist.enums import ArchiveType, AssessmentKind, Colour, FamilyStatus, ProfileType, Schooling
from assist.errors import Conflict, ValidationFailed
from assist.extensions import db
from assist.families.models import Family, Income, Member
from assist.processes import cores
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


class IncomeSummary(NamedTuple):
    """A family's recorded income over the last year, as the scoring needs it."""

    latest_sum: int  #: the latest (up to) three recorded months
    latest_months: int
    amount: int  #: sums over the recorded months of the last year
    medical: int
    education: int


NO_INCOME = IncomeSummary(0, 0, 0, 0, 0)


def summarise_incomes(rows, today: date) -> IncomeSummary:
    """The summary of income rows (month, amount, medical, education) as of ``today`` (the same figures the batch
    reassessment computes in SQL)."""
    first = months_back(today, 12)[-1]
    recent = sorted((r for r in rows if r[0] >= first), key=lambda r: r[0], reverse=True)
    latest = recent[:3]
    return IncomeSummary(
        sum(r[1] for r in latest),
        len(latest),
        sum(r[1] for r in recent),
        sum(r[2] for r in recent),
        sum(r[3] for r in recent),
    )


def build_facts(family_row, members, incomes: IncomeSummary, today: date) -> scoring.FamilyFacts:
    """Facts for scoring from a family, its members (birth year, health, disability grade, work ability, schooling)
    and its income summary.

    Per-capita income uses the average of the latest three recorded months in the last year; burdens use the
    sums of the recorded months of the last year.
    """
    accident_on = family_row.accident_on
    member_facts = scoring.MemberFacts
    year = today.year
    return scoring.FamilyFacts(
        members=tuple(
            [
                # positional, and the age inline: this runs for every member of every family in a batch review
                member_facts(
                    year - born,  # the age reached this year: only the birth year is kept in clear
                    health,
                    grade,
                    ability,
                    schooling in IN_SCHOOL,
                )
                for born, health, grade, ability, schooling in members
            ]
        ),
        monthly_income_fen=incomes.latest_sum // incomes.latest_months if incomes.latest_months else None,
        income_12m_fen=incomes.amount,
        medical_12m_fen=incomes.medical,
        education_12m_fen=incomes.education,
        accident_months_ago=_months_between(accident_on, today) if accident_on else None,
        single_parent=family_row.single_parent,
        debt_fen=family_row.debt_fen,
        housing=family_row.housing,
    )


def facts_for(family: Family, today: date) -> scoring.FamilyFacts:
    rows = [(i.month, i.amount_fen, i.medical_fen, i.education_fen) for i in family.incomes]
    members = [(m.birth_year, m.health, m.disability_grade, m.work_ability, m.schooling) for m in family.members]
    return build_facts(family, members, summarise_incomes(rows, today), today)


def _reason(result: scoring.Result) -> str:
    if result.hard_trigger:
        return f"hard_trigger:{result.hard_trigger}"
    return f"score:{result.score}"


def next_review(colour, today: date, settings=None) -> date:
    settings = settings or get_settings()
    return today + timedelta(days=int(settings["review_days"][colour.value]))


def refresh_colour_ranks(family_ids=None) -> None:
    from assist.posts.operations import refresh_colour_ranks as refresh

    refresh(family_ids)


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
    today = today or local_today()
    settings = get_settings()
    rules = scoring.Rules.from_settings(settings)
    result = scoring.assess(facts_for(family, today), rules)
    review_on = next_review(result.colour, today, settings)
    db.session.flush()  # the family and what it was scored from, before the rows that point at it
    connection = db.session.connection()
    now = utcnow()
    stored = stored_assessment(
        FamilyRow.of(family),
        len(family.members),
        result,
        rules,
        today,
        review_on,
        assessment_id=_assessment_ids(connection)(1)[0],
        kind=kind.value,
        note=note.strip(),
        at=now,
        actor=Actor.of(actor),
    )
    _store(connection, [stored.assessment], [stored.change] if stored.change else [], [stored.entry])
    family.colour = result.colour
    family.score = result.score
    family.primary_type = result.primary_type
    family.last_assessed_at = now
    family.next_review_on = review_on
    db.session.flush()
    refresh_colour_ranks([family.id])
    return db.session.get_one(Assessment, stored.assessment["id"])


class Actor(NamedTuple):
    """Who assesses, as the stored rows name them (plain values: it travels to the scoring process)."""

    id: int | None
    username: str | None
    #: where the request came from ("" outside one)
    address: str

    @classmethod
    def of(cls, actor) -> "Actor":
        return cls(getattr(actor, "id", None), getattr(actor, "username", None), audit.request_address())


class StoredAssessment(NamedTuple):
    """The rows an assessment stores, in their stored form (JSON as text, enums as their values)."""

    assessment: dict
    #: the colour change, when the colour moves
    change: dict | None
    #: its audit entry
    entry: dict


def stored_assessment(
    family: "FamilyRow",
    members: int,
    result: scoring.Result,
    rules: scoring.Rules,
    today: date,
    review_on: date,
    *,
    assessment_id: int,
    kind: str,
    note: str,
    at,
    actor: Actor,
) -> StoredAssessment:
    """What an assessment of ``family`` (as it was before) stores: the assessment with its explanation (the
    figures, weights and thresholds it was scored with), the colour change pointing at it, and its audit entry.

    One function for one assessment and the batch review alike, so both store the same rows.
    """
    colour = result.colour.value
    primary_type = result.primary_type.value
    assessment = {
        "id": assessment_id,
        "family_id": family.id,
        "kind": kind,
        "score": result.score,
        "colour": colour,
        "primary_type": primary_type,
        "types": _json([t.value for t in result.types]),
        # Factor.as_dict, inlined: a million calls per 100,000 families
        "factors": _json([{"name": n, "points": p, "detail": d} for n, p, d in result.factors]),
        "hard_trigger": result.hard_trigger,
        "inputs": _json(
            {
                "per_capita_fen": result.per_capita_fen,
                "members": members,
                "line_fen": rules.line_fen,
                "weights": dict(rules.weights),
                "red_threshold": rules.red_threshold,
                "yellow_threshold": rules.yellow_threshold,
                "as_of": today,
            }
        ),
        "note": note,
        "assessed_at": at,
        "assessed_by_id": actor.id,
    }
    change = None
    if family.colour != result.colour:
        change = {
            "family_id": family.id,
            "from_colour": family.colour.value if family.colour else None,
            "to_colour": colour,
            "reason": _reason(result),
            "assessment_id": assessment_id,
            "at": at,
            "by_id": actor.id,
        }
    entry = audit.entry(
        actor,
        "assess",
        "family",
        family.id,
        before={
            "colour": family.colour,
            "score": family.score,
            "primary_type": family.primary_type,
            "next_review_on": family.next_review_on,
        },
        after={"colour": colour, "score": result.score, "primary_type": primary_type, "next_review_on": review_on},
        family_id=family.id,
        summary=f"assessment {assessment_id}",
        at=at,
        address=actor.address,
        encoded=True,
    )
    return StoredAssessment(assessment, change, entry)


def _assessment_ids(connection):
    """``take(n)`` → ``n`` new assessment ids, known before the rows are inserted (the colour change and the audit
    entry name theirs): from the table's sequence on PostgreSQL; on SQLite after the highest id, counted here, as
    SQLite itself would give them (the transaction holds the write lock from its start: no one else inserts)."""
    if connection.dialect.name == "postgresql":
        sql = text("SELECT nextval(pg_get_serial_sequence('assessments', 'id')) FROM generate_series(1, :n)")

        def take(n: int) -> list[int]:
            return list(connection.scalars(sql, {"n": n})) if n else []

        return take
    last = connection.scalar(select(func.coalesce(func.max(Assessment.id), 0)))

    def take_next(n: int) -> list[int]:
        nonlocal last
        first, last = last + 1, last + n
        return list(range(first, last + 1))

    return take_next


def _store(connection, assessments: list[dict], changes: list[dict], entries: list[dict]) -> None:
    """Insert what assessments store (their rows from :func:`stored_assessment`), COPY on PostgreSQL."""
    insert_rows(connection, _assessment_rows, assessments)
    insert_rows(connection, ColourChange.__table__, changes)
    insert_rows(connection, _audit_rows, entries)


def _income_summaries(lo: int, hi: int, today: date) -> dict[int, IncomeSummary]:
    """Income summaries of families ``lo``..``hi`` as of ``today``, as :func:`summarise_incomes` gives them.

    The year's sums are one plain aggregate. The latest three recorded months come from the rows of the last three
    months (and the current one) — where a family has fewer than three there, from its rows of the year, fetched for
    those families only. No window function: SQLite takes ten times longer over one.
    """
    connection = db.session.connection()
    first_month = months_back(today, 12)[-1]
    recent_first = months_back(today, 3)[-1]
    in_batch = Income.family_id.between(lo, hi)
    year = {
        r[0]: r[1:]
        for r in connection.execute(
            select(
                Income.family_id,
                func.sum(Income.amount_fen),
                func.sum(Income.medical_fen),
                func.sum(Income.education_fen),
                func.count(Income.id),
            )
            .where(in_batch, Income.month >= first_month)
            .group_by(Income.family_id)
        ).all()
    }
    # newest month first within each family (a backward scan of the (family_id, month) index: no sort)
    newest_first = (Income.family_id.desc(), Income.month.desc())
    latest: dict[int, list[int]] = {}

    def take(rows) -> None:
        for family_id, amount in rows:
            got = latest.get(family_id)
            if got is None:
                latest[family_id] = [amount]
            elif len(got) < 3:
                got.append(amount)

    take(
        connection.execute(
            select(Income.family_id, Income.amount_fen)
            .where(in_batch, Income.month >= recent_first)
            .order_by(*newest_first)
        ).all()
    )
    sparse = [f for f, (*_sums, n) in year.items() if len(latest.get(f, ())) < min(3, n)]
    if sparse:
        for family_id in sparse:
            latest.pop(family_id, None)
        take(
            connection.execute(
                select(Income.family_id, Income.amount_fen)
                .where(Income.family_id.in_(sparse), Income.month >= first_month)
                .order_by(*newest_first)
            ).all()
        )
    out = {}
    for family_id, (amount, medical, education, _n) in year.items():
        amounts = latest.get(family_id, ())
        out[family_id] = IncomeSummary(sum(amounts), len(amounts), int(amount), int(medical), int(education))
    return out


#: the batch's results, joined into one UPDATE ... FROM per batch (executemany of single-row updates is slow on
#: PostgreSQL: every row touches every index of families)
_results = Table(
    "reassessment_results",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("colour", String(24)),
    Column("score", Integer),
    Column("primary_type", String(24)),
    Column("next_review_on", Date),
    prefixes=["TEMPORARY"],
)


#: the assessments table as the batch writes it: JSON already encoded and enums as their values, so a 100,000-row
#: insert spends no time in per-value type processing (the ORM model reads the same rows back as JSON and enums)
_assessment_rows = Table(
    "assessments",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("family_id", Integer),
    Column("kind", String(24)),
    Column("score", Integer),
    Column("colour", String(24)),
    Column("primary_type", String(24)),
    Column("types", Text),
    Column("factors", Text),
    Column("hard_trigger", String(40)),
    Column("inputs", Text),
    Column("note", String(500)),
    Column("assessed_at", UTCDateTime),
    Column("assessed_by_id", Integer),
)


#: the audit log as assessments write it: before and after already encoded
_audit_rows = Table(
    "audit_log",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime),
    Column("actor_id", Integer),
    Column("actor_name", String(60)),
    Column("action", String(40)),
    Column("entity_type", String(40)),
    Column("entity_id", String(40)),
    Column("family_id", Integer),
    Column("summary", String(255)),
    Column("before", Text),
    Column("after", Text),
    Column("address", String(64)),
)


def _json(value) -> str:
    """JSON text as the JSON columns store it (orjson: a tenth of the time of the standard library's encoder)."""
    return orjson.dumps(value).decode()


#: the member columns scoring reads; enums come back as plain strings (equal to the StrEnum members), which spares
#: an enum conversion per value on 300,000 rows
_MEMBER_FACTS = select(
    Member.family_id,
    Member.birth_year,
    cast(Member.health, String).label("health"),
    Member.disability_grade,
    cast(Member.work_ability, String).label("work_ability"),
    cast(Member.schooling, String).label("schooling"),
)


def _score_batch(families, members, incomes, ids, today: date, rules, review_on, now, actor: Actor):
    """Score a batch: what its assessments store (assessments, colour changes, audit entries), and the families' new
    colour/score rows."""
    review_kind = AssessmentKind.REVIEW.value
    assessment_rows, result_rows, changes, entries = [], [], [], []
    for f, assessment_id in zip(families, ids, strict=True):
        family_members = members.get(f.id, ())
        result = scoring.assess(build_facts(f, family_members, incomes.get(f.id, NO_INCOME), today), rules)
        stored = stored_assessment(
            f,
            len(family_members),
            result,
            rules,
            today,
            review_on[result.colour],
            assessment_id=assessment_id,
            kind=review_kind,
            note="",
            at=now,
            actor=actor,
        )
        assessment_rows.append(stored.assessment)
        entries.append(stored.entry)
        if stored.change is not None:
            changes.append(stored.change)
        result_rows.append(
            {
                "id": f.id,
                "colour": result.colour.value,
                "score": result.score,
                "primary_type": result.primary_type.value,
                "next_review_on": review_on[result.colour],
            }
        )
    return assessment_rows, result_rows, changes, entries


#: at least this many active families are scored in a process of their own (when the machine has a second core)
SCORING_PROCESS_MIN = 20_000


def reassess_all(
    today: date | None = None, batch: int = 4000, actor=None, at=None, processes: bool | None = None
) -> int:
    """Reassess every active family in set-based batches (the periodic review); returns the number assessed.

    Per batch: three reads (families, members, income sums aggregated in SQL), scoring in Python, multi-row inserts
    of what each assessment stores (the rows :func:`stored_assessment` gives one assessment alike: assessments,
    colour changes, audit entries), one multi-row insert into a temporary table and one UPDATE ... FROM it. No ORM
    object per row. Many families (``processes``: None decides by SCORING_PROCESS_MIN) are scored in a process of
    their own, a batch at a time, while this one writes the batch before and reads the batch after.
    """
    today = today or local_today()
    settings = get_settings()
    rules = scoring.Rules.from_settings(settings)
    review_on = {c: next_review(c, today, settings) for c in Colour}
    now = at or utcnow()
    as_actor = Actor.of(actor)
    connection = db.session.connection()
    if processes is None:
        processes = (
            cores() > 1
            and connection.scalar(select(func.count()).where(Family.status == FamilyStatus.ACTIVE))
            >= SCORING_PROCESS_MIN
        )
    _results.create(connection, checkfirst=True)
    new_ids = _assessment_ids(connection)
    done = 0
    with _scorer(processes) as score:
        scoring_ = None  # the batch being scored while the next is read
        for families, members, incomes in _batches(connection, batch, today):
            ids = new_ids(len(families))
            next_ = score(_score_batch, families, members, incomes, ids, today, rules, review_on, now, as_actor)
            if scoring_ is not None:
                done += _write_batch(connection, *scoring_.result(), now)
            scoring_ = next_
        if scoring_ is not None:
            done += _write_batch(connection, *scoring_.result(), now)
    _results.drop(connection)
    # posts still on the market rank by their family's new colour
    refresh_colour_ranks()
    if done:
        audit.record(actor, "reassess_all", "family", "", after={"families": done}, summary=f"{done} families")
    return done


@contextmanager
def _scorer(processes: bool):
    """``score(fn, *args)`` → a future of ``fn(*args)``: run in a process of its own (a fresh interpreter: nothing
    of this one's threads, connections or locks), or at once in this one."""
    if not processes:

        def at_once(fn, *args) -> Future:
            future: Future = Future()
            future.set_result(fn(*args))
            return future

        yield at_once
        return
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool.submit


def _write_batch(
    connection, assessment_rows: list[dict], result_rows: list[dict], changes: list[dict], entries: list[dict], now
) -> int:
    """Set-based writes of a scored batch (COPY on PostgreSQL), no ORM bookkeeping; returns how many it assessed."""
    if not result_rows:
        return 0  # nothing scored: no assessment, change, entry or result row either
    _store(connection, assessment_rows, changes, entries)
    connection.execute(_results.delete())
    insert_rows(connection, _results, result_rows)
    connection.execute(
        update(Family)
        # the batch's id range too: PostgreSQL then reads its families by the primary key instead of hashing a scan
        # of them all for every batch (the temporary table has no statistics)
        .where(Family.id == _results.c.id, Family.id.between(result_rows[0]["id"], result_rows[-1]["id"]))
        .values(
            colour=_results.c.colour,
            score=_results.c.score,
            primary_type=_results.c.primary_type,
            last_assessed_at=now,
            next_review_on=_results.c.next_review_on,
        )
    )
    return len(result_rows)


class FamilyRow(NamedTuple):
    """What the batch review reads of a family (a plain tuple: it travels to the scoring process)."""

    id: int
    colour: Colour | None
    accident_on: date | None
    single_parent: bool
    debt_fen: int
    housing: str
    #: the rest of what the assessment's audit entry shows as before
    score: int | None
    primary_type: ProfileType | None
    next_review_on: date | None

    @classmethod
    def of(cls, family: Family) -> "FamilyRow":
        return cls(*(getattr(family, name) for name in cls._fields))


def _batches(connection, batch: int, today: date):
    """The active families' scoring inputs (family rows, members, income summaries), ``batch`` families at a time in
    id order."""
    last_id = 0
    while True:
        # a primary-key range, filtered here: a status filter in SQL tempts the planner onto a status index;
        # reads through the connection (Core): the ORM's row loading costs more than the reads themselves here
        rows = connection.execute(
            select(
                Family.id,
                Family.status,
                Family.colour,
                Family.accident_on,
                Family.single_parent,
                Family.debt_fen,
                Family.housing,
                Family.score,
                Family.primary_type,
                Family.next_review_on,
            )
            .where(Family.id > last_id)
            .order_by(Family.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        lo, hi = rows[0].id, rows[-1].id
        last_id = hi
        families = [FamilyRow(f[0], *f[2:]) for f in rows if f.status == FamilyStatus.ACTIVE]
        if not families:
            continue
        members: dict[int, list] = {}
        for family_id, *facts in connection.execute(_MEMBER_FACTS.where(Member.family_id.between(lo, hi))).all():
            members.setdefault(family_id, []).append(facts)
        yield families, members, _income_summaries(lo, hi, today)


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
    today = today or local_today()
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
    on = on or local_today()
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
    reason = checks.required_reason(reason)
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
