"""The navigation as each role meets it in real Chromium: on a 1024 px laptop it fits one line in Chinese and in
English (Messages, the profile, Log out and the language switch on screen), and on a 390 px phone it collapses
behind the menu button and opens to every group."""

import os

import pytest

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

#: a display name as long as a real one may be, so the profile item is not measured at its narrowest
NAMES = {"admin": "市总工会管理员", "caseworker": "当湖街道帮扶干部", "sponsor": "爱心单位联系人"}


@pytest.fixture
def users(live_app):
    with live_app.app_context():
        factories.create_area(None, "330482", "平湖市")
        factories.create_area(None, "330482001", "当湖街道", "330482")
        admin = factories.user("nav_admin", "admin", display_name=NAMES["admin"])
        factories.user("nav_cw", "caseworker", ["330482001"], display_name=NAMES["caseworker"])
        factories.sponsor(name="平湖市爱心科技有限公司", username="nav_sponsor", admin=admin)
        db.session.commit()
        db.session.remove()
    return {"admin": "nav_admin", "caseworker": "nav_cw", "sponsor": "nav_sponsor"}


def _log_in(page, username):
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", factories.PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()


def _snapshot(page, name: str) -> None:
    """With ASSIST_SCREENSHOTS=DIR, keep what the test saw as DIR/name.png (for a person to look at)."""
    folder = os.environ.get("ASSIST_SCREENSHOTS")
    if folder:
        os.makedirs(folder, exist_ok=True)
        page.screenshot(path=os.path.join(folder, f"{name}.png"))


def _overflowing(page) -> list[str]:
    """The navigation's top-level items that are off-screen, on a line of their own, or wrapped onto two lines (taller
    than the shortest item)."""
    return page.evaluate(
        """() => {
          const bar = document.querySelector('nav.navbar');
          const width = document.documentElement.clientWidth;
          const items = [...bar.querySelectorAll('.navbar-nav > .nav-item, .locale-switch')].map(el => [el, el.getBoundingClientRect()]);
          const top = Math.min(...items.map(([el, r]) => r.top));
          const height = Math.min(...items.filter(([el]) => el.matches('.nav-item')).map(([el, r]) => r.height));
          const out = [];
          for (const [el, r] of items) {
            if (r.right > width + 0.5 || r.top > top + height / 2 || r.height > height * 1.5)
              out.push(el.innerText.trim() + ' @' + Math.round(r.left) + ',' + Math.round(r.top) + ' h' + Math.round(r.height));
          }
          if (document.documentElement.scrollWidth > width) out.push('page scrolls sideways: ' + document.documentElement.scrollWidth);
          return out;
        }"""
    )


@pytest.mark.parametrize("role", ["admin", "caseworker", "sponsor"])
@pytest.mark.parametrize("locale", ["zh", "en"])
def test_the_navigation_fits_one_line_on_a_laptop(page, users, role, locale):
    page.set_viewport_size({"width": 1024, "height": 768})
    _log_in(page, users[role])
    if locale == "en":
        page.click("#locale-en")
        page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == ("en" if locale == "en" else "zh-CN")
    _snapshot(page, f"nav-1024-{role}-{locale}")
    assert _overflowing(page) == []
    # every group opens, and what it holds is reachable
    for toggle in page.locator("nav.navbar .dropdown-toggle").all():
        toggle.click()
        menu = toggle.locator("xpath=following-sibling::ul")
        assert menu.is_visible()
        assert menu.locator("a.dropdown-item, button.dropdown-item").count() >= 1
        page.keyboard.press("Escape")
    page.problems.assert_none()


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_the_navigation_collapses_on_a_phone_and_opens_to_every_group(page, users, locale):
    page.set_viewport_size({"width": 390, "height": 844})
    _log_in(page, users["admin"])
    if locale == "en":
        page.click("#locale-en")
        page.wait_for_load_state()
    toggler = page.locator("nav.navbar .navbar-toggler")
    assert toggler.is_visible()
    assert not page.locator("#nav").is_visible()
    toggler.click()
    page.locator("#nav.show").wait_for(state="visible")  # the menu has finished opening
    _snapshot(page, f"nav-390-admin-{locale}")
    groups = page.locator("#nav .dropdown-toggle")
    assert groups.count() >= 4
    groups.first.click()
    assert groups.first.locator("xpath=following-sibling::ul").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    page.problems.assert_none()
