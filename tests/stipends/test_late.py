"""Late months (补发): an agreement signed or entered after the batch of a month it covers was approved is still paid
for that month, once, in the next open batch — by the daily/monthly job, the page and the command line, under races
(threads here; processes and a killed run in test_generation), and through payment, failure, reissue, overdue,
reminders and the bank statement."""

import threading
from datetime import date

import pytest
from sqlalchemy import func, select, text, update

from assist.enums import BatchStatus, StipendStatus
from assist.errors import Conflict
from assist.extensions import db
from assist.inbox.operations import remind_unpaid
from assist.stipends import bank, payments
from assist.stipends.models import StipendBatch, StipendRecord
from assist.stipends.operations import generate_due, generate_month
from tests.conftest import PASSWORD, csrf_token
from tests.stipends import late as scenario
from tests.stipends.late import TODAY


@pytest.fixture
def late(world):
    return scenario.build(world)


def _of(agreement) -> list[StipendRecord]:
    return list(
        db.session.scalars(
            select(StipendRecord).where(StipendRecord.agreement_id == agreement.id).order_by(StipendRecord.month)
        )
    )


def _status(month: str):
    return db.session.scalar(select(StipendBatch.status).where(StipendBatch.month == month))


def test_the_job_pays_the_months_of_an_agreement_entered_after_their_batches_were_approved(world, late):
    assert _of(late.late) == []
    results = {r.month: r for r in generate_due(today=TODAY)}
    db.session.commit()
    # both months are there, each once, prorated as any record (15 of 30 days in September)
    assert [(r.month, r.days, r.amount_fen) for r in _of(late.late)] == [
        ("2026-09", 15, 15_000),
        ("2026-10", 31, 30_000),
    ]
    # paid in the first batch still open after them: November's (created as a draft), never in the approved ones
    assert {r.paid_in for r in _of(late.late)} == {"2026-11"} and all(r.supplementary for r in _of(late.late))
    assert _status("2026-11") == BatchStatus.DRAFT
    assert (results["2026-09"].created, results["2026-09"].frozen, results["2026-09"].paid_in) == (1, True, "2026-11")
    assert (results["2026-10"].created, results["2026-10"].existing) == (1, 1)
    summaries = {s.month: s for s in payments.batch_summaries()}
    assert (summaries["2026-09"].records, summaries["2026-09"].amount_fen) == (1, 50_000)  # frozen: unchanged
    assert (summaries["2026-11"].records, summaries["2026-11"].amount_fen) == (2, 45_000)
    assert summaries["2026-11"].supplementary == 2
    # exactly once, whatever batch pays it and however often the job runs
    assert sum(r.created for r in generate_due(today=TODAY)) == 0
    assert generate_month("2026-09", today=TODAY).created == 0
    assert len(_of(late.late)) == 2


def test_late_records_go_into_the_first_open_batch_after_the_month(world):
    # September approved, October not generated yet: September's late record opens October's batch, which October's
    # own generation then fills
    late = scenario.build(world, approve=("2026-09",), generate=("2026-09",))
    result = generate_month("2026-09", today=TODAY)
    assert (result.created, result.paid_in) == (1, "2026-10") and _status("2026-10") == BatchStatus.DRAFT
    october = generate_month("2026-10", today=TODAY)
    db.session.commit()
    assert (october.created, october.frozen, october.paid_in) == (2, False, "2026-10")
    assert [(r.month, r.paid_in) for r in _of(late.late)] == [("2026-09", "2026-10"), ("2026-10", "2026-10")]
    # an approved batch in between is skipped
    db.session.execute(text("DELETE FROM stipend_records WHERE month = '2026-09' AND paid_in = '2026-10'"))
    payments.approve_batch(world.admin, "2026-10", today=TODAY)
    assert generate_month("2026-09", today=TODAY).paid_in == "2026-11"


def test_late_records_are_paid_failed_reissued_reminded_and_reconciled(world, late):
    generate_due(today=TODAY)
    db.session.commit()
    september, october = _of(late.late)
    sponsor = late.market.other_user
    with pytest.raises(Conflict):  # November's batch is not approved yet
        payments.confirm_payment(sponsor, september, date(2026, 11, 20), "HZB-L1", today=TODAY)
    with pytest.raises(Conflict):  # nor can it be before November has ended
        payments.approve_batch(world.admin, "2026-11", today=TODAY)
    payments.approve_batch(world.admin, "2026-11", today=date(2026, 12, 1))
    db.session.execute(
        update(StipendRecord).where(StipendRecord.paid_in != "2026-11").values(status=StipendStatus.PAID.value)
    )
    db.session.commit()
    # due with the batch that pays them (15 December), not with September's or October's
    assert not payments.is_overdue(september, date(2026, 12, 15)) and payments.is_overdue(september, date(2026, 12, 16))
    overdue = payments.record_query(True, overdue=True, today=date(2026, 12, 16))
    assert {r.id for r in db.session.scalars(overdue)} == {september.id, october.id}
    assert remind_unpaid(today=date(2026, 12, 16)) >= 1  # the sponsor and the admins
    payments.confirm_payment(sponsor, september, date(2026, 12, 3), "HZB-L1", today=date(2026, 12, 5))
    payments.mark_failed(sponsor, september, "退票")
    payments.reissue(world.admin, september)
    payments.confirm_payment(sponsor, september, date(2026, 12, 6), "HZB-L2", today=date(2026, 12, 6))
    assert _status("2026-11") == BatchStatus.APPROVED  # October's late record is still unpaid
    line = f"交易日期,金额,摘要,对方户名\r\n2026-12-07,300.00,ST{october.id},嘉兴善行实业有限公司\r\n"
    result = bank.reconcile(world.admin, line.encode(), today=date(2026, 12, 8))
    db.session.commit()
    assert [[r.id for r in records] for _line, records in result.paid] == [[october.id]], result.problems
    assert (september.status, october.status) == (StipendStatus.PAID, StipendStatus.PAID)
    assert _status("2026-11") == BatchStatus.CLOSED


def test_two_jobs_at_once_leave_one_late_record_per_agreement_and_month(app, world, late):
    late_id = late.late.id
    db.session.remove()
    barrier, outcomes = threading.Barrier(2, timeout=30), []

    def run():
        with app.app_context():
            try:
                barrier.wait()
                results = generate_due(today=TODAY)
                db.session.commit()
                outcomes.append(sum(r.created for r in results))
            except Exception as error:  # noqa: BLE001 - reported below
                db.session.rollback()
                outcomes.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(outcomes, key=str) == [0, 2], outcomes
    rows = db.session.execute(
        select(StipendRecord.month, StipendRecord.paid_in, func.count())
        .where(StipendRecord.agreement_id == late_id)
        .group_by(StipendRecord.month, StipendRecord.paid_in)
        .order_by(StipendRecord.month)
    ).all()
    assert [tuple(r) for r in rows] == [("2026-09", "2026-11", 1), ("2026-10", "2026-11", 1)]
    assert db.session.scalar(select(func.count(StipendBatch.id)).where(StipendBatch.month == "2026-11")) == 1


def test_cli_prints_created_and_existing_and_where_late_records_go(runner, world, late):
    result = runner.invoke(args=["stipends", "generate", "--month", "2026-09"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "created 1, existing 1 (batch approved: 1 supplementary in the batch of 2026-11)"
    result = runner.invoke(args=["stipends", "generate", "--month", "2026-09"])
    assert result.output.strip() == "created 0, existing 2 (batch approved: frozen)"


def _token(client, username):
    answer = client.post("/api/v1/tokens", json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {answer.get_json()['token']}"}


def test_api_lists_late_records_under_the_month_worked_and_the_batch_page_under_the_batch(client, auth, world, late):
    generate_due(today=TODAY)
    db.session.commit()
    september, october = _of(late.late)
    for username, expected in (("admin", {late.on_time.id, late.late.id}), ("sponsor_b", {late.late.id})):
        answer = client.get("/api/v1/stipends?month=2026-09", headers=_token(client, username))
        assert answer.status_code == 200
        items = answer.get_json()["items"]
        assert {i["agreement_id"] for i in items} == expected, username
        (item,) = [i for i in items if i["id"] == september.id]
        assert (item["month"], item["paid_in"], item["supplementary"]) == ("2026-09", "2026-11", True)
        assert (item["days"], item["amount_fen"], item["status"]) == (15, 15_000, "unpaid")
    assert auth.login("admin").status_code == 302
    html = client.get("/stipends/batches/2026-11").get_data(as_text=True)
    assert f"ST{september.id}" in html and f"ST{october.id}" in html
    assert "补发 2026-09" in html and "补发 2026-10" in html and 'id="supplementary-count"' in html
    html = client.get("/stipends/batches/2026-09").get_data(as_text=True)
    assert f"ST{september.id}" not in html
    # generating the approved month from the page adds its late record and shows the batch that pays it
    db.session.execute(text(f"DELETE FROM stipend_records WHERE id = {october.id}"))
    db.session.commit()
    token = csrf_token(client, "/stipends/batches")
    answer = client.post("/stipends/batches/generate", data={"csrf_token": token, "month": "2026-10"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/stipends/batches/2026-11")
    assert len(_of(late.late)) == 2
