"""The reports of a batch name the supplementary records (补发) it pays: the operation, the page, XLSX, CSV, PDF, the
API, the sponsor's statement; a month's totals are those of its batch."""

import csv
import io
from io import BytesIO

import pytest
from openpyxl import load_workbook

from assist.extensions import db
from assist.reports import operations as reports
from assist.stipends.operations import generate_due
from tests.conftest import PASSWORD
from tests.reports.test_routes import _pdf_text
from tests.stipends import late as scenario
from tests.stipends.late import TODAY


@pytest.fixture
def late(world):
    built = scenario.build(world)
    generate_due(today=TODAY)
    db.session.commit()
    return built


def test_the_paying_batch_counts_and_lists_its_late_records(world, late):
    november = reports.monthly_report("2026-11", world.admin)
    assert november.totals["records"] == 2 and november.totals["amount_fen"] == 15_000 + 30_000
    assert [(x.month, x.amount_fen, x.sponsor_id) for x in november.supplementary] == [
        ("2026-09", 15_000, late.market.other_org.id),
        ("2026-10", 30_000, late.market.other_org.id),
    ]
    assert [(x.key, x.amount_fen) for x in november.by_sponsor] == [(late.market.other_org.id, 45_000)]
    # the approved months keep exactly what they approved
    for month in ("2026-09", "2026-10"):
        report = reports.monthly_report(month, world.admin)
        assert (report.totals["records"], report.totals["amount_fen"], report.supplementary) == (1, 50_000, [])
    # scope: the other town's caseworker and the other sponsor see none of them
    assert reports.monthly_report("2026-11", world.cw_a).supplementary == []
    assert reports.monthly_report("2026-11", world.cw_b).totals["amount_fen"] == 45_000
    report, lines = reports.sponsor_statement(late.market.other_org, "2026-11")
    assert [(x.month, x.amount_fen) for x in lines] == [("2026-09", 15_000), ("2026-10", 30_000)]
    assert report.totals["amount_fen"] == 45_000


def test_page_and_files_mark_the_late_records(client, auth, world, late):
    assert auth.login("admin").status_code == 302
    html = client.get("/reports/monthly?month=2026-11").get_data(as_text=True)
    assert 'id="supplementary"' in html and "补发 2026-09" in html and "补发 2026-10" in html
    assert 'id="supplementary"' not in client.get("/reports/monthly?month=2026-10").get_data(as_text=True)
    book = load_workbook(BytesIO(client.get("/reports/monthly.xlsx?month=2026-11").data))
    rows = [[c.value for c in row] for row in book["补发"].iter_rows(min_row=2)]
    assert [(r[1], float(r[4])) for r in rows] == [("补发 2026-09", 150.0), ("补发 2026-10", 300.0)]
    data = client.get("/reports/monthly.csv?month=2026-11").data.decode("utf-8-sig")
    cells = list(csv.reader(io.StringIO(data)))
    assert ["补发记录（以前月份）"] in cells
    assert [row[1] for row in cells if row and row[0].startswith("ST")] == ["补发 2026-09", "补发 2026-10"]
    text = _pdf_text(client.get("/reports/monthly.pdf?month=2026-11").data)
    assert "补发记录" in text and "补发2026-09" in text and "补发2026-10" in text
    statement = _pdf_text(client.get(f"/reports/statement/{late.market.other_org.id}?month=2026-11").data)
    assert "补发2026-09" in statement and "450.00" in statement


def test_api_monthly_report_lists_the_late_records(client, world, late):
    answer = client.post("/api/v1/tokens", json={"username": "admin", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {answer.get_json()['token']}"}
    body = client.get("/api/v1/reports/monthly?month=2026-11", headers=headers).get_json()
    assert body["totals"]["amount_fen"] == 45_000
    assert [(x["month"], x["amount_fen"], x["status"]) for x in body["supplementary"]] == [
        ("2026-09", 15_000, "unpaid"),
        ("2026-10", 30_000, "unpaid"),
    ]
    body = client.get("/api/v1/reports/monthly?month=2026-09", headers=headers).get_json()
    assert body["supplementary"] == [] and body["totals"]["amount_fen"] == 50_000
