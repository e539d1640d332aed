"""The admin's dashboard in real Chromium: every chart drawn by Chart.js from its data attributes, each chart's
numbers a click away, the paid amount on the card, the report's downloads — with no CSP violations."""

import re
from datetime import date

import pytest
from sqlalchemy import update

from assist.enums import StipendStatus
from assist.extensions import db
from assist.stipends.models import StipendRecord
from assist.stipends.operations import generate_month
from tests import factories
from tests.e2e.conftest import CHROMIUM
from tests.reports.conftest import TODAY, paper

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"browser tests need Chromium at {CHROMIUM}"),
]
pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")


@pytest.fixture
def ledger(live_app):
    with live_app.app_context():
        world = factories.build_world()
        market = factories.build_market(world)
        paper(world.cw_a, "330482001001", market.org, 50_000, start=date(2025, 1, 1))
        db.session.commit()
        generate_month("2025-04", today=TODAY)
        db.session.execute(update(StipendRecord).values(status=StipendStatus.PAID.value, paid_on=date(2025, 5, 9)))
        db.session.commit()
        db.session.remove()


def test_admin_dashboard_draws_charts_with_their_numbers(page, ledger):
    page.goto("/login")
    page.fill("#username", "admin")
    page.fill("#password", factories.PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.locator("#paid-total").inner_text() == "500.00"
    for chart in ("chart-colour", "chart-type", "chart-changes", "chart-posts"):
        drawn = page.evaluate(f"() => !!Chart.getChart(document.getElementById('{chart}'))")
        assert drawn, chart
        table = page.locator(f"#{chart}-table")
        assert not table.is_visible()
        page.locator(f"#{chart}-numbers summary").click()
        assert table.is_visible()
    page.goto("/reports/monthly?month=2025-04")
    assert page.locator("#total-amount").inner_text() == "500.00"
    with page.expect_download() as download:
        page.click("#download-xlsx")
    assert download.value.suggested_filename == "monthly-report-2025-04.xlsx"
    page.problems.assert_none()
