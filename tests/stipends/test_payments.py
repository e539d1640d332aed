"""Batches and payments: approval freezes, payments only in approved batches and exactly once (also under threads),
failures and reissue, adjustments, overdue, and the bank statement import."""

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from assist.agreements import operations as agreements
from assist.audit.models import AuditEntry
from assist.auth.models import User
from assist.enums import BatchStatus, StipendKind, StipendStatus
from assist.errors import Conflict, ValidationFailed
from assist.extensions import db
from assist.stipends import bank, payments
from assist.stipends.models import StipendBatch, StipendRecord
from assist.stipends.operations import generate_month
from tests import factories

TODAY = date(2026, 11, 24)


@pytest.fixture
def paper(world):
    """other_org's paper agreement from 15 March 2025 to 14 March 2026 (500 yuan a month), in town B."""
    market = factories.build_market(world)
    agreement = agreements.enter_paper_agreement(
        world.cw_b,
        market.open_post,
        market.other_org,
        {"start_on": date(2025, 3, 15), "end_on": date(2026, 3, 14), "signed_on": date(2025, 3, 10)},
        today=TODAY,
    )
    db.session.commit()
    agreement.market = market
    return agreement


def _record(month: str) -> StipendRecord:
    return db.session.scalar(select(StipendRecord).where(StipendRecord.month == month, StipendRecord.kind == "regular"))


def _batch(month: str) -> StipendBatch:
    return db.session.scalar(select(StipendBatch).where(StipendBatch.month == month))


def test_transition_tables_name_every_move():
    assert payments.BATCH_TRANSITIONS["approve"] == ((BatchStatus.DRAFT,), BatchStatus.APPROVED)
    assert payments.BATCH_TRANSITIONS["close"] == ((BatchStatus.APPROVED,), BatchStatus.CLOSED)
    assert payments.BATCH_TRANSITIONS["reopen"] == ((BatchStatus.CLOSED,), BatchStatus.APPROVED)
    assert set(payments.RECORD_TRANSITIONS) == {"pay", "fail", "reissue"}


def test_an_approved_batch_is_frozen_when_the_agreement_changes(world, paper):
    generate_month("2025-04", today=TODAY)
    before = _record("2025-04")
    snapshot = (before.id, before.amount_fen, before.monthly_amount_fen, before.days)
    payments.approve_batch(world.admin, "2025-04", today=TODAY)
    db.session.commit()
    # the agreement's amount changes afterwards (a correction made on the agreement itself)
    paper.monthly_amount_fen = 80_000
    db.session.commit()
    result = generate_month("2025-04", today=TODAY)
    db.session.commit()
    assert result.frozen and result.created == 0
    after = _record("2025-04")
    assert (
        (after.id, after.amount_fen, after.monthly_amount_fen, after.days)
        == snapshot
        == (
            snapshot[0],
            50_000,
            50_000,
            30,
        )
    )
    assert db.session.scalar(select(func.count(StipendRecord.id)).where(StipendRecord.month == "2025-04")) == 1
    with pytest.raises(Conflict):
        payments.approve_batch(world.admin, "2025-04", today=TODAY)


def test_a_batch_is_approved_only_once_its_month_has_ended(world, paper):
    db.session.add(StipendBatch(month="2026-11"))
    db.session.commit()
    with pytest.raises(Conflict):
        payments.approve_batch(world.admin, "2026-11", today=TODAY)
    with pytest.raises(Exception) as caught:
        payments.approve_batch(world.admin, "2026-01", today=TODAY)
    assert getattr(caught.value, "status", None) == 404


def test_payment_needs_an_approved_batch_and_happens_once(world, paper):
    sponsor = paper.market.other_user
    generate_month("2025-05", today=TODAY)
    record = _record("2025-05")
    with pytest.raises(Conflict):
        payments.confirm_payment(sponsor, record, date(2025, 6, 5), "HZB-1", today=TODAY)
    payments.approve_batch(world.admin, "2025-05", today=TODAY)
    with pytest.raises(ValidationFailed) as bad:
        payments.confirm_payment(sponsor, record, date(2027, 1, 1), "", today=TODAY)
    assert set(bad.value.fields) == {"paid_on", "reference"}
    payments.confirm_payment(sponsor, record, date(2025, 6, 5), " HZB-1 ", today=TODAY)
    db.session.commit()
    assert (record.status, record.paid_on, record.reference) == (StipendStatus.PAID, date(2025, 6, 5), "HZB-1")
    assert _batch("2025-05").status == BatchStatus.CLOSED  # its only record is settled
    with pytest.raises(Conflict):
        payments.confirm_payment(world.admin, record, date(2025, 6, 6), "HZB-2", today=TODAY)
    entries = db.session.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "stipend_record")).all()
    assert entries == ["pay"]


def test_failed_payment_is_reissued_and_paid_once(world, paper):
    sponsor = paper.market.other_user
    generate_month("2025-06", today=TODAY)
    payments.approve_batch(world.admin, "2025-06", today=TODAY)
    record = _record("2025-06")
    with pytest.raises(Conflict):
        payments.reissue(sponsor, record)
    payments.confirm_payment(sponsor, record, date(2025, 7, 3), "HZB-7", today=TODAY)
    assert _batch("2025-06").status == BatchStatus.CLOSED
    with pytest.raises(ValidationFailed):
        payments.mark_failed(sponsor, record, "  ")
    payments.mark_failed(sponsor, record, "退票：账号有误")
    assert (record.status, record.failure_reason) == (StipendStatus.FAILED, "退票：账号有误")
    with pytest.raises(Conflict):
        payments.confirm_payment(sponsor, record, date(2025, 7, 9), "HZB-8", today=TODAY)
    payments.reissue(world.admin, record)
    assert (record.status, record.attempts, record.reference, record.paid_on) == (StipendStatus.UNPAID, 2, "", None)
    payments.confirm_payment(sponsor, record, date(2025, 7, 9), "HZB-8", today=TODAY)
    db.session.commit()
    assert record.status == StipendStatus.PAID and record.amount_fen == 50_000
    assert _batch("2025-06").status == BatchStatus.CLOSED
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_type == "stipend_record").order_by(AuditEntry.id)
    ).all()
    assert actions == ["pay", "fail", "reissue", "pay"]


def test_bulk_confirmation_all_or_nothing_with_suffixed_references(world, paper):
    sponsor = paper.market.other_user
    for month in ("2025-07", "2025-08", "2025-09"):
        generate_month(month, today=TODAY)
        payments.approve_batch(world.admin, month, today=TODAY)
    records = [_record(m) for m in ("2025-07", "2025-08", "2025-09")]
    payments.confirm_payments(sponsor, records, date(2025, 10, 8), "HZB-B", {records[1].id: "OWN-2"}, today=TODAY)
    assert [r.reference for r in records] == ["HZB-B-1", "OWN-2", "HZB-B-3"]
    assert all(r.status == StipendStatus.PAID for r in records)
    db.session.commit()
    generate_month("2025-10", today=TODAY)
    payments.approve_batch(world.admin, "2025-10", today=TODAY)
    db.session.commit()
    fresh = _record("2025-10")
    with pytest.raises(Conflict):  # one of them is paid already: none is confirmed
        payments.confirm_payments(sponsor, [fresh, records[0]], date(2025, 11, 8), "HZB-C", today=TODAY)
    db.session.rollback()
    assert db.session.get(StipendRecord, fresh.id).status == StipendStatus.UNPAID


def test_adjustment_goes_into_the_next_open_batch_and_never_exceeds_the_amount(world, paper):
    generate_month("2025-03", today=TODAY)  # 17 of 31 days: 274.19 yuan
    march = _record("2025-03")
    with pytest.raises(Conflict):  # a draft is simply regenerated, not adjusted
        payments.create_adjustment(world.admin, march, 100, "补发", today=TODAY)
    payments.approve_batch(world.admin, "2025-03", today=TODAY)
    generate_month("2025-04", today=TODAY)
    adjustment = payments.create_adjustment(world.admin, march, 1_000, "天数核对补发", today=TODAY)
    db.session.commit()
    assert (adjustment.kind, adjustment.month, adjustment.corrects_id) == (StipendKind.ADJUSTMENT, "2025-04", march.id)
    with pytest.raises(ValidationFailed) as too_much:
        payments.create_adjustment(world.admin, march, 50_000 - 27_419 - 1_000 + 1, "再补", today=TODAY)
    assert "amount_fen" in too_much.value.fields
    payments.create_adjustment(world.admin, march, 50_000 - 27_419 - 1_000, "补足", today=TODAY)
    assert payments.adjustment_room(march) == 0
    # the month's regular record stays unique beside the adjustments in its batch
    assert generate_month("2025-04", today=TODAY).created == 0
    kinds = db.session.execute(
        select(StipendRecord.kind, func.count()).where(StipendRecord.month == "2025-04").group_by(StipendRecord.kind)
    ).all()
    assert dict(kinds) == {StipendKind.REGULAR: 1, StipendKind.ADJUSTMENT: 2}


@pytest.mark.parametrize(
    ("today", "due_day", "last"),
    [
        (date(2026, 11, 16), 15, "2026-10"),
        (date(2026, 11, 15), 15, "2026-09"),
        (date(2026, 1, 20), 15, "2025-12"),
        (date(2026, 1, 10), 15, "2025-11"),
        (date(2026, 3, 1), 28, "2026-01"),
    ],
)
def test_last_overdue_month(app, today, due_day, last):
    assert payments.last_overdue_month(today, due_day) == last
    assert payments.due_on(last, due_day) < today


def test_overdue_records_are_flagged(world, paper):
    generate_month("2026-02", today=TODAY)
    record = _record("2026-02")
    assert payments.is_overdue(record, date(2026, 3, 16)) and not payments.is_overdue(record, date(2026, 3, 15))
    stmt = payments.record_query(True, overdue=True, today=date(2026, 3, 16))
    assert list(db.session.scalars(stmt)) == [record]


def test_two_threads_confirming_one_record_one_wins(app, world, paper):
    generate_month("2025-11", today=TODAY)
    payments.approve_batch(world.admin, "2025-11", today=TODAY)
    db.session.commit()
    record_id, user_id = _record("2025-11").id, paper.market.other_user.id
    db.session.remove()
    barrier, outcomes = threading.Barrier(2, timeout=30), []

    def confirm(reference):
        with app.app_context():
            actor, record = db.session.get(User, user_id), db.session.get(StipendRecord, record_id)
            db.session.rollback()  # both have read the record; no transaction (no SQLite write lock) held meanwhile
            barrier.wait()
            try:
                payments.confirm_payment(actor, record, date(2025, 12, 5), reference, today=TODAY)
                db.session.commit()
                outcomes.append(("won", reference))
            except Conflict:
                db.session.rollback()
                outcomes.append(("409", reference))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=confirm, args=(ref,)) for ref in ("HZB-T1", "HZB-T2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(o for o, _ in outcomes) == ["409", "won"]
    winner = next(ref for o, ref in outcomes if o == "won")
    assert db.session.get(StipendRecord, record_id).reference == winner
    paid = db.session.scalar(
        select(func.count(AuditEntry.id)).where(AuditEntry.entity_type == "stipend_record", AuditEntry.action == "pay")
    )
    assert paid == 1


# bank statement ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def statement(world, paper):
    """Two approved months: July unpaid (ST code), August paid with reference HZB-8; September still a draft."""
    for month in ("2025-07", "2025-08"):
        generate_month(month, today=TODAY)
        payments.approve_batch(world.admin, month, today=TODAY)
    generate_month("2025-09", today=TODAY)
    payments.confirm_payment(world.admin, _record("2025-08"), date(2025, 9, 3), "HZB-8", today=TODAY)
    db.session.commit()
    return _record("2025-07"), _record("2025-08"), _record("2025-09")


def _csv(lines, encoding="utf-8", header="交易日期,金额,摘要,对方户名"):
    return ("\r\n".join([header, *lines]) + "\r\n").encode(encoding)


def test_bank_statement_matches_reports_and_changes_nothing_else(world, statement):
    july, august, september = statement
    data = _csv(
        [
            f"2025-08-06,500.00,ST{july.id} 七月待遇,嘉兴善行实业有限公司",
            "2025/09/03,500.00,HZB-8,嘉兴善行实业有限公司",
            f"2025-08-07,500.00,ST{july.id} again,嘉兴善行实业有限公司",
            "2025-08-07,500.00,ST99999999,某公司",
            f"2025-10-07,499.00,ST{september.id},嘉兴善行实业有限公司",
            '2025-10-07,1.00,"=HYPERLINK(""http://x"")",@evil',
            "not a date,1.00,x,y",
            "2025-10-07,-5,x,y",
            ",,,",
        ],
        encoding="gb18030",
    )
    result = bank.reconcile(world.admin, data, today=TODAY)
    db.session.commit()
    assert result.lines == 8
    assert [(line.number, [r.id for r in rs]) for line, rs in result.paid] == [(2, [july.id])]
    assert [(line.number, [r.id for r in rs]) for line, rs in result.reconciled] == [(3, [august.id])]
    codes = {p.number: p.code for p in result.problems}
    assert codes == {4: "duplicate", 5: "unknown", 6: "amount", 7: "unknown", 8: "bad_row", 9: "bad_row"}
    assert all(p.reason for p in result.problems)
    assert july.status == StipendStatus.PAID and july.paid_on == date(2025, 8, 6) and july.reconciled_at
    assert august.reconciled_at is not None and august.paid_on == date(2025, 9, 3)
    assert september.status == StipendStatus.UNPAID
    # the same statement again: everything is a duplicate now, nothing changes
    again = bank.reconcile(world.admin, data, today=TODAY)
    assert not again.paid and not again.reconciled


def test_bank_statement_of_a_draft_batch_is_not_paid(world, statement):
    _july, _august, september = statement
    result = bank.reconcile(
        world.admin, _csv([f"2025-10-07,500.00,ST{september.id},嘉兴善行实业有限公司"]), today=TODAY
    )
    assert not result.paid and result.problems[0].code == "not_payable"
    assert september.status == StipendStatus.UNPAID


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\xfe\x00\x00garbage\x00\x01",
        b"date,amount\r\n2025-01-01,1\r\n",
        b"\xef\xbb\xbf" + b"a,b,c\r\n" * 3,
    ],
)
def test_a_file_that_is_not_a_statement_is_refused(world, data):
    with pytest.raises(ValidationFailed):
        bank.reconcile(world.admin, data, today=TODAY)


def test_english_headers_and_bom_are_accepted(world, statement):
    july, _august, _september = statement
    data = b"\xef\xbb\xbf" + _csv(
        [f"2025-08-06,500,ST{july.id},嘉兴善行实业有限公司"], header="Date,Amount,Reference,Payer"
    )
    assert len(bank.reconcile(world.admin, data, today=TODAY).paid) == 1
    assert bank.decode(bank.SAMPLE.encode("gb18030")) == bank.SAMPLE


def test_a_line_from_another_payer_goes_to_review_and_pays_nothing(world, statement):
    """The hostile case: 平湖爱心 (org) sends a transfer whose memo names 嘉兴善行's record (its ST code, the right
    amount), or the reference 嘉兴善行 confirmed; neither marks that record paid or reconciled."""
    july, august, _september = statement
    data = _csv(
        [
            f"2025-08-06,500.00,ST{july.id} 七月待遇,平湖爱心科技有限公司",
            "2025-09-03,500.00,HZB-8,平湖爱心科技有限公司",
            f"2025-08-06,500.00,ST{july.id},",
        ]
    )
    result = bank.reconcile(world.admin, data, today=TODAY)
    db.session.commit()
    assert not result.paid and not result.reconciled
    assert [(p.number, p.code) for p in result.problems] == [(2, "payer"), (3, "payer"), (4, "payer")]
    assert all(p.reason for p in result.problems)
    db.session.expire_all()
    assert july.status == StipendStatus.UNPAID and july.reconciled_at is None and july.paid_on is None
    assert august.reconciled_at is None
    # the sponsor itself, as banks print it (full-width brackets, spaces), matches
    data = _csv(
        [f"2025-08-06,500.00,ST{july.id},嘉兴善行实业 有限公司 ", "2025-09-03,500.00,HZB-8,嘉兴善行实业有限公司"]
    )
    result = bank.reconcile(world.admin, data, today=TODAY)
    assert len(result.paid) == 1 and len(result.reconciled) == 1 and not result.problems


def test_payer_names_compare_as_banks_print_them():
    assert bank.same_party("嘉兴善行（集团）有限公司", "嘉兴善行(集团)有限公司")
    assert bank.same_party(" ACME  Ltd ", "acme ltd")
    assert not bank.same_party("", "") and not bank.same_party("平湖爱心", "平湖爱心科技有限公司")
