"""Batches and payments of the monthly stipends (待遇发放): approval, payment confirmation, failures, adjustments, overdue.

Both state machines are explicit tables below, and every move is one conditional UPDATE (``WHERE status IN (from)``):
the database decides which of two simultaneous confirmations wins, the other gets a Conflict (409) — never a
read-then-write race. Operations flush and audit; the caller commits once.
"""

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, exists, func, select, text, update

from assist import audit, checks
from assist.db_types import local_today, utcnow
from assist.enums import BatchStatus, StipendKind, StipendStatus
from assist.errors import Conflict, NotFound, ValidationFailed
from assist.extensions import db
from assist.settings.operations import get_settings
from assist.stipends.models import StipendBatch, StipendRecord
from assist.stipends.operations import open_batch_after, parse_month

DRAFT, APPROVED, CLOSED = BatchStatus.DRAFT, BatchStatus.APPROVED, BatchStatus.CLOSED
UNPAID, PAID, FAILED = StipendStatus.UNPAID, StipendStatus.PAID, StipendStatus.FAILED

#: batch action → (states it may start from, state it leads to)
BATCH_TRANSITIONS: dict[str, tuple[tuple[BatchStatus, ...], BatchStatus]] = {
    "approve": ((DRAFT,), APPROVED),  # frozen from here on: generation adds nothing, corrections are adjustments
    "close": ((APPROVED,), CLOSED),  # automatic, when every record of the batch is paid
    "reopen": ((CLOSED,), APPROVED),  # automatic, when a paid record's transfer turns out to have failed
}
#: record action → (states it may start from, state it leads to); paying needs the record's batch approved
RECORD_TRANSITIONS: dict[str, tuple[tuple[StipendStatus, ...], StipendStatus]] = {
    "pay": ((UNPAID,), PAID),
    "fail": ((UNPAID, PAID), FAILED),  # a transfer that bounced, even after it was confirmed (never once reconciled)
    "reissue": ((FAILED,), UNPAID),  # the same record, a new attempt: it can still be paid only once at a time
}
REFERENCE_MAX = 60
#: a supplementary record (补发), as the partial index ix_stipend_records_supplementary states it
SUPPLEMENTARY = text("stipend_records.paid_in <> stipend_records.month")


# --- batches ---------------------------------------------------------------------------------------------------------


def get_batch(month: str) -> StipendBatch:
    parse_month(month)
    batch = db.session.scalar(select(StipendBatch).where(StipendBatch.month == month))
    if batch is None:
        raise NotFound(str(_l("There is no batch for that month yet.")))
    return batch


def _move_batch(actor, month: str, action: str, where=True, **values) -> bool:
    sources, target = BATCH_TRANSITIONS[action]
    done = db.session.execute(
        update(StipendBatch)
        .where(StipendBatch.month == month, StipendBatch.status.in_(sources), where)
        .values(status=target, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done:
        audit.record(actor, action, "stipend_batch", month, after={"status": target.value}, summary=month)
    return bool(done)


def approve_batch(actor, month: str, today: date | None = None) -> StipendBatch:
    """Approve a month's draft batch for payment (admin); from now on it is frozen."""
    batch = get_batch(month)
    _first, last = parse_month(month)
    if last >= (today or local_today()):
        raise Conflict(str(_l("A batch can be approved once its month has ended and been generated.")))
    if not _move_batch(actor, month, "approve", approved_at=utcnow(), approved_by_id=getattr(actor, "id", None)):
        raise Conflict(str(_l("This batch has already been approved.")))
    close_batch_if_settled(actor, month)
    db.session.flush()
    db.session.refresh(batch)
    return batch


def close_batch_if_settled(actor, month: str) -> bool:
    """Close an approved batch when none of the records it pays is left unpaid or failed (one conditional statement)."""
    unsettled = exists().where(StipendRecord.paid_in == month, StipendRecord.status != PAID)
    return _move_batch(actor, month, "close", where=~unsettled, closed_at=utcnow())


@dataclass
class BatchSummary:
    month: str
    status: BatchStatus
    records: int = 0
    amount_fen: int = 0
    paid: int = 0
    paid_fen: int = 0
    failed: int = 0
    #: supplementary records (补发): late months of earlier, frozen batches that this batch pays
    supplementary: int = 0

    @property
    def unpaid(self) -> int:
        return self.records - self.paid

    @property
    def unpaid_fen(self) -> int:
        return self.amount_fen - self.paid_fen


def batch_summaries(months: list[str] | None = None) -> list[BatchSummary]:
    """Each batch with the counts and totals of the records it pays, newest first (one aggregate query)."""
    batches = db.session.execute(
        select(StipendBatch.month, StipendBatch.status)
        .where(StipendBatch.month.in_(months) if months is not None else True)
        .order_by(StipendBatch.month.desc())
    ).all()
    out = {month: BatchSummary(month, status) for month, status in batches}
    paid = StipendRecord.status == PAID
    for month, records, amount, n_paid, paid_fen, failed in db.session.execute(
        select(
            StipendRecord.paid_in,
            func.count(),
            func.coalesce(func.sum(StipendRecord.amount_fen), 0),
            func.sum(case((paid, 1), else_=0)),
            func.coalesce(func.sum(case((paid, StipendRecord.amount_fen), else_=0)), 0),
            func.sum(case((StipendRecord.status == FAILED, 1), else_=0)),
        )
        .where(StipendRecord.paid_in.in_(list(out)))
        .group_by(StipendRecord.paid_in)
    ):
        summary = out[month]
        summary.records, summary.amount_fen = records, int(amount)
        summary.paid, summary.paid_fen, summary.failed = int(n_paid or 0), int(paid_fen), int(failed or 0)
    # the few late records, from their partial index (the query repeats its condition)
    for month, late in db.session.execute(
        select(StipendRecord.paid_in, func.count())
        .where(StipendRecord.paid_in.in_(list(out)), SUPPLEMENTARY)
        .group_by(StipendRecord.paid_in)
    ):
        out[month].supplementary = late
    return list(out.values())


# --- overdue ---------------------------------------------------------------------------------------------------------


def due_on(month: str, due_day: int | None = None) -> date:
    """The day a month's stipends must be paid by: the due day of the month after."""
    _first, last = parse_month(month)
    after = date(last.year + last.month // 12, last.month % 12 + 1, 1)
    return after.replace(day=due_day or get_settings()["payment_due_day"])


def last_overdue_month(today: date | None = None, due_day: int | None = None) -> str:
    """Records of this month or earlier that are still unsettled are overdue today."""
    today = today or local_today()
    due_day = due_day or get_settings()["payment_due_day"]
    back = 1 if today.day > due_day else 2
    index = today.year * 12 + today.month - 1 - back
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def overdue_filter(today: date | None = None):
    """A WHERE clause keeping the records unsettled after their due day (the due day of the batch that pays them)."""
    return and_(StipendRecord.status != PAID, StipendRecord.paid_in <= last_overdue_month(today))


def is_overdue(record: StipendRecord, today: date | None = None) -> bool:
    return record.status != PAID and record.paid_in <= last_overdue_month(today)


# --- records ---------------------------------------------------------------------------------------------------------


def record_query(
    scope,
    *,
    month: str | None = None,
    paid_in: str | None = None,
    sponsor_id: int | None = None,
    area_id: int | None = None,
    status: str | None = None,
    overdue: bool = False,
    today: date | None = None,
):
    """The records ``scope`` (permissions.stipend_scope) lets a user see, filtered by the month worked (``month``) or
    the batch that pays them (``paid_in``); newest batch first."""
    stmt = select(StipendRecord).where(scope)
    if month:
        stmt = stmt.where(StipendRecord.month == month)
    if paid_in:
        stmt = stmt.where(StipendRecord.paid_in == paid_in)
    if sponsor_id:
        stmt = stmt.where(StipendRecord.sponsor_id == sponsor_id)
    if area_id:
        stmt = stmt.where(StipendRecord.area_id == area_id)
    if status:
        stmt = stmt.where(StipendRecord.status == status)
    if overdue:
        stmt = stmt.where(overdue_filter(today))
    return stmt.order_by(StipendRecord.paid_in.desc(), StipendRecord.month.desc(), StipendRecord.id)


def _clean_payment(record: StipendRecord, paid_on, reference, today: date) -> tuple[date, str]:
    errors = {}
    if not isinstance(paid_on, date):
        errors["paid_on"] = str(_l("Enter the date the transfer was made."))
    elif paid_on > today:
        errors["paid_on"] = str(_l("The payment date cannot be in the future."))
    elif paid_on < parse_month(record.month)[0]:
        errors["paid_on"] = str(_l("The payment date lies before the month it pays for."))
    reference = (reference or "").strip() if isinstance(reference, str) else ""
    if not reference:
        errors["reference"] = str(_l("Enter the bank transfer's reference."))
    elif len(reference) > REFERENCE_MAX or any(ord(c) < 32 for c in reference):
        errors["reference"] = str(_l("A reference has at most 60 characters and no control characters."))
    if errors:
        raise ValidationFailed(next(iter(errors.values())), errors)
    return paid_on, reference


def _move_record(actor, record: StipendRecord, action: str, where=None, **values) -> bool:
    sources, target = RECORD_TRANSITIONS[action]
    before = audit.snapshot(record, ("status", "paid_on", "reference", "failure_reason", "attempts"))
    stmt = update(StipendRecord).where(StipendRecord.id == record.id, StipendRecord.status.in_(sources))
    if where is not None:
        stmt = stmt.where(where)
    done = db.session.execute(
        stmt.values(status=target, **values).execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(record)
    if done:
        after = audit.snapshot(record, ("status", "paid_on", "reference", "failure_reason", "attempts"))
        audit.record(
            actor,
            action,
            "stipend_record",
            record.id,
            before=before,
            after=after,
            family_id=record.family_id,
            summary=f"{record.month} {record.amount_fen / 100:.2f}",
        )
    return bool(done)


def _refuse_payment(record: StipendRecord):
    status = db.session.scalar(select(StipendBatch.status).where(StipendBatch.month == record.paid_in))
    if status != APPROVED and record.status == UNPAID:
        raise Conflict(str(_l("This month's batch has not been approved for payment yet.")))
    raise Conflict(str(_l("This stipend is not waiting for payment (it was paid or marked failed meanwhile).")))


def confirm_payment(
    actor, record: StipendRecord, paid_on, reference, today: date | None = None, reconciled: bool = False
) -> StipendRecord:
    """The sponsor (or the admin for it) confirms a transfer: date and reference; only once the batch paying the
    record is approved."""
    paid_on, reference = _clean_payment(record, paid_on, reference, today or local_today())
    now = utcnow()
    approved = StipendRecord.paid_in.in_(select(StipendBatch.month).where(StipendBatch.status == APPROVED))
    if not _move_record(
        actor,
        record,
        "pay",
        where=approved,
        paid_on=paid_on,
        reference=reference,
        confirmed_at=now,
        confirmed_by_id=getattr(actor, "id", None),
        reconciled_at=now if reconciled else None,
    ):
        _refuse_payment(record)
    close_batch_if_settled(actor, record.paid_in)
    return record


def confirm_payments(
    actor, records: list[StipendRecord], paid_on, reference, references: dict[int, str] | None = None, today=None
) -> list[StipendRecord]:
    """Confirm several transfers made on one date, all or none: each record's own reference where given, otherwise
    the shared reference with a suffix -1, -2, … (one transfer paying several records keeps one reference that a
    bank statement line can still be matched to)."""
    if not records:
        raise ValidationFailed(
            str(_l("Select at least one stipend.")), {"ids": str(_l("Select at least one stipend."))}
        )
    references = references or {}
    shared = (reference or "").strip() if isinstance(reference, str) else ""
    if len(shared) > REFERENCE_MAX - 4:
        message = str(_l("A shared reference has at most 56 characters (a suffix is added)."))
        raise ValidationFailed(message, {"reference": message})
    numbered = [r for r in records if not (references.get(r.id) or "").strip()]
    for n, record in enumerate(sorted(records, key=lambda r: (r.month, r.id)), start=1):
        own = (references.get(record.id) or "").strip()
        ref = own or (shared if len(numbered) == 1 or not shared else f"{shared}-{n}")
        confirm_payment(actor, record, paid_on, ref, today)
    return records


def mark_failed(actor, record: StipendRecord, reason) -> StipendRecord:
    """A transfer did not arrive or bounced: the record is failed (with the reason) until it is reissued."""
    reason = checks.required_reason(reason)
    not_reconciled = StipendRecord.reconciled_at.is_(None)
    if not _move_record(actor, record, "fail", where=not_reconciled, failure_reason=reason):
        if record.reconciled_at is not None:
            raise Conflict(str(_l("The bank statement shows this payment arrived; it cannot be marked failed.")))
        raise Conflict(str(_l("Only an unpaid or paid stipend can be marked failed.")))
    _move_batch(actor, record.paid_in, "reopen", closed_at=None)
    return record


def reissue(actor, record: StipendRecord) -> StipendRecord:
    """A failed record becomes unpaid again as the next attempt (its history is in the audit log)."""
    if not _move_record(
        actor,
        record,
        "reissue",
        paid_on=None,
        reference="",
        confirmed_at=None,
        confirmed_by_id=None,
        attempts=StipendRecord.attempts + 1,
    ):
        raise Conflict(str(_l("Only a failed payment can be reissued.")))
    return record


# --- adjustments -----------------------------------------------------------------------------------------------------


def adjustment_room(record: StipendRecord) -> int:
    """How much more may still be added to a record's agreement and month (never more than the monthly amount)."""
    added = db.session.scalar(
        select(func.coalesce(func.sum(StipendRecord.amount_fen), 0)).where(StipendRecord.corrects_id == record.id)
    )
    return record.monthly_amount_fen - record.amount_fen - int(added)


def create_adjustment(actor, record: StipendRecord, amount_fen, reason, today: date | None = None) -> StipendRecord:
    """Correct a record of a frozen batch by an explicit extra amount, paid in the next open batch (admin)."""
    if record.kind != StipendKind.REGULAR:
        raise Conflict(str(_l("Correct the original record, not an adjustment.")))
    batch_status = db.session.scalar(select(StipendBatch.status).where(StipendBatch.month == record.paid_in))
    if batch_status == DRAFT:
        raise Conflict(str(_l("The batch is still a draft: corrections are made once it is approved.")))
    errors = {}
    room = adjustment_room(record)
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen < 1:
        errors["amount_fen"] = str(_l("Enter an amount above zero."))
    elif amount_fen > room:
        errors["amount_fen"] = str(
            _l("At most %(yuan)s yuan: the month can never come to more than the agreed monthly amount.")
            % {"yuan": f"{room / 100:.2f}"}
        )
    reason = checks.reason(errors, reason)
    if errors:
        raise ValidationFailed(next(iter(errors.values())), errors)
    batch = open_batch_after(record.paid_in, today)
    adjustment = StipendRecord(
        agreement_id=record.agreement_id,
        month=batch.month,
        kind=StipendKind.ADJUSTMENT,
        corrects_id=record.id,
        reason=reason,
        sponsor_id=record.sponsor_id,
        area_id=record.area_id,
        family_id=record.family_id,
        colour=record.colour,
        days=record.days,
        days_in_month=record.days_in_month,
        monthly_amount_fen=record.monthly_amount_fen,
        amount_fen=amount_fen,
        status=UNPAID,
        reference="",
    )
    db.session.add(adjustment)
    db.session.flush()
    audit.record(
        actor,
        "adjust",
        "stipend_record",
        adjustment.id,
        after={"corrects": record.id, "month": batch.month, "amount_fen": amount_fen, "reason": reason},
        family_id=record.family_id,
        summary=f"{record.month} → {batch.month} {amount_fen / 100:.2f}",
    )
    return adjustment
