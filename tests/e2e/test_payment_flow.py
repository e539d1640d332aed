"""A month's stipends in real Chromium: the admin approves the batch, the sponsor confirms its payment, and the
dashboard shows the amount paid — with no console errors and no Content-Security-Policy violations."""

import re
from datetime import date

import pytest

from assist.extensions import db
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
def draft_batch(live_app):
    """April 2025 generated from a paper agreement of world.sponsor's organisation (500 yuan), its batch a draft."""
    with live_app.app_context():
        world = factories.build_world()
        market = factories.build_market(world)
        paper(world.cw_a, "330482001001", market.org, 50_000, start=date(2025, 1, 1))
        db.session.commit()
        assert generate_month("2025-04", today=TODAY).created == 1
        db.session.commit()
        db.session.remove()


def _login(page, username: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", factories.PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$"))


def _logout(page) -> None:
    page.click("#nav-user")  # the user's menu holds Log out
    page.locator("nav form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/login"))


def test_admin_approves_sponsor_pays_dashboard_shows_it(page, draft_batch):
    page.on("dialog", lambda dialog: dialog.accept())  # the data-confirm prompts

    # before approval the sponsor cannot pay: nothing on the dashboard is paid yet
    _login(page, "admin")
    assert page.locator("#paid-total").inner_text() == "0.00"
    page.goto("/stipends/batches/2025-04")
    page.locator("form[action$='/approve'] button").click()
    page.wait_for_url(re.compile(r"/stipends/batches/2025-04$"))
    assert "已审批" in page.locator("h1").inner_text()
    _logout(page)

    # the sponsor confirms its payment with the bank's transfer reference
    _login(page, "sponsor")
    page.goto("/stipends/?month=2025-04")
    row = page.locator("tr[id^=stipend-]")
    assert row.count() == 1
    row.locator("details summary").first.click()
    row.locator("input[name=reference]").fill("BANK-20250510-001")
    row.locator("form[action$='/pay'] button").click()
    page.wait_for_url(re.compile(r"/stipends/"))
    assert "BANK-20250510-001" in page.locator("tr[id^=stipend-]").inner_text()
    _logout(page)

    # the dashboard shows the amount paid
    _login(page, "admin")
    assert page.locator("#paid-total").inner_text() == "500.00"
    page.problems.assert_none()
