"""Generating a month's stipends exactly once (每月帮扶待遇), and catching up missed months.

Exactly once by construction: a unique key on (agreement, month) and inserts that skip existing rows, so two runs at
once, or a run killed midway and run again, leave one record per agreement and month. The rows are computed from one
query of the month's agreements and one of their suspensions, and written set-based.

Late months (补发): when a month's batch is already approved, the agreements signed or entered since still get their
record of that month (the same unique key: one per agreement and month worked), paid in a later batch as a regular
payroll pays arrears in its next run — the first batch after the month that is still open (draft), or the batch of the
first month after it that has none yet (created as a draft). The current month's batch cannot be approved before the
month ends, so there always is one, and a batch never pays for work not yet done: it only ever holds finished months.
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, literal, select, text

from assist import audit
from assist.agreements.models import Agreement, Suspension
from assist.bulk import dialect_insert
from assist.db_types import local_today, utcnow
from assist.enums import AgreementStatus, BatchStatus, StipendKind, StipendStatus
from assist.errors import Conflict, ValidationFailed
from assist.extensions import db
from assist.families.models import Family
from assist.families.operations import MONTH
from assist.stipends.models import StipendBatch, StipendRecord

#: agreements that count: signed ones, whether in force now or ended since (drafts and cancelled ones never pay)
PAYING = (AgreementStatus.SIGNED, AgreementStatus.ACTIVE, AgreementStatus.ENDED)
CHUNK = 5000
#: the partial unique index's condition: one regular record per agreement and month
REGULAR = StipendRecord.kind == StipendKind.REGULAR
#: the same, as the literal SQL of the index (the conflict target must repeat it; a bound parameter would not match)
REGULAR_INDEX = text("kind = 'regular'")


def parse_month(month: str) -> tuple[date, date]:
    """First and last day of ``YYYY-MM`` (ValidationFailed otherwise)."""
    if not isinstance(month, str) or not MONTH.match(month):
        message = str(_l("Enter a month as YYYY-MM."))
        raise ValidationFailed(message, {"month": message})
    year, number = int(month[:4]), int(month[5:])
    return date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def prorate(monthly_fen: int, days: int, days_in_month: int) -> int:
    """monthly × days / days in month, rounded half up to the fen, in integers only."""
    return (2 * monthly_fen * days + days_in_month) // (2 * days_in_month)


def active_days(first: date, last: date, start_on: date, last_day: date, suspended: list[tuple[date, date]]) -> int:
    """Days of [first, last] within [start_on, last_day] and outside every suspension (which may overlap)."""
    low, high = max(first, start_on), min(last, last_day)
    if high < low:
        return 0
    days = (high - low).days + 1
    covered = 0
    cursor = low
    for s_start, s_end in sorted(suspended):
        s_start, s_end = max(s_start, cursor), min(s_end, high)
        if s_end >= s_start:
            covered += (s_end - s_start).days + 1
            cursor = s_end + timedelta(days=1)
    return days - covered


@dataclass
class Generated:
    month: str
    created: int
    existing: int
    frozen: bool = False
    #: the batch the records created now are paid in: the month's own, or a later one when it is frozen (补发)
    paid_in: str | None = None

    @property
    def supplementary(self) -> bool:
        return bool(self.created) and self.paid_in not in (None, self.month)


#: the columns generation writes, in the order of its row tuples
COLUMNS = (
    "agreement_id",
    "month",
    "paid_in",
    "kind",
    "sponsor_id",
    "area_id",
    "family_id",
    "colour",
    "days",
    "days_in_month",
    "monthly_amount_fen",
    "amount_fen",
    "status",
    "reference",
    "reason",
    "failure_reason",
    "attempts",
    "created_at",
)
_CONFLICT = "ON CONFLICT (agreement_id, month) WHERE kind = 'regular' DO NOTHING"


def _insert(rows: list[tuple]) -> int:
    """Insert the rows that do not exist yet; the number inserted (the database decides, not a prior read).

    PostgreSQL: COPY into a temporary table, then one INSERT … SELECT … ON CONFLICT DO NOTHING. SQLite: one
    executemany of INSERT … ON CONFLICT DO NOTHING. Either way the unique index settles races, and the row count
    is what this run inserted.
    """
    if not rows:
        return 0
    connection = db.session.connection()
    columns = ", ".join(COLUMNS)
    if connection.dialect.name == "postgresql":
        # the columns alone (no NOT NULL, no id sequence), gone at commit
        connection.exec_driver_sql(
            "CREATE TEMPORARY TABLE IF NOT EXISTS stipend_rows_in ON COMMIT DROP AS "
            f"SELECT {columns} FROM stipend_records WITH NO DATA"
        )
        connection.exec_driver_sql("TRUNCATE stipend_rows_in")
        cursor = connection.connection.driver_connection.cursor()
        with cursor, cursor.copy(f"COPY stipend_rows_in ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        result = connection.exec_driver_sql(
            f"INSERT INTO stipend_records ({columns}) SELECT {columns} FROM stipend_rows_in {_CONFLICT}",
            execution_options={"preserve_rowcount": True},
        )
        return result.rowcount
    placeholders = ", ".join("?" * len(COLUMNS))
    created = 0
    for start in range(0, len(rows), CHUNK):
        result = connection.exec_driver_sql(
            f"INSERT INTO stipend_records ({columns}) VALUES ({placeholders}) {_CONFLICT}", rows[start : start + CHUNK]
        )
        created += result.rowcount
    return created


def _insert_whole_month(month: str, paid_in: str, days_in_month: int, where) -> int:
    """Insert the full month's record of every agreement ``where`` selects (joined to its family for the colour)."""
    from assist.db_types import UTCDateTime

    rows = (
        select(
            Agreement.id,
            literal(month),
            literal(paid_in),
            literal(StipendKind.REGULAR.value),
            Agreement.sponsor_id,
            Agreement.area_id,
            Agreement.family_id,
            Family.__table__.c.colour,
            literal(days_in_month),
            literal(days_in_month),
            Agreement.monthly_amount_fen,
            Agreement.monthly_amount_fen,
            literal(StipendStatus.UNPAID.value),
            literal(""),
            literal(""),
            literal(""),
            literal(1),
            literal(utcnow(), UTCDateTime),
        )
        .join(Family, Family.id == Agreement.family_id)
        .where(where)
    )
    stmt = (
        dialect_insert(StipendRecord.__table__)
        .from_select(list(COLUMNS), rows)
        .on_conflict_do_nothing(index_elements=["month", "agreement_id"], index_where=REGULAR_INDEX)
    )
    # rowcount of an INSERT is kept only when asked for (SQLAlchemy 2.0)
    return db.session.connection().execute(stmt, execution_options={"preserve_rowcount": True}).rowcount


def _ensure_batch(month: str) -> StipendBatch:
    db.session.execute(
        dialect_insert(StipendBatch)
        .values(month=month, status=BatchStatus.DRAFT, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["month"])
    )
    # locked until the transaction ends (PostgreSQL; SQLite's insert above already holds the write lock), so an
    # approval cannot slip in between reading the batch's status and inserting into it; read afresh, not from the
    # session's identity map (an approval committed meanwhile counts)
    return db.session.scalar(
        select(StipendBatch)
        .where(StipendBatch.month == month)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def open_batch_after(month: str, today: date | None = None) -> StipendBatch:
    """The batch that pays money for ``month`` once ``month``'s own batch is frozen (a late record, an adjustment):
    the first month after it whose batch is still a draft or not created yet (then created, as a draft), locked
    until the transaction ends. The current month's batch cannot be approved before the month ends, so the walk
    ends there at the latest."""
    current = month_of(today or local_today())
    cursor = next_month(month)
    while True:
        batch = _ensure_batch(cursor)
        if not batch.frozen:
            return batch
        if cursor >= current:  # an approved batch of a month not yet ended: approval refuses that
            raise Conflict(str(_l("There is no open batch to pay this in.")))
        cursor = next_month(cursor)


def generate_month(month: str, actor=None, today: date | None = None) -> Generated:
    """One stipend record per agreement active in ``month`` (days active, amount prorated); existing ones kept.

    Only a finished month is generated (stipends are paid in arrears). A batch the admin approved is frozen: its
    records never change, and the months of agreements signed or entered since are paid as supplementary records
    (补发) in the next open batch (``open_batch_after``).
    """
    first, last = parse_month(month)
    today = today or local_today()
    if last >= today:
        message = str(_l("Stipends are generated for a month once it has ended."))
        raise ValidationFailed(message, {"month": message})
    batch = _ensure_batch(month)
    last_day = func.coalesce(Agreement.terminated_on, Agreement.end_on)
    overlapping = and_(
        Agreement.status.in_(PAYING),
        Agreement.signed_on.is_not(None),
        Agreement.start_on <= last,
        last_day >= first,
    )
    # only the agreements still without the month's record are read (a repeated run reads nothing); the probe is
    # answered by the partial unique index, whose condition it repeats literally
    recorded = (
        select(StipendRecord.id)
        .where(StipendRecord.agreement_id == Agreement.id, StipendRecord.month == month, REGULAR_INDEX)
        .exists()
    )
    suspended = (
        select(Suspension.id)
        .where(
            Suspension.agreement_id == Agreement.id,
            Suspension.start_on <= last,
            func.coalesce(Suspension.end_on, last) >= first,
        )
        .exists()
    )
    # a repeated run (every record there) stops here: one pass over the agreements against the month's record ids,
    # read once from the unique index (an agreement suspended all month, which never has a record, just goes on)
    done = select(StipendRecord.agreement_id).where(StipendRecord.month == month, REGULAR_INDEX)
    if db.session.scalar(select(Agreement.id).where(overlapping, Agreement.id.not_in(done)).limit(1)) is None:
        return Generated(month, 0, _count(month), frozen=batch.frozen)
    # a frozen month's late records go into the next open batch (locked, like this one, until the commit)
    paid_in = open_batch_after(month, today).month if batch.frozen else month
    whole_month = and_(Agreement.start_on <= first, last_day >= last, ~suspended)
    # the common case, in force all month: the full amount, written by the database in one INSERT … SELECT
    created = _insert_whole_month(month, paid_in, last.day, and_(overlapping, whole_month, ~recorded))
    # the rest (started or ended in the month, or suspended in it) prorated here
    agreements = db.session.execute(
        select(
            Agreement.id,
            Agreement.sponsor_id,
            Agreement.area_id,
            Agreement.family_id,
            Agreement.start_on,
            last_day.label("last_day"),
            Agreement.monthly_amount_fen,
            Family.colour,
        )
        .join(Family, Family.id == Agreement.family_id)
        .where(overlapping, ~whole_month, ~recorded)
        .order_by(Agreement.id)
    ).all()
    suspensions: dict[int, list[tuple[date, date]]] = {}
    for agreement_id, s_start, s_end in db.session.execute(
        select(Suspension.agreement_id, Suspension.start_on, Suspension.end_on)
        .join(Agreement, Agreement.id == Suspension.agreement_id)
        .where(overlapping, Suspension.start_on <= last, func.coalesce(Suspension.end_on, last) >= first)
    ):
        suspensions.setdefault(agreement_id, []).append((s_start, s_end or last))
    days_in_month = last.day
    # stored as UTCDateTime stores it: naive UTC (SQLite keeps its text form)
    now = utcnow().replace(tzinfo=None)
    if db.session.get_bind().dialect.name != "postgresql":
        now = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    unpaid, regular = StipendStatus.UNPAID.value, StipendKind.REGULAR.value
    rows = []
    for agreement_id, sponsor_id, area_id, family_id, start_on, end_on, monthly, colour in agreements:
        spans = suspensions.get(agreement_id)
        if spans is None and start_on <= first and end_on >= last:
            days = days_in_month  # the common case: in force all month
        else:
            days = active_days(first, last, start_on, end_on, spans or [])
            if days <= 0:
                continue  # suspended all month: nothing accrues, nothing to pay
        rows.append(
            (
                agreement_id,
                month,
                paid_in,
                regular,
                sponsor_id,
                area_id,
                family_id,
                colour.value if colour else None,
                days,
                days_in_month,
                monthly,
                prorate(monthly, days, days_in_month),
                unpaid,
                "",
                "",
                "",
                1,
                now,
            )
        )
    created += _insert(rows)
    if created:
        after = {"created": created} if paid_in == month else {"created": created, "paid_in": paid_in}
        audit.record(actor, "generate", "stipend_batch", month, after=after, summary=month)
    db.session.flush()
    # existing: every record of the month this run did not insert (also those a concurrent run inserted: their rows
    # conflicted with ours only once that run had committed)
    return Generated(month, created, _count(month) - created, frozen=batch.frozen, paid_in=paid_in)


def _count(month: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(StipendRecord).where(StipendRecord.month == month, REGULAR_INDEX)
    )


def missing_months(today: date | None = None) -> list[str]:
    """Every finished month from the first paying agreement's start up to last month (the catch-up range)."""
    today = today or local_today()
    first = db.session.scalar(
        select(func.min(Agreement.start_on)).where(Agreement.status.in_(PAYING), Agreement.signed_on.is_not(None))
    )
    if first is None:
        return []
    months = []
    cursor = date(first.year, first.month, 1)
    end = date(today.year, today.month, 1)
    while cursor < end:
        months.append(month_of(cursor))
        cursor = date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
    return months


def generate_due(actor=None, today: date | None = None) -> list[Generated]:
    """Generate last month and catch up any month missed before it (safe to run any number of times), oldest first:
    the late records of months already approved included, whatever order agreements and approvals came in."""
    return [generate_month(month, actor, today) for month in missing_months(today)]
