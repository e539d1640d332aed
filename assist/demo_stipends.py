"""Demo stipend history: every month since the first agreement generated, older months approved and paid, the last
months partly unpaid and the last one still a draft batch — so reports, charts and reminders mean something at once.
A few agreements that started in the two approved months before it are entered late (after those batches were
approved), so last month's draft batch also pays supplementary records (补发) of earlier months."""

from datetime import UTC, date, datetime

from sqlalchemy import and_, func, select, update

from assist.agreements.models import Agreement
from assist.enums import BatchStatus, StipendStatus
from assist.extensions import db
from assist.stipends.models import StipendBatch, StipendRecord
from assist.stipends.operations import PAYING, generate_due, missing_months, parse_month

#: agreements entered late: their first months are paid as supplementary records (补发) in the draft batch
LATE = 6


def _entered_late(months: list[str]) -> dict[int, date]:
    """A few agreements that started in the two months before last month (approved batches in the demo), with their
    signing dates: they count as not entered yet while those batches are generated and approved."""
    if len(months) < 3:
        return {}
    first, last = parse_month(months[-3])[0], parse_month(months[-2])[1]
    return dict(
        db.session.execute(
            select(Agreement.id, Agreement.signed_on)
            .where(
                Agreement.status.in_(PAYING), Agreement.signed_on.is_not(None), Agreement.start_on.between(first, last)
            )
            .order_by(Agreement.id)
            .limit(LATE)
        ).all()
    )


def _set_signed(signed: dict[int, date | None]) -> None:
    for agreement_id, signed_on in signed.items():
        db.session.execute(
            update(Agreement)
            .where(Agreement.id == agreement_id)
            .values(signed_on=signed_on)
            .execution_options(synchronize_session=False)
        )


def build_stipend_history(today: date) -> dict[str, int]:
    """Generate the missing months, then settle the past as a scheme that pays on time mostly would have; then the
    agreements entered late get their supplementary records (补发) in the draft batch."""
    late = _entered_late(missing_months(today))
    _set_signed(dict.fromkeys(late))
    results = generate_due(today=today)
    months = [r.month for r in results]
    if not months:
        _set_signed(late)
        return {"months": 0, "records": 0}
    draft = months[-1]  # last month: generated, awaiting the admin's approval
    for month in months[:-1]:
        first, last = parse_month(month)
        due = date(last.year + (last.month == 12), last.month % 12 + 1, 10)
        recent = month >= months[max(len(months) - 3, 0)]
        paid = StipendRecord.month == month
        if recent:
            # the last two approved months: most paid, a few sponsors late (the overdue list has something on it)
            paid = and_(paid, StipendRecord.sponsor_id % 9 != 4)
        db.session.execute(
            update(StipendRecord)
            .where(paid)
            .values(
                status=StipendStatus.PAID,
                paid_on=due,
                reference=f"ZZ{month.replace('-', '')}-" + func.cast(StipendRecord.id, db.String),
                confirmed_at=datetime(due.year, due.month, due.day, 9, tzinfo=UTC),
            )
            .execution_options(synchronize_session=False)
        )
        settled = not recent
        db.session.execute(
            update(StipendBatch)
            .where(StipendBatch.month == month)
            .values(
                status=BatchStatus.CLOSED if settled else BatchStatus.APPROVED,
                approved_at=datetime(first.year + (first.month == 12), first.month % 12 + 1, 2, 9, tzinfo=UTC),
                closed_at=datetime(due.year, due.month, due.day, 18, tzinfo=UTC) if settled else None,
            )
            .execution_options(synchronize_session=False)
        )
    # the late agreements are entered now: the job pays their approved months in the draft batch
    _set_signed(late)
    supplementary = sum(r.created for r in generate_due(today=today) if r.month != draft)
    records = db.session.scalar(select(func.count(StipendRecord.id))) or 0
    return {"months": len(months), "records": records, "draft": draft, "supplementary": supplementary}
