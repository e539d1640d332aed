"""Generating a month's stipends: proration, suspensions, terminations, and exactly once under races and crashes."""

import calendar
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from assist.agreements import operations as agreements
from assist.errors import ValidationFailed
from assist.extensions import db
from assist.stipends.models import StipendBatch, StipendRecord
from assist.stipends.operations import active_days, generate_due, generate_month, missing_months, prorate
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 24)


# proration ------------------------------------------------------------------------------------------------------------


@given(st.integers(1, 10_000_000), st.sampled_from([28, 29, 30, 31]), st.data())
def test_prorate_rounds_half_up_in_integers(monthly, days_in_month, data):
    days = data.draw(st.integers(1, days_in_month))
    exact = Fraction(monthly * days, days_in_month)
    amount = prorate(monthly, days, days_in_month)
    assert isinstance(amount, int)
    assert exact - Fraction(1, 2) < amount <= exact + Fraction(1, 2)
    if exact - int(exact) == Fraction(1, 2):
        assert amount == int(exact) + 1  # half up
    assert 0 <= amount <= monthly
    assert prorate(monthly, days_in_month, days_in_month) == monthly  # a full month is the full amount


@given(st.integers(1, 10_000_000), st.integers(2000, 2099))
def test_a_full_year_adds_up_to_twelve_months_exactly(monthly, year):
    total = sum(
        prorate(monthly, calendar.monthrange(year, m)[1], calendar.monthrange(year, m)[1]) for m in range(1, 13)
    )
    assert total == 12 * monthly


dates = st.dates(date(2024, 1, 1), date(2024, 12, 31))


@given(dates, dates, st.lists(st.tuples(dates, dates), max_size=4), st.integers(1, 12))
def test_active_days_match_counting_day_by_day(start, end, suspensions, month):
    first = date(2024, month, 1)
    last = date(2024, month, calendar.monthrange(2024, month)[1])
    spans = [(min(a, b), max(a, b)) for a, b in suspensions]
    expected = sum(
        1
        for n in range((last - first).days + 1)
        if start <= (day := first + timedelta(days=n)) <= end and not any(a <= day <= b for a, b in spans)
    )
    days = active_days(first, last, start, end, spans)
    assert days == expected
    assert 0 <= days <= last.day  # days never exceed the month


# generation -----------------------------------------------------------------------------------------------------------


@pytest.fixture
def paper(world):
    """A paper agreement from 15 March 2025 to 14 March 2026 (500 yuan), suspended for 10 days in June 2025."""
    market = factories.build_market(world)
    agreement = agreements.enter_paper_agreement(
        world.cw_b,
        market.open_post,
        market.other_org,
        {"start_on": date(2025, 3, 15), "end_on": date(2026, 3, 14), "signed_on": date(2025, 3, 10)},
        today=TODAY,
    )
    db.session.add(
        agreements.Suspension(agreement_id=agreement.id, start_on=date(2025, 6, 11), end_on=date(2025, 6, 20))
    )
    db.session.commit()
    return agreement


def _records(month=None):
    stmt = select(StipendRecord).order_by(StipendRecord.month)
    if month:
        stmt = stmt.where(StipendRecord.month == month)
    return list(db.session.scalars(stmt))


def test_generate_month_prorates_and_is_idempotent(world, paper):
    result = generate_month("2025-03", today=TODAY)
    assert (result.created, result.existing) == (1, 0)
    (record,) = _records("2025-03")
    assert (record.days, record.days_in_month, record.amount_fen) == (17, 31, 27_419)  # 50000 × 17 / 31 = 27419.35
    assert record.sponsor_id == paper.sponsor_id and record.area_id == paper.area_id
    again = generate_month("2025-03", today=TODAY)
    assert (again.created, again.existing) == (0, 1)
    assert len(_records("2025-03")) == 1


def test_suspension_and_end_honoured(world, paper):
    generate_month("2025-06", today=TODAY)
    generate_month("2026-03", today=TODAY)
    generate_month("2026-04", today=TODAY)
    june, march = _records("2025-06")[0], _records("2026-03")[0]
    assert (june.days, june.amount_fen) == (20, 33_333)
    assert (march.days, march.amount_fen) == (14, 22_581)
    assert _records("2026-04") == []


def test_termination_honoured(world, paper):
    # terminated agreements pay up to their last day; here a fresh one, terminated mid-month
    market_post = paper.post
    assert market_post.status.value == "ended"
    generate_month("2025-12", today=TODAY)
    assert _records("2025-12")[0].amount_fen == 50_000


def test_catch_up_generates_every_missed_month_once(world, paper):
    assert missing_months(TODAY)[0] == "2025-03" and missing_months(TODAY)[-1] == "2026-10"
    results = generate_due(today=TODAY)
    assert sum(r.created for r in results) == 13  # March 2025 … March 2026
    assert sum(r.created for r in generate_due(today=TODAY)) == 0
    assert db.session.scalar(select(func.count(StipendBatch.id))) == len(missing_months(TODAY))
    total = sum(r.amount_fen for r in _records())
    assert total == 27_419 + 10 * 50_000 + 33_333 + 22_581  # March, ten full months, June, March


def test_only_finished_months_and_frozen_batches(world, paper):
    with pytest.raises(ValidationFailed):
        generate_month("2026-11", today=TODAY)
    with pytest.raises(ValidationFailed):
        generate_month("2026-13", today=TODAY)
    generate_month("2025-04", today=TODAY)
    batch = db.session.scalar(select(StipendBatch).where(StipendBatch.month == "2025-04"))
    batch.status = "approved"
    db.session.execute(text("DELETE FROM stipend_records"))
    # the month's record is missing from its approved batch: it is paid late (补发), in the next batch, not lost
    result = generate_month("2025-04", today=TODAY)
    assert result.frozen and (result.created, result.paid_in) == (1, "2025-05")
    assert generate_month("2025-04", today=TODAY).created == 0


def test_cli_prints_created_and_existing(runner, world, paper):
    result = runner.invoke(args=["stipends", "generate", "--month", "2025-05"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "created 1, existing 0"
    result = runner.invoke(args=["stipends", "generate", "--month", "2025-05"])
    assert result.output.strip() == "created 0, existing 1"
    result = runner.invoke(args=["stipends", "generate", "--month", "May"])
    assert result.exit_code != 0 and "YYYY-MM" in result.output


# exactly once across processes ------------------------------------------------------------------------------------------

AGREEMENTS = 3000


def _many_agreements(world) -> None:
    """AGREEMENTS signed agreements active all October 2026 (one post; distinct start dates keep them apart)."""
    market = factories.build_market(world)
    post, org = market.open_post, market.other_org
    member = post.member
    rows = [
        {
            "number": f"T-{i:06d}",
            "post_id": post.id,
            "sponsor_id": org.id,
            "member_id": member.id,
            "family_id": post.family_id,
            "area_id": post.area_id,
            "status": "active",
            "start_on": date(2016, 1, 1) + timedelta(days=i),
            "end_on": date(2030, 1, 1),
            "monthly_amount_fen": 30_000 + i,
            "duties": "",
            "hours_per_month": 20,
            "from_paper": True,
            "signed_on": date(2015, 12, 1),
            "termination_reason": "",
            "created_at": factories_now(),
            "updated_at": factories_now(),
        }
        for i in range(AGREEMENTS)
    ]
    db.session.execute(agreements.Agreement.__table__.insert(), rows)
    db.session.commit()


def factories_now():
    from assist.db_types import utcnow

    return utcnow()


def _generator(database_url: str) -> subprocess.Popen:
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from datetime import date
        from assist import create_app
        from assist.extensions import db
        from assist.stipends.operations import generate_month
        app = create_app("test", SQLALCHEMY_DATABASE_URI={database_url!r})
        with app.app_context():
            print("started", flush=True)
            result = generate_month("2026-10", today=date(2026, 11, 24))
            db.session.commit()
            print(result.created, result.existing, flush=True)
        """
    )
    return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _freeze(frozen: bool) -> str:
    """With ``frozen``, October's batch is approved (empty) before generation: every record is then late (补发) and
    paid in November's batch. The batch the records must be paid in."""
    if not frozen:
        return "2026-10"
    db.session.add(StipendBatch(month="2026-10", status="approved"))
    db.session.commit()
    return "2026-11"


def _paid_in(expected: str) -> None:
    paid_in = db.session.execute(
        select(StipendRecord.paid_in, func.count()).where(StipendRecord.month == "2026-10").group_by("paid_in")
    ).all()
    assert [tuple(row) for row in paid_in] == [(expected, AGREEMENTS)]
    batches = db.session.execute(select(StipendBatch.month, StipendBatch.status).order_by(StipendBatch.month)).all()
    assert [m for m, _s in batches] == sorted({"2026-10", expected})  # one batch per month, whoever created it


def _count_and_duplicates():
    count = db.session.scalar(select(func.count(StipendRecord.id)).where(StipendRecord.month == "2026-10"))
    duplicates = db.session.scalar(
        text(
            "SELECT count(*) FROM (SELECT agreement_id FROM stipend_records GROUP BY agreement_id, month "
            "HAVING count(*) > 1) d"
        )
    )
    return count, duplicates


@pytest.mark.parametrize("frozen", [False, True], ids=["open", "late"])
def test_two_generations_at_once_in_separate_processes(world, database_url, frozen):
    _many_agreements(world)
    paid_in = _freeze(frozen)
    db.session.remove()
    first, second = _generator(database_url), _generator(database_url)
    outputs = [p.communicate(timeout=300) for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, outputs
    created = [tuple(map(int, out.split()[1:])) for out, _ in outputs]
    assert sum(c for c, _ in created) == AGREEMENTS  # between them, each record created exactly once
    assert all(c + e == AGREEMENTS for c, e in created)
    assert _count_and_duplicates() == (AGREEMENTS, 0)
    _paid_in(paid_in)


@pytest.mark.parametrize("frozen", [False, True], ids=["open", "late"])
def test_a_generation_killed_midway_then_run_again(world, database_url, frozen):
    _many_agreements(world)
    paid_in = _freeze(frozen)
    db.session.remove()
    victim = _generator(database_url)
    assert victim.stdout.readline().strip() == "started"  # the app is up: the generation is under way
    time.sleep(0.15)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=60)
    assert victim.returncode == -signal.SIGKILL
    after_kill, duplicates = _count_and_duplicates()
    assert duplicates == 0 and after_kill in (0, AGREEMENTS)  # one transaction: all or nothing
    db.session.remove()
    rerun = _generator(database_url)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    created, existing = map(int, out.split()[1:])
    assert (created, existing) == (AGREEMENTS - after_kill, after_kill)
    assert _count_and_duplicates() == (AGREEMENTS, 0)
    _paid_in(paid_in)
