"""The report page and its downloads (XLSX, CSV, PDF), statements, certificates, the API row, the CLI and the
dashboard for every role."""

import csv
import io
import re
from io import BytesIO

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.conftest import PASSWORD
from tests.reports.conftest import HOSTILE, MONTH


def _pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return "".join(p.extract_text() for p in PdfReader(BytesIO(data)).pages).replace(" ", "").replace("\n", "")


def _login(auth, username="admin"):
    assert auth.login(username).status_code == 302


# the page and its files -----------------------------------------------------------------------------------------------


def test_page_shows_three_tables_with_totals(client, auth, ledger):
    _login(auth)
    html = client.get(f"/reports/monthly?month={MONTH}").get_data(as_text=True)
    assert 'id="total-records">5<' in html and 'id="total-amount">1,700.00<' in html
    for table in ("by-sponsor", "by-area", "by-colour"):
        assert f'id="{table}"' in html
    assert "当湖街道" in html and "钟埭街道" in html and "东湖社区" not in html  # rolled up to towns
    assert "&#34;" in html or "&quot;" in html  # the hostile name is escaped, not markup
    assert f"/reports/statement/{ledger.kind.id}?month={MONTH}" in html
    assert f"/reports/monthly.xlsx?month={MONTH}" in html


def test_page_defaults_to_last_month_and_shows_an_empty_state(client, auth, world):
    _login(auth)
    response = client.get("/reports/monthly")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "empty-state" in html


@pytest.mark.parametrize("bad", ["2025-13", "x" * 300, "2025-04'--", "２０２５-04"])
def test_a_bad_month_gets_a_message_beside_the_field(client, auth, world, bad):
    _login(auth)
    for url in ("/reports/monthly", "/reports/monthly.xlsx", "/reports/monthly.csv", "/reports/monthly.pdf"):
        response = client.get(url, query_string={"month": bad})
        assert response.status_code == 422, url
        assert 'id="error-month"' in response.get_data(as_text=True)


def test_caseworker_page_is_scoped(client, auth, ledger):
    _login(auth, "cw_b")
    html = client.get(f"/reports/monthly?month={MONTH}").get_data(as_text=True)
    assert 'id="total-records">2<' in html and "当湖街道" not in html


def test_xlsx_opens_with_a_sheet_per_breakdown_and_the_totals(client, auth, ledger):
    _login(auth)
    response = client.get(f"/reports/monthly.xlsx?month={MONTH}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="monthly-report-{MONTH}.xlsx"'
    book = load_workbook(BytesIO(response.data))
    assert book.sheetnames[:3] == ["按爱心单位", "按区域（镇街）", "按家庭颜色"]
    for name in book.sheetnames[:3]:
        sheet = book[name]
        assert sheet.freeze_panes == "A2"
        assert sheet["A1"].font.bold and sheet["C1"].value == "应发金额（元）"
        last = [c.value for c in sheet[sheet.max_row]]
        assert last[0] == "合计" and last[1] == 5
        assert float(last[2]) == 1700.00 and float(last[3]) == 800.00 and float(last[4]) == 900.00
        assert sheet.cell(2, 3).number_format == "#,##0.00"
        assert sheet[sheet.max_row][0].font.bold
    names = [row[0].value for row in book["按爱心单位"].iter_rows(min_row=2)]
    assert "'" + HOSTILE in names  # stored as text, never as a formula
    assert all(row[0].data_type == "s" for row in book["按爱心单位"].iter_rows(min_row=2))


def test_csv_has_a_bom_and_neutralises_formula_cells(client, auth, ledger):
    _login(auth)
    response = client.get(f"/reports/monthly.csv?month={MONTH}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    cells = [cell for row in rows for cell in row]
    assert "'" + HOSTILE in cells and "'+1 爱心" in cells and "'@SUM(A1:A9)" in cells
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)
    totals = [row for row in rows if row and row[0] == "合计"]
    assert len(totals) == 3 and all(row[1:] == ["5", "1700.00", "800.00", "900.00"] for row in totals)


def test_csv_neutralises_tab_and_carriage_return_and_minus():
    from assist.reports.exports import neutralise

    for hostile in ("-2+3", "\t=1", "\r=1", "=1", "+1", "@x"):
        assert neutralise(hostile) == "'" + hostile
    assert neutralise("爱心单位") == "爱心单位" and neutralise(12) == "12"


def test_pdf_has_chinese_headings_and_the_totals(client, auth, ledger):
    _login(auth)
    response = client.get(f"/reports/monthly.pdf?month={MONTH}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = _pdf_text(response.data)
    for needle in (
        "平湖市总工会",
        "虚拟岗位帮扶待遇月度发放报表",
        f"月份：{MONTH}",
        "生成时间",
        "按爱心单位",
        "按区域（镇街）",
        "按家庭颜色",
        "合计",
        "1,700.00",
        "800.00",
        "900.00",
        "当湖街道",
        "钟埭街道",
    ):
        assert needle in text, needle


# statements and certificates ------------------------------------------------------------------------------------------


def test_sponsor_downloads_its_own_statement_only(client, auth, ledger):
    _login(auth, "sponsor")
    response = client.get(f"/reports/statement/{ledger.kind.id}?month={MONTH}")
    assert response.status_code == 200
    text = _pdf_text(response.data)
    for needle in ("帮扶待遇对账单", ledger.kind.name, MONTH, "800.00", "TRX-1", "已支付", "捌佰元整"):
        assert needle in text, needle
    assert client.get(f"/reports/statement/{ledger.plus.id}?month={MONTH}").status_code == 404
    assert client.get(f"/reports/statement/{ledger.kind.id}?month=2025-99").status_code == 422


def test_admin_downloads_any_statement(client, auth, ledger):
    _login(auth)
    response = client.get(f"/reports/statement/{ledger.plus.id}?month={MONTH}")
    text = _pdf_text(response.data)
    assert "15/30" in text and "300.00" in text and "未支付" in text


def test_certificate_for_a_year_with_payments(client, auth, ledger):
    _login(auth, "sponsor")
    response = client.get(f"/reports/certificate/{ledger.kind.id}?year=2025")
    assert response.status_code == 200
    page = PdfReader(BytesIO(response.data)).pages[0]
    assert page.mediabox.width > page.mediabox.height  # landscape
    text = _pdf_text(response.data)
    for needle in ("爱心证书", ledger.kind.name, "2025年度", "虚拟岗位2个", "800.00", "捌佰元整", "平湖市总工会"):
        assert needle in text, needle
    assert client.get(f"/reports/certificate/{ledger.kind.id}?year=2024").status_code == 404
    assert client.get(f"/reports/certificate/{ledger.kind.id}?year=20x5").status_code == 422


def test_certificates_page_lists_the_paying_sponsors(client, auth, ledger):
    _login(auth)
    html = client.get("/reports/certificates?year=2025").get_data(as_text=True)
    assert f"/reports/certificate/{ledger.kind.id}?year=2025" in html
    assert f"/reports/certificate/{ledger.plus.id}" not in html
    assert client.get("/reports/certificates?year=abc").status_code == 422


# the API row ----------------------------------------------------------------------------------------------------------


def _token(client, username="admin") -> dict:
    answer = client.post("/api/v1/tokens", json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {answer.get_json()['token']}"}


def test_api_monthly_report(client, ledger):
    answer = client.get(f"/api/v1/reports/monthly?month={MONTH}", headers=_token(client))
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["totals"] == {"records": 5, "amount_fen": 170_000, "paid_fen": 80_000, "unpaid_fen": 90_000}
    assert {x["sponsor_id"] for x in body["by_sponsor"]} == {
        ledger.kind.id,
        ledger.hostile.id,
        ledger.plus.id,
        ledger.at.id,
    }
    assert [(x["area_code"], x["records"]) for x in body["by_area"]] == [("330482001", 3), ("330482002", 2)]
    assert sum(x["amount_fen"] for x in body["by_colour"]) == 170_000
    assert all(x["colour"] in ("red", "yellow", "green", None) for x in body["by_colour"])


@pytest.mark.parametrize("query", ["", "?month=2025-13", "?month=202504", "?month=" + "9" * 500])
def test_api_bad_month_is_422(client, world, query):
    answer = client.get(f"/api/v1/reports/monthly{query}", headers=_token(client))
    assert answer.status_code == 422
    assert "month" in answer.get_json()["error"]["fields"]


def test_api_is_for_the_admin_only(client, ledger):
    assert client.get(f"/api/v1/reports/monthly?month={MONTH}", headers=_token(client, "cw_city")).status_code == 403
    assert client.get(f"/api/v1/reports/monthly?month={MONTH}").status_code == 401


# the command line -----------------------------------------------------------------------------------------------------


def test_cli_writes_each_format(runner, ledger, tmp_path):
    for fmt in ("xlsx", "csv", "pdf"):
        out = tmp_path / f"report.{fmt}"
        result = runner.invoke(args=["report", "monthly", "--month", MONTH, "--format", fmt, "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert "5 records, 1,700.00 yuan" in result.output
        data = out.read_bytes()
        if fmt == "xlsx":
            assert [c.value for c in load_workbook(BytesIO(data))["按爱心单位"][6]][:2] == ["合计", 5]
        elif fmt == "csv":
            assert data.startswith(b"\xef\xbb\xbf") and b"1700.00" in data
        else:
            assert "1,700.00" in _pdf_text(data)


def test_cli_refuses_bad_input(runner, world, tmp_path):
    out = tmp_path / "r.pdf"
    result = runner.invoke(args=["report", "monthly", "--month", "2025-13", "--format", "pdf", "--out", str(out)])
    assert result.exit_code != 0 and "YYYY-MM" in result.output and not out.exists()
    result = runner.invoke(args=["report", "monthly", "--month", MONTH, "--format", "doc", "--out", str(out)])
    assert result.exit_code != 0


# the dashboard --------------------------------------------------------------------------------------------------------


def _number(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', html)
    assert match, element_id
    return match.group(1).strip()


@pytest.mark.parametrize("username", ["admin", "cw_a", "cw_b"])
def test_dashboard_renders_for_staff_with_data(client, auth, ledger, username):
    _login(auth, username)
    html = client.get("/").get_data(as_text=True)
    expected_paid = {"admin": "800.00", "cw_a": "800.00", "cw_b": "0.00"}[username]
    assert _number(html, "paid-total") == expected_paid
    for chart in ("chart-posts",):
        assert f'id="{chart}"' in html and f'id="{chart}-table"' in html
    assert "<script>" not in html  # CSP: the charts read data attributes, no inline script
    assert int(_number(html, "posts-active")) == {"admin": 5, "cw_a": 3, "cw_b": 2}[username]


def test_dashboard_charts_and_tables_agree(client, auth, ledger):
    _login(auth)
    html = client.get("/").get_data(as_text=True)
    for chart in ("chart-colour", "chart-type", "chart-changes", "chart-posts"):
        assert f'id="{chart}"' in html and f'id="{chart}-table"' in html, chart
    values = re.search(r'id="chart-posts"[^>]*data-values=\'([^\']*)\'', html, re.S)
    assert values and sum(int(v) for v in values.group(1).strip("[]").split(",")) == 7


@pytest.mark.parametrize("username", ["admin", "cw_a"])
def test_dashboard_empty_states(client, auth, world, username):
    _login(auth, username)
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _number(html, "paid-total") == "0.00" and _number(html, "posts-created") == "0"
    for chart in ("chart-posts", "chart-payouts"):  # the world has families but no posts or stipends yet
        assert f'id="{chart}"' not in html, chart  # no empty charts: a message instead
    assert html.count("empty-state") == 2
    assert 'id="chart-colour"' in html


def test_sponsor_landing_summarises_claims_agreements_payments(client, auth, ledger):
    _login(auth, "sponsor")
    html = client.get("/").get_data(as_text=True)
    assert _number(html, "sponsor-claims") == "1"  # build_market's claimed post
    assert _number(html, "sponsor-posts") == "2"
    assert _number(html, "sponsor-paid") == "800.00"
    assert _number(html, "sponsor-unpaid") == "1,600.00"  # March (full: 800) and May (800)
    assert f"/reports/statement/{ledger.kind.id}?month={MONTH}" in html
    assert f"/reports/certificate/{ledger.kind.id}?year=2025" in html


@pytest.mark.parametrize("username", ["sponsor_b", "provider"])
def test_other_landings_render_without_data(client, auth, world, username):
    from tests import factories

    factories.build_market(world)
    _login(auth, username)
    response = client.get("/")
    assert response.status_code == 200
