"""The sponsor's path in real Chromium: a company registers, the admin approves it, it claims a post from the market,
the caseworker drafts and signs the agreement, and the sponsor downloads the PDF — with no console errors and no
Content-Security-Policy violations on the way."""

import re

import pytest

from assist.db_types import local_today
from assist.extensions import db
from tests import factories
from tests.e2e.conftest import CHROMIUM

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]
pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")


@pytest.fixture
def open_post(live_app):
    """The world of the route tests and one open post in 当湖街道 (cw_a's town), committed for the live server."""
    with live_app.app_context():
        world = factories.build_world()
        post = factories.post(world.cw_a, world.family_a, title="社区电话巡访员")
        db.session.commit()
        post_id = post.id
        db.session.remove()
    return post_id


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


def test_sponsor_registers_claims_and_downloads_the_agreement(page, open_post):
    problems = page.problems
    page.on("dialog", lambda dialog: dialog.accept())  # the data-confirm prompts

    # a company registers itself from the login page
    page.goto("/login")
    page.click("#register-link")
    page.wait_for_url(re.compile(r"/sponsors/register$"))
    page.fill("#name", "平湖浏览器测试有限公司")
    page.fill("#credit_code", factories.credit_code(7_777))
    page.fill("#contact_name", "吴经理")
    page.fill("#phone", "0573-85333333")
    page.select_option("#areas", ["330482001"])
    page.fill("#pledge_posts", "2")
    page.fill("#pledge_budget_fen", "2000")
    page.fill("#username", "e2e_sponsor")
    page.fill("#password", factories.PASSWORD)
    page.locator("#register-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/sponsors/registered$"))
    assert "等待审核" in page.locator("#registered").inner_text()

    # not approved yet: the banner, and the market can be looked at
    _login(page, "e2e_sponsor")
    assert page.locator("#sponsor-pending").is_visible()
    _logout(page)

    # the admin approves it
    _login(page, "admin")
    page.goto("/sponsors/?status=pending")
    page.locator("#sponsors a", has_text="平湖浏览器测试有限公司").click()
    page.wait_for_url(re.compile(r"/sponsors/\d+$"))
    page.click("#approve")
    page.wait_for_url(re.compile(r"/sponsors/\d+$"))
    assert page.locator("#sponsor-status").inner_text() == "已通过"
    _logout(page)

    # the sponsor claims the post from the market
    _login(page, "e2e_sponsor")
    assert page.locator("#sponsor-pending").count() == 0
    page.click("#nav-market")
    page.wait_for_url(re.compile(r"/portal/market"))
    card = page.locator(f".market-post[data-post-id='{open_post}']")
    assert "您的意向区域" in card.inner_text() and "在您的预算内" in card.inner_text()
    assert "张伟" not in page.locator("main").inner_text()  # nobody is named in the market
    card.locator("a").first.click()
    page.wait_for_url(re.compile(rf"/portal/market/{open_post}$"))
    page.click("#claim")
    page.wait_for_url(re.compile(r"/portal/claims$"))
    assert "社区电话巡访员" in page.locator("#claims").inner_text()
    _logout(page)

    # the caseworker drafts the agreement and records the signing
    _login(page, "cw_a")
    page.goto(f"/posts/{open_post}")
    page.click("#draft-agreement")
    page.wait_for_url(re.compile(rf"/agreements/new/{open_post}$"))
    page.fill("#start_on", local_today().replace(day=1).isoformat())
    page.locator("#agreement-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/agreements/\d+$"))
    agreement_url = page.url
    page.fill("#signed_on", local_today().isoformat())
    page.click("#sign")
    page.wait_for_url(agreement_url)
    assert page.locator("#agreement-status").inner_text() == "履行中"
    page.goto(f"/posts/{open_post}")
    assert page.locator("#post-status").inner_text() == "有效"
    _logout(page)

    # the sponsor now sees the member and downloads the PDF
    _login(page, "e2e_sponsor")
    page.click("#nav-mine")
    page.click("#nav-agreements")
    page.wait_for_url(re.compile(r"/portal/agreements$"))
    page.locator("#my-agreements a").first.click()
    page.wait_for_url(re.compile(r"/portal/agreements/\d+$"))
    assert "李芳" in page.locator("#party-b").inner_text()
    with page.expect_download() as info:
        page.click("#pdf-link")
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as fh:
        assert fh.read(5) == b"%PDF-"

    problems.assert_none()
