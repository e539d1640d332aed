"""Demo stipend history: every month since the first agreement generated, older months approved and paid, the last
months partly unpaid and the last one still a draft batch — so reports, charts and reminders mean something at once."""

from datetime import UTC, date, datetime

from sqlalchemy import and_, func, select, update

from assist.enums import BatchStatus, StipendStatus
from assist.extensions import db
from assist.stipends.models import StipendBatch, StipendRecord
from assist.stipends.operations import generate_due, parse_month


def build_stipend_history(today: date) -> dict[str, int]:
    """Generate the missing months, then settle the past as a scheme that pays on time mostly would have."""
    results = generate_due(today=today)
    months = [r.month for r in results]
    if not months:
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
    records = db.session.scalar(select(func.count(StipendRecord.id))) or 0
    return {"months": len(months), "records": records, "draft": draft}
