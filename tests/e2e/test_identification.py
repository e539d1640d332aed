"""Active identification in real Chromium: upload a worker file with a few bad rows, watch the progress bar finish,
download the rejected rows, and open a family file from the top candidate — with no console errors and no
Content-Security-Policy violations on the way."""

import io
import re

import pytest

from assist.db_types import local_today
from assist.extensions import db
from assist.identification import samples
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
def caseworker(live_app):
    """Town 当湖街道 with one community, and its caseworker; imports run in a thread, in small batches."""
    live_app.config.update(IMPORT_BACKGROUND="thread", IMPORT_BATCH=100)
    with live_app.app_context():
        factories.create_area(None, "330482", "平湖市")
        factories.create_area(None, "330482001", "当湖街道", "330482")
        factories.create_area(None, "330482001001", "东湖社区", "330482001")
        factories.user("cw_import", "caseworker", ["330482001"], display_name="导入测试")
        db.session.commit()
        db.session.remove()
    return "cw_import"


def test_upload_watch_download_rejects_and_file_a_candidate(page, caseworker):
    problems = page.problems
    rows, spoilt = samples.with_bad_rows(samples.worker_rows(1500, areas=("330482001001",), extras=False))
    content = samples.to_csv(rows, headers=samples.STANDARD_HEADERS)

    page.goto("/login")
    page.fill("#username", caseworker)
    page.fill("#password", factories.PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/$|/families/?$"))

    # upload
    page.goto("/identification/imports/new")
    page.set_input_files("#file", files=[{"name": "职工名单.csv", "mimeType": "text/csv", "buffer": content}])
    page.select_option("#source", "civil_affairs")
    page.locator("#upload-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/identification/imports/\d+$"))

    # the bar follows the background import to the end
    assert page.locator("#import-progress .progress").is_visible()
    assert int(page.locator("#import-bar").get_attribute("data-progress")) < 100  # still running when the page opens
    page.locator("#import-done").wait_for(state="visible", timeout=60_000)
    assert page.locator("#import-bar").get_attribute("data-progress") == "100"
    assert page.locator('[data-count="rejected"]').inner_text() == str(len(spoilt))
    assert page.locator('[data-count="rows"]').inner_text() == "1500"
    shown = {int(r) for r in page.locator("#rejects tbody tr td:first-child").all_inner_texts()}
    assert shown == set(spoilt)

    # the rejected rows as a spreadsheet
    with page.expect_download() as info:
        page.click("#rejects-link")
    from openpyxl import load_workbook

    path = info.value.path()
    lines = list(load_workbook(io.BytesIO(path.read_bytes())).active.iter_rows(values_only=True))
    assert sorted(line[0] for line in lines[1:]) == sorted(spoilt)

    # the queue, highest score first; work the top candidate to a family file
    page.goto("/identification/candidates")
    scores = [int(s) for s in page.locator("#candidates tbody tr td:first-child").all_inner_texts()]
    assert scores and scores == sorted(scores, reverse=True)
    name = page.locator("#candidates tbody tr").first.locator("td").nth(1).locator("a").inner_text()
    page.locator("#candidates tbody tr").first.locator("td").nth(1).locator("a").click()
    page.wait_for_url(re.compile(r"/identification/candidates/\d+$"))
    page.click("#assign-button")
    page.wait_for_url(re.compile(r"/identification/candidates/\d+$"))
    page.fill("#visited_on", local_today().isoformat())
    page.fill("#visit_notes", "入户核实，情况属实")
    page.locator("#visit-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/identification/candidates/\d+$"))
    page.click("#file-link")
    page.wait_for_url(re.compile(r"/file$"))
    assert page.input_value("#head_name") == name
    page.select_option("#hardship_category", "deep")
    page.fill("#address", "东湖社区18号")
    if page.input_value("#head_health") == "disabled":
        page.fill("#head_disability_grade", "2")  # the grade is learnt on the visit, not from the import
    page.locator("#family-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/families/\d+$"))
    assert page.locator("h1").inner_text().startswith(name)
    assert page.locator("#family-colour .badge").is_visible()

    problems.assert_none()
