"""The shared pager: every paged list links its other pages with the view's own path arguments and the query's
filters, and no query string a visitor types can break a list (issue 10, item 1)."""

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from assist.demo import DEMO_PASSWORD, build_demo
from assist.extensions import db
from tests.conftest import csrf_token

#: each list's page 1, who sees it, and a filter kept from page to page
LISTS = {
    "families.index": ("/families/", "admin", "colour=red"),
    "posts.index": ("/posts/", "admin", ""),
    "agreements.index": ("/agreements/", "admin", ""),
    "stipends.index": ("/stipends/", "admin", ""),
    "stipends.batch": ("/stipends/batches/{month}", "admin", ""),
    "sponsors.index": ("/sponsors/", "admin", ""),
    "audit.index": ("/admin/audit/", "admin", ""),
    "admin.users": ("/admin/users", "admin", ""),
    "admin.jobs": ("/admin/jobs", "admin", ""),
    "identification.candidates": ("/identification/candidates", "admin", "status=all"),
    "inbox.index": ("/inbox/", "admin", ""),
    "matching.index": ("/matching/", "admin", ""),
    "portal.market": ("/portal/market", "sponsor01", ""),
}

#: query strings a visitor may type: keys url_for takes as its own, a path argument's name, a repeated page
HOSTILE = [
    "endpoint=x",
    "_method=POST",
    "_anchor=x",
    "_external=1",
    "_scheme=javascript",
    "values=x",
    "month=1999-01",  # the batch page's path argument
    "page=x&page=2",
    "endpoint=x&_method=POST&_anchor=x&_external=1",
]


@pytest.fixture
def city(app):
    """The demo city (250 families: lists of families, posts, agreements, stipends, sponsors and audit entries longer
    than a page), with imported candidates, users, job runs, matching runs and messages enough for two pages each.
    Returns the month whose batch has the most records."""
    from assist.auth.models import User
    from assist.enums import Role, RunStatus
    from assist.identification import samples
    from assist.inbox.models import Notification
    from assist.posts.models import MatchRun
    from assist.schedule.models import JobRun
    from assist.stipends.models import StipendRecord
    from tests.identification.helpers import import_file

    build_demo(families=250, seed=7)
    db.session.commit()
    for name, content in samples.sample_files():
        import_file(None, content, name)
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    for n in range(60):
        db.session.add(User(username=f"pager_user_{n:02d}", password_hash="!", role=Role.CASEWORKER))
        db.session.add(MatchRun(created_by_id=admin.id))
    for n in range(35):
        db.session.add(JobRun(job_id="expire_claims", status=RunStatus.SUCCEEDED))
        db.session.add(Notification(user_id=admin.id, kind="review_due", key=f"pager-{n}", params={}))
    db.session.commit()
    _open_posts(admin, 25)
    month, records = db.session.execute(
        select(StipendRecord.month, func.count())
        .group_by(StipendRecord.month)
        .order_by(func.count().desc(), StipendRecord.month)
        .limit(1)
    ).one()
    assert records > 50, "the batch must run to a second page"
    return month


def _open_posts(admin, wanted: int) -> None:
    """Publish posts until the market holds more than a page (the demo leaves a dozen open)."""
    from assist.enums import PostStatus
    from assist.errors import DomainError
    from assist.families.models import Family
    from assist.posts.models import Post
    from tests.factories import post

    for family in db.session.scalars(select(Family).order_by(Family.id)):
        if db.session.scalar(select(func.count()).where(Post.status == PostStatus.OPEN)) >= wanted:
            break
        if len(family.members) < 2:
            continue
        try:
            with db.session.begin_nested():
                post(admin, family)
        except DomainError:
            continue
    db.session.commit()
    assert db.session.scalar(select(func.count()).where(Post.status == PostStatus.OPEN)) >= wanted


def _login(client, username: str) -> None:
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})
    assert response.status_code == 302, username


def _next_link(html: str, url: str) -> str:
    """The pager's link to the next page of the list at ``url``."""
    links = re.findall(r'<a class="page-link" href="([^"]*)">(?:下一页|Next)</a>', html)
    assert len(links) == 1, f"{url} has a second page"
    return unescape(links[0])


def test_every_paged_list_links_its_next_page_whatever_the_query(app, city):
    """Each list is longer than a page; page 1 (with a filter, and with each hostile query) answers 200 and links
    page 2 of the same list, the filter kept and the hostile keys left out; page 2 answers 200 too."""
    clients = {}
    for endpoint, (path, username, keep) in LISTS.items():
        if username not in clients:
            clients[username] = app.test_client()
            _login(clients[username], username)
        client = clients[username]
        path = path.format(month=city)
        for query in ["", keep, *HOSTILE]:
            if (query == "" and keep) or (query.startswith("month=") and endpoint != "stipends.batch"):
                continue  # (a month is a filter of the other stipend list)
            url = f"{path}?{query}" if query else path
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            link = _next_link(response.get_data(as_text=True), url)
            parts = urlsplit(link)
            args = parse_qs(parts.query)
            assert parts.path == path and not parts.scheme and not parts.netloc and not parts.fragment, (url, link)
            assert args["page"] == ["2"], (url, link)
            assert "endpoint" not in args, (url, link)
            if endpoint == "stipends.batch":  # the month is the path's: a query month neither replaces nor joins it
                assert "month" not in args, (url, link)
            assert not any(key.startswith("_") for key in args), (url, link)
            if keep and query == keep:
                key, value = keep.split("=")
                assert args[key] == [value], (url, link)
            second = client.get(link)
            assert second.status_code == 200, (link, second.status_code)


def test_approving_a_batch_longer_than_a_page_lands_on_its_page(app, city):
    """The admin approves last month's draft batch, more than one page of records, and lands on the batch's page,
    which links its second page."""
    from assist.enums import BatchStatus
    from assist.stipends.models import StipendBatch, StipendRecord

    month = db.session.scalar(select(StipendBatch.month).where(StipendBatch.status == BatchStatus.DRAFT))
    assert db.session.scalar(select(func.count()).where(StipendRecord.month == month)) > 50
    client = app.test_client()
    _login(client, "admin")
    token = csrf_token(client, f"/stipends/batches/{month}")
    approved = client.post(f"/stipends/batches/{month}/approve", data={"csrf_token": token})
    assert approved.status_code == 302
    landed = client.get(approved.headers["Location"])
    assert landed.status_code == 200
    link = _next_link(landed.get_data(as_text=True), approved.headers["Location"])
    assert urlsplit(link).path == f"/stipends/batches/{month}"
    assert client.get(link).status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(StipendBatch.status).where(StipendBatch.month == month)) == BatchStatus.APPROVED
