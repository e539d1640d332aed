"""The crawl: every page a user can reach answers without a server error.

A small demo city (the project's own generator) with data in every state — a stipend batch of more than one page, a
month paid late (an agreement entered after its month's batch was approved), sponsors approved, pending, rejected and
suspended, an import with rejected rows, a failed payment — is crawled as each role (admin, a caseworker of one town, an
approved sponsor, a sponsor awaiting approval, a service provider), in Chinese and in English: log in through the form,
switch language through /locale/<lang>, then follow every same-site link (GET only) from the landing page on. Every
list with a pager is also asked for with hostile-but-harmless query strings. Every 5xx is collected with its URL, role
and language, and all are reported at once.

To bound the time, at most ``PER_SHAPE`` URLs are visited per endpoint and query-argument shape (``/families/1`` and
``/families/2`` are one shape; ``/families/?page=2`` another).
"""

import re
import shutil
from dataclasses import dataclass, field
from datetime import date
from html import unescape
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from sqlalchemy import func, select
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from assist import create_app
from assist.extensions import db
from tests.conftest import POSTGRES, ROOT, _empty_postgres, csrf_token

FAMILIES = 130  # enough for a month of more than one page of stipend records (50 a page)
PER_SHAPE = 3
LANGUAGES = ("zh", "en")
#: (role, username): the demo's logins, and a provider added here (the demo has none)
ROLES = (
    ("admin", "admin"),
    ("caseworker", "cw01"),
    ("sponsor", "sponsor01"),
    ("sponsor pending", "sponsor_pending"),
    ("provider", "provider"),
)
#: links never followed: logging out ends the crawl's session, a locale link switches the crawl's language, the
#: stylesheets and scripts are not pages
SKIP = re.compile(r"^/(logout|locale/|static/)")
LONG = "x" * 5000
#: query strings a hostile (or clumsy) user may add to any list: none may give a server error
HOSTILE = (
    "page=2&endpoint=x",
    "page=2&_method=POST",
    "page=2&_anchor=x",
    "page=2&_external=1&_scheme=javascript",
    "page=-1",
    "page=0",
    "page=99999",
    "page=99999999999999999999",
    "page=abc",
    "month=2026-01%0A",
    "month=%00",
    "q=%00",
    "q=%ED%A0%80",
    "status=nope&area=abc&sponsor=-1",
    "page=2&q=" + LONG,
    "page=2&" + LONG + "=1",
)
#: the redirect targets after a locale switch and a login: never a server error
HOSTILE_NEXT = ("/a%0Db", "/a%0Ab", "/a%00b", "//evil.example", "/%E2%80%AE", "/" + LONG)


# --- the city -------------------------------------------------------------------------------------------------------


def _build_city() -> dict:
    """The demo city and what it lacks: returns what the crawl's assertions check it has."""
    from assist.auth.models import User
    from assist.auth.operations import create_user
    from assist.demo import DEMO_PASSWORD, build_demo
    from assist.enums import PostStatus, Role, SponsorStatus, StipendStatus
    from assist.identification import operations as identification
    from assist.identification.models import ImportReject
    from assist.posts.models import Post
    from assist.sponsors.models import Sponsor
    from assist.sponsors.operations import decide
    from assist.stipends import payments
    from assist.stipends.models import StipendBatch, StipendRecord
    from assist.stipends.operations import generate_due, parse_month
    from assist.stipends.routes import PER_PAGE

    build_demo(families=FAMILIES)
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    create_user(admin, "provider", DEMO_PASSWORD, Role.PROVIDER, display_name="服务商")
    # a sponsor in each state: the demo has approved, pending and suspended ones; one pending is rejected here
    login_sponsor = db.session.scalar(select(User.sponsor_id).where(User.username == "sponsor_pending"))
    pending = db.session.scalars(
        select(Sponsor).where(Sponsor.status == SponsorStatus.PENDING, Sponsor.id != login_sponsor).order_by(Sponsor.id)
    ).first()
    decide(admin, pending, "reject", "资料不全")
    # an import with rejected rows
    content = (ROOT / "docs" / "samples" / "workers-with-errors.csv").read_bytes()
    imp, _created = identification.create_import(admin, content, "workers-with-errors.csv", "civil_affairs")
    db.session.commit()
    identification.run_import(imp.id)
    db.session.expire_all()
    # a failed payment in the last approved month
    approved = db.session.scalar(select(func.max(StipendBatch.month)).where(StipendBatch.status == "approved"))
    unpaid = db.session.scalar(
        select(StipendRecord)
        .where(StipendRecord.month == approved, StipendRecord.status == StipendStatus.UNPAID)
        .order_by(StipendRecord.id)
    )
    if unpaid is not None:
        payments.mark_failed(admin, unpaid, "账户已销户")
    # a late month: the draft batch is approved, then a paper agreement covering that month is entered and generation
    # runs again (supplementary records, 补发)
    draft = db.session.scalar(select(func.max(StipendBatch.month)).where(StipendBatch.status == "draft"))
    payments.approve_batch(admin, draft)
    db.session.commit()
    first, _last = parse_month(draft)
    late = _enter_late_agreement(admin, first)
    db.session.commit()
    generate_due(admin)
    db.session.commit()
    largest, records = db.session.execute(
        select(StipendRecord.month, func.count())
        .group_by(StipendRecord.month)
        .order_by(func.count().desc(), StipendRecord.month.desc())
        .limit(1)
    ).one()
    states = set(db.session.scalars(select(Sponsor.status).distinct()))
    posts = set(db.session.scalars(select(Post.status).distinct()))
    return {
        # crawled first, whoever the user (the pages of the states that matter must not hide behind the crawl's
        # budget of a few URLs per shape)
        "seeds": [
            f"/stipends/batches/{largest}",
            f"/stipends/batches/{largest}?page=2",
            f"/stipends/batches/{draft}",
            f"/stipends/?month={draft}",
            f"/identification/imports/{imp.id}",
            f"/agreements/{late}",
        ],
        "largest_batch": records,
        "per_page": PER_PAGE,
        "sponsor_states": states,
        "post_states": posts,
        "import_rejects": db.session.scalar(
            select(func.count(ImportReject.id)).where(ImportReject.import_id == imp.id)
        ),
        "late_agreement": late,
        "all_post_states": set(PostStatus),
        "all_sponsor_states": set(SponsorStatus),
    }


def _enter_late_agreement(admin, start_on: date) -> int:
    """A paper agreement starting on ``start_on`` (a month whose batch is approved), signed today, for an open post."""
    from assist.agreements.operations import enter_paper_agreement
    from assist.db_types import local_today
    from assist.enums import PostStatus, SponsorStatus
    from assist.errors import DomainError
    from assist.posts.models import Post
    from assist.sponsors.models import Sponsor

    post = db.session.scalars(select(Post).where(Post.status == PostStatus.OPEN).order_by(Post.id)).first()
    for sponsor in db.session.scalars(select(Sponsor).where(Sponsor.status == SponsorStatus.APPROVED)):
        data = {"start_on": start_on, "signed_on": local_today()}
        try:
            with db.session.begin_nested():
                return enter_paper_agreement(admin, post, sponsor, data).id
        except DomainError:  # this sponsor may claim no more (its pledge is taken): the next
            continue
    raise AssertionError("no approved sponsor could take the late agreement")


@pytest.fixture(scope="module")
def city(database, tmp_path_factory):
    """The city's database, built once for the module (the crawl only reads, but for logins and the locale)."""
    if POSTGRES:
        _empty_postgres(database)
        url = database
    else:
        path = Path(tmp_path_factory.mktemp("city")) / "city.db"
        shutil.copy(database, path)
        url = f"sqlite:///{path}"
    app = create_app("test", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        facts = _build_city()
        db.session.remove()
        db.engine.dispose()
    return app, facts


def test_the_city_has_data_in_every_state(city):
    _app, facts = city
    assert facts["largest_batch"] > facts["per_page"], "no batch of more than one page"
    assert facts["sponsor_states"] == facts["all_sponsor_states"]
    assert facts["post_states"] == facts["all_post_states"]
    assert facts["import_rejects"] > 0
    assert facts["late_agreement"]


# --- the crawl ------------------------------------------------------------------------------------------------------


HREF = re.compile(r"""<a\b[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)


@dataclass
class Crawl:
    app: object
    client: object
    who: str
    language: str
    per_shape: int = PER_SHAPE
    seen: set = field(default_factory=set)
    shapes: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)
    paged: dict = field(default_factory=dict)
    visited: int = 0

    def __post_init__(self):
        self.urls = self.app.url_map.bind("localhost")

    def shape(self, path: str, query: str):
        """(rule, query keys) of a same-site GET page, or None for anything not crawled."""
        try:
            rule, _args = self.urls.match(path, method="GET", return_rule=True)
        except RequestRedirect as redirect:
            return self.shape(urlsplit(redirect.new_url).path, query)
        except (NotFound, MethodNotAllowed):
            return None
        return rule.rule, tuple(sorted({k for k, _ in parse_qsl(query, keep_blank_values=True)}))

    def normalise(self, href: str, base: str) -> str | None:
        href = unescape(href).strip()
        if not href or href.startswith(("#", "mailto:", "tel:", "javascript:", "data:")):
            return None
        parts = urlsplit(href)
        if parts.scheme not in ("", "http", "https") or parts.netloc not in ("", "localhost"):
            return None
        path = parts.path
        if not path.startswith("/"):  # relative to the page
            path = base.rsplit("/", 1)[0] + "/" + path
        if SKIP.match(path):
            return None
        query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
        return path + ("?" + query if query else "")

    def get(self, url: str, note: str = ""):
        self.visited += 1
        response = self.client.get(url)
        if response.status_code >= 500:
            self.failures.append(f"{response.status_code} GET {url[:300]} as {self.who} in {self.language}{note}")
        return response

    def run(self, start: list[str]) -> None:
        queue = list(start)
        while queue:
            url = queue.pop(0)
            if url in self.seen:
                continue
            self.seen.add(url)
            path, _, query = url.partition("?")
            shape = self.shape(path, query)
            if shape is None:
                continue
            if self.shapes.get(shape, 0) >= self.per_shape:
                continue
            self.shapes[shape] = self.shapes.get(shape, 0) + 1
            response = self.get(url)
            if response.status_code != 200 or not response.mimetype.startswith("text/html"):
                continue
            html = response.get_data(as_text=True)
            if 'class="pagination' in html:
                self.paged.setdefault(shape[0], path)
            for match in HREF.finditer(html):
                target = self.normalise(match.group(1) or match.group(2) or "", path)
                if target and target not in self.seen:
                    queue.append(target)

    def hostile(self) -> None:
        """Every paged list with each hostile query string (the pager copies the query into its links)."""
        for path in self.paged.values():
            for query in HOSTILE:
                self.get(f"{path}?{query}")


def _login(client, username: str, next_: str | None = None):
    from assist.demo import DEMO_PASSWORD

    token = csrf_token(client, "/login")
    url = "/login" + (f"?next={next_}" if next_ else "")
    return client.post(url, data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})


def _crawled(app, role: str, username: str, language: str, seeds: list[str]) -> Crawl:
    client = app.test_client()
    answer = _login(client, username)
    assert answer.status_code == 302, (username, answer.status_code)
    switched = client.get(f"/locale/{language}")
    assert switched.status_code == 302
    crawl = Crawl(app, client, role, language)
    crawl.run(["/", *seeds])
    crawl.hostile()
    # the locale switch and the login page with hostile redirect targets
    for target in HOSTILE_NEXT:
        crawl.get(f"/locale/{language}?next={target}")
        crawl.get(f"/login?next={target}")
    return crawl


#: the tables a login writes to (a GET page writes to none)
LOGIN_TABLES = {"audit_log", "login_attempts"}


def _row_counts(app) -> dict[str, int]:
    with app.app_context():
        try:
            return {
                name: db.session.scalar(select(func.count()).select_from(table))
                for name, table in db.metadata.tables.items()
                if name not in LOGIN_TABLES
            }
        finally:
            db.session.remove()


@pytest.mark.parametrize(("role", "username"), ROLES, ids=[r for r, _ in ROLES])
def test_no_page_answers_a_server_error(city, role, username):
    app, facts = city
    failures, counts = [], {}
    before = _row_counts(app)
    for language in LANGUAGES:  # each request in an app context of its own, as in production
        crawl = _crawled(app, role, username, language, facts["seeds"])
        failures += crawl.failures
        counts[language] = crawl.visited
    after = _row_counts(app)
    print(f"crawled as {role}: {counts}")
    changed = {name: (before[name], after[name]) for name in before if before[name] != after[name]}
    if changed:
        failures.append(f"GET pages changed the number of rows (before, after): {changed}")
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures)
    assert min(counts.values()) > 5


def test_hostile_redirect_targets_after_login_are_no_server_error(city):
    app, _facts = city
    failures = []
    for target in HOSTILE_NEXT:
        answer = _login(app.test_client(), "cw01", next_=target)
        if answer.status_code >= 500:
            failures.append(f"{answer.status_code} POST /login?next={target[:60]}")
        elif answer.status_code == 302:
            location = answer.headers["Location"]
            assert "\r" not in location and "\n" not in location, location
            assert urlsplit(location).netloc in ("", "localhost"), location
    assert not failures, "\n".join(failures)
