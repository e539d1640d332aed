"""A caseworker's first visit in real Chromium: log in, open a family file, add a member, assess, read the
explanation, switch to English — with no console errors and no Content-Security-Policy violations on the way."""

import re

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

COLOUR = re.compile(r"\bcolour-(red|yellow|green)\b")


@pytest.fixture
def caseworker(live_app):
    """Areas and a caseworker for town 当湖街道, committed so the live server sees them."""
    with live_app.app_context():
        factories.create_area(None, "330482", "平湖市")
        factories.create_area(None, "330482001", "当湖街道", "330482")
        factories.create_area(None, "330482001001", "东湖社区", "330482001")
        factories.user("cw_e2e", "caseworker", ["330482001"], display_name="浏览器测试")
        db.session.commit()
        db.session.remove()
    return "cw_e2e"


def _colour_of(locator) -> str:
    match = COLOUR.search(locator.get_attribute("class") or "")
    assert match, f"no colour class on {locator}"
    return match.group(1)


def test_caseworker_files_assesses_and_reads_in_english(page, caseworker):
    problems = page.problems

    # log in (the page is Chinese by default)
    page.goto("/families/")
    assert "/login" in page.url
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.fill("#username", caseworker)
    page.fill("#password", factories.PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$|/families/?$"))

    # open a family file: head of household who has lost all work ability
    page.goto("/families/new")
    page.fill("#head_name", "陈建国")
    page.fill("#head_id_number", factories.id_number())
    page.select_option("#head_work_ability", "none")
    page.select_option("#area_id", page.locator("#area_id option", has_text="东湖社区").get_attribute("value"))
    page.select_option("#hardship_category", "deep")
    page.fill("#phone", "13912345678")
    page.fill("#address", "东湖社区8号")
    page.locator("#family-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/families/\d+$"))
    family_url = page.url
    assert page.locator("h1").inner_text().startswith("陈建国")
    assert page.locator("#family-colour .badge").is_visible()  # the intake assessment already gave a colour

    # add a member with a serious illness
    page.click("#add-member-link")
    page.wait_for_url(re.compile(r"/members/new$"))
    page.select_option("#relation", "spouse")
    page.fill("#name", "李秀英")
    page.fill("#id_number", factories.id_number())
    page.select_option("#health", "serious_illness")
    page.fill("#illness", "尿毒症")
    page.select_option("#work_ability", "none")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(family_url)
    assert page.locator("#members tbody tr").count() == 2
    assert "李秀英" in page.locator("#members").inner_text()

    # run an assessment and read its explanation
    page.click("#assess-link")
    page.wait_for_url(re.compile(r"/assessments/new$"))
    page.click("#run-assessment")
    page.wait_for_url(re.compile(r"/assessments/\d+$"))
    score = int(page.locator("#assessment-score").inner_text())
    assert 0 <= score <= 100
    colour = _colour_of(page.locator(".badge[class*=colour-]").first)
    rows = page.locator("#explanation tbody tr")
    assert rows.count() >= 5  # one row per factor, with its points and why
    assert "尿毒症" not in page.locator("#explanation").inner_text()  # explanations carry figures, not diagnoses
    points = [int(rows.nth(i).locator("td").nth(1).inner_text()) for i in range(rows.count())]
    assert score == min(100, sum(points))  # the score is the sum of the factors' points, capped at 100
    assert any(p > 0 for p in points)
    assert "人均收入" in page.locator("#explanation").inner_text()  # still the Chinese page

    # the family page shows the same colour badge
    page.goto(family_url)
    assert _colour_of(page.locator("#family-colour .badge")) == colour

    # switch to English on the assessment page and read English text
    page.go_back()
    page.wait_for_url(re.compile(r"/assessments/\d+$"))
    page.click("#locale-en")
    page.wait_for_url(re.compile(r"/assessments/\d+$"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert "How the score was made" in page.locator("main").inner_text()
    assert page.locator("#explanation thead").inner_text().split()[0] == "Factor"
    assert "Per-capita income" in page.locator("#explanation").inner_text()
    assert "Messages" in page.locator("nav").inner_text()
    assert int(page.locator("#assessment-score").inner_text()) == score

    problems.assert_none()
