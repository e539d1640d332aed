"""Fixtures for browser tests: the app on a live local server over the per-test database, and a real Chromium page
that records console errors, uncaught exceptions and Content-Security-Policy violations."""

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from assist import create_app
from assist.extensions import db

#: Debian's Chromium; Playwright's own browsers cannot be downloaded here
CHROMIUM = Path(os.environ.get("ASSIST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
#: a page script cannot read the CSP report, so every violation is also pushed where the test can read it
RECORD_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || ""));
});
"""


@pytest.fixture
def live_app(database_url):
    """The app on the per-test database, used both to seed data (in an app context) and to serve the browser."""
    app = create_app("test", SQLALCHEMY_DATABASE_URI=database_url, WTF_CSRF_SSL_STRICT=False)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def live_server(live_app):
    """The base URL of the app served by werkzeug on 127.0.0.1 (a free port) in a background thread."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class PageProblems:
    """Console errors and uncaught page exceptions seen while a test drove the page."""

    def __init__(self, page):
        self.page = page
        self.console: list[str] = []
        self.exceptions: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.exceptions.append(str(exc)))

    def _on_console(self, message) -> None:
        if message.type == "error":
            self.console.append(f"{message.text} ({message.location.get('url', '')})")

    def csp_violations(self) -> list[str]:
        return self.page.evaluate("window.__cspViolations || []")

    def assert_none(self) -> None:
        csp = self.csp_violations()
        assert not csp, f"CSP violations: {csp}"
        assert not self.console, f"console errors: {self.console}"
        assert not self.exceptions, f"uncaught page errors: {self.exceptions}"


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (its own cookies) and page, pointed at the live server."""
    context = browser.new_context(base_url=live_server, locale="zh-CN")
    context.set_default_timeout(10_000)
    context.add_init_script(RECORD_CSP)
    page = context.new_page()
    page.problems = PageProblems(page)
    yield page
    context.close()
