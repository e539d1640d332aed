"""The stipend pages and API through the client: a sponsor sees and pays only its own records; the admin approves,
generates and reconciles; the API rows of CONTRACT.md."""

from datetime import date

import pytest
from sqlalchemy import select

from assist.enums import BatchStatus, StipendStatus
from assist.extensions import db
from assist.stipends.models import StipendBatch, StipendRecord
from tests import factories
from tests.conftest import PASSWORD, csrf_token


@pytest.fixture
def records(world):
    """The sponsor's record of September 2026 (approved) and October 2026 (draft); the other sponsor's September one."""
    market = factories.build_market(world)
    own = factories.stipend(market.agreement, "2026-09")
    draft = factories.stipend(market.agreement, "2026-10", batch="draft")
    other_agreement = factories.stipend(market.agreement, "2026-08")
    other_agreement.sponsor_id = market.other_org.id  # a record the second sponsor pays
    db.session.commit()
    return own, draft, other_agreement


def _token(client, username):
    answer = client.post("/api/v1/tokens", json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {answer.get_json()['token']}"}


def test_api_lists_a_month_in_scope(client, world, records):
    own, _draft, other = records
    for username, expected in (("sponsor", [own.id]), ("sponsor_b", []), ("cw_a", [own.id]), ("cw_b", [])):
        answer = client.get("/api/v1/stipends?month=2026-09", headers=_token(client, username))
        assert answer.status_code == 200, answer.get_json()
        assert [r["id"] for r in answer.get_json()["items"]] == expected, username
    answer = client.get("/api/v1/stipends?month=2026-08", headers=_token(client, "sponsor_b"))
    item = answer.get_json()["items"][0]
    assert item["id"] == other.id
    assert {"id", "agreement_id", "month", "days", "amount_fen", "status"} <= set(item)
    assert client.get("/api/v1/stipends?month=2026-13", headers=_token(client, "admin")).status_code == 422


def test_api_payment_and_approval(client, world, records):
    own, draft, other = records
    sponsor, admin = _token(client, "sponsor"), _token(client, "admin")
    body = {"paid_on": "2026-10-12", "reference": "HZB-API-1"}
    assert client.post(f"/api/v1/stipends/{other.id}/payment", json=body, headers=sponsor).status_code == 404
    answer = client.post(f"/api/v1/stipends/{draft.id}/payment", json=body, headers=sponsor)
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "conflict"
    answer = client.post(f"/api/v1/stipends/{own.id}/payment", json=body, headers=sponsor)
    assert answer.status_code == 200 and answer.get_json()["status"] == "paid"
    assert client.post(f"/api/v1/stipends/{own.id}/payment", json=body, headers=admin).status_code == 409
    bad = client.post(
        f"/api/v1/stipends/{other.id}/payment", json={"paid_on": "2099-01-01", "reference": "x"}, headers=admin
    )
    assert bad.status_code == 422 and "paid_on" in bad.get_json()["error"]["fields"]
    answer = client.post("/api/v1/stipend-batches/2026-10/approve", headers=admin)
    assert answer.status_code == 200 and answer.get_json() == {"month": "2026-10", "status": "approved"}
    assert client.post("/api/v1/stipend-batches/2026-10/approve", headers=admin).status_code == 409
    assert client.post("/api/v1/stipend-batches/2031-01/approve", headers=admin).status_code == 404
    assert client.post("/api/v1/stipend-batches/nonsense/approve", headers=admin).status_code == 404
    assert client.post("/api/v1/stipend-batches/2026-10/approve", headers=sponsor).status_code == 403


def test_sponsor_page_lists_and_confirms_its_own(client, auth, world, records):
    own, draft, other = records
    auth.login("sponsor")
    html = client.get("/stipends/").get_data(as_text=True)
    assert f"ST{own.id}" in html and f"ST{draft.id}" in html and f"ST{other.id}" not in html
    token = csrf_token(client, "/stipends/")
    answer = client.post(
        f"/stipends/{other.id}/pay", data={"csrf_token": token, "paid_on": "2026-10-10", "reference": "X"}
    )
    assert answer.status_code == 404
    answer = client.post(
        f"/stipends/{own.id}/pay", data={"csrf_token": token, "paid_on": "not a date", "reference": ""}
    )
    assert answer.status_code == 422 and db.session.get(StipendRecord, own.id).status == StipendStatus.UNPAID
    answer = client.post(
        f"/stipends/{own.id}/pay", data={"csrf_token": token, "paid_on": "2026-10-10", "reference": "HZB-PAGE"}
    )
    assert answer.status_code == 302
    db.session.expire_all()
    assert db.session.get(StipendRecord, own.id).reference == "HZB-PAGE"
    # bulk: the draft month cannot be paid, nothing changes
    answer = client.post(
        "/stipends/pay", data={"csrf_token": token, "paid_on": "2026-11-10", "reference": "B", "ids": [str(draft.id)]}
    )
    assert answer.status_code == 302
    db.session.expire_all()
    assert db.session.get(StipendRecord, draft.id).status == StipendStatus.UNPAID
    answer = client.post(
        "/stipends/pay", data={"csrf_token": token, "paid_on": "2026-11-10", "reference": "B", "ids": [str(other.id)]}
    )
    assert answer.status_code == 404


def test_admin_batches_approve_and_bank_import(client, auth, world, records):
    own, draft, _other = records
    auth.login("admin")
    html = client.get("/stipends/batches").get_data(as_text=True)
    assert "2026-09" in html and "2026-10" in html
    token = csrf_token(client, "/stipends/batches")
    assert client.get("/stipends/batches/2026-10?status=unpaid&sponsor=1&area=abc").status_code == 200
    assert client.get("/stipends/batches/2031-01").status_code == 404
    answer = client.post("/stipends/batches/2026-10/approve", data={"csrf_token": token})
    assert answer.status_code == 302
    assert db.session.scalar(select(StipendBatch.status).where(StipendBatch.month == "2026-10")) == BatchStatus.APPROVED
    assert client.post("/stipends/batches/generate", data={"csrf_token": token, "month": "May"}).status_code == 422
    answer = client.post("/stipends/batches/generate", data={"csrf_token": token, "month": "2099-01"})
    assert answer.status_code == 422
    sample = client.get("/stipends/bank-import/sample.csv")
    assert sample.data.startswith(b"\xef\xbb\xbf") and "交易日期" in sample.get_data(as_text=True)
    statement = f"交易日期,金额,摘要,对方户名\r\n2026-11-05,500.00,ST{own.id},平湖爱心科技有限公司\r\n2026-11-05,1.00,<script>x</script>,y\r\n"
    answer = client.post(
        "/stipends/bank-import",
        data={"csrf_token": token, "file": (__import__("io").BytesIO(statement.encode("gb18030")), "s.csv")},
        content_type="multipart/form-data",
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "<script>x" not in html and "&lt;script&gt;" in html
    db.session.expire_all()
    assert db.session.get(StipendRecord, own.id).paid_on == date(2026, 11, 5)
    assert client.post("/stipends/bank-import", data={"csrf_token": token}).status_code == 422


def test_caseworker_reads_without_pay_buttons(client, auth, world, records):
    own, _draft, _other = records
    auth.login("cw_a")
    html = client.get("/stipends/?overdue=y&month=zz").get_data(as_text=True)
    assert "/pay" not in html
    html = client.get("/stipends/").get_data(as_text=True)
    assert f"ST{own.id}" in html and 'action="/stipends/pay"' not in html
