"""Sponsor pages through the client: self-registration, the admin's list and decisions, the sponsor's own profile."""

from sqlalchemy import select

from assist.auth.models import User
from assist.enums import SponsorStatus
from assist.extensions import db
from assist.posts.models import Post
from assist.sponsors.models import Sponsor
from tests import factories
from tests.conftest import PASSWORD, csrf_token


def _registration(**kw) -> dict:
    return {
        "name": "平湖新星电子有限公司",
        "credit_code": factories.credit_code(4242),
        "contact_name": "孙经理",
        "phone": "0573-85222222",
        "email": "csr@xinxing.example.com",
        "address": "平湖市经济开发区1号",
        "areas": ["330482001"],
        "pledge_posts": "2",
        "pledge_budget_fen": "1,200.50",
        "username": "xinxing",
        "password": PASSWORD,
        **kw,
    }


def test_a_company_registers_and_waits_for_approval(client, auth, world):
    market = factories.build_market(world)
    token = csrf_token(client, "/sponsors/register")
    response = client.post("/sponsors/register", data={"csrf_token": token, **_registration()})
    assert response.status_code == 302 and response.headers["Location"].endswith("/sponsors/registered")
    assert "等待" in client.get(response.headers["Location"]).get_data(as_text=True)
    sponsor = db.session.scalar(select(Sponsor).where(Sponsor.name == "平湖新星电子有限公司"))
    assert sponsor.status == SponsorStatus.PENDING
    assert sponsor.pledge_budget_fen == 120_050 and [a.code for a in sponsor.areas] == ["330482001"]

    # logged in but not approved: a banner, the market can be browsed, a claim is refused with a clear message
    auth.login("xinxing")
    page = client.get("/portal/market").get_data(as_text=True)
    assert 'id="sponsor-pending"' in page and "手工编织" in page
    token = csrf_token(client, "/portal/market")
    answer = client.post(
        f"/portal/market/{market.open_post.id}/claim", data={"csrf_token": token}, follow_redirects=True
    )
    assert "批准" in answer.get_data(as_text=True)
    assert db.session.get(Post, market.open_post.id).status.value == "open"


def test_a_bad_credit_code_is_shown_beside_the_field_and_nothing_is_saved(client, world):
    token = csrf_token(client, "/sponsors/register")
    code = factories.credit_code(4243)
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    response = client.post("/sponsors/register", data={"csrf_token": token, **_registration(credit_code=wrong)})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="credit_code"' in html and "is-invalid" in html.split('id="credit_code"')[0].rsplit("<input", 1)[1]
    assert "校验" in html
    assert db.session.scalar(select(Sponsor).where(Sponsor.name == "平湖新星电子有限公司")) is None
    assert db.session.scalar(select(User).where(User.username == "xinxing")) is None


def test_the_admin_lists_filters_and_decides(client, auth, world):
    market = factories.build_market(world)
    auth.login("admin")
    page = client.get("/sponsors/").get_data(as_text=True)
    assert 'id="count-pending">1<' in page and 'id="count-approved">2<' in page
    assert "待审核商贸有限公司" in page and "嘉兴善行实业有限公司" in page
    pending = client.get("/sponsors/?status=pending").get_data(as_text=True)
    assert "待审核商贸有限公司" in pending and "嘉兴善行实业有限公司" not in pending
    found = client.get(f"/sponsors/?q={market.other_org.credit_code[-6:]}").get_data(as_text=True)
    assert "嘉兴善行实业有限公司" in found and "待审核商贸有限公司" not in found

    # the sponsor's page: pledge against what it carries (the claimed post of 500 yuan)
    view = client.get(f"/sponsors/{market.org.id}").get_data(as_text=True)
    assert "社区电话巡访员" in view and "2,500.00" in view  # 3,000 pledged − 500 carried

    token = csrf_token(client, f"/sponsors/{market.pending_org.id}")
    refused = client.post(f"/sponsors/{market.pending_org.id}/reject", data={"csrf_token": token, "reason": " "})
    assert refused.status_code == 422 and "is-invalid" in refused.get_data(as_text=True)
    assert db.session.get(Sponsor, market.pending_org.id).status == SponsorStatus.PENDING
    client.post(f"/sponsors/{market.pending_org.id}/reject", data={"csrf_token": token, "reason": "资料不全"})
    db.session.refresh(market.pending_org)
    assert market.pending_org.status == SponsorStatus.REJECTED and market.pending_org.status_reason == "资料不全"
    client.post(f"/sponsors/{market.pending_org.id}/approve", data={"csrf_token": token})
    db.session.refresh(market.pending_org)
    assert market.pending_org.status == SponsorStatus.APPROVED
    client.post(f"/sponsors/{market.other_org.id}/suspend", data={"csrf_token": token, "reason": "暂停合作"})
    db.session.refresh(market.other_org)
    assert market.other_org.status == SponsorStatus.SUSPENDED


def test_the_sponsor_edits_its_profile_and_adds_a_user(client, auth, world):
    market = factories.build_market(world)
    auth.login("sponsor")
    assert client.get("/sponsors/mine").headers["Location"].endswith(f"/sponsors/{market.org.id}/edit")
    page = client.get(f"/sponsors/{market.org.id}/edit").get_data(as_text=True)
    assert "2,500.00" in page  # the remaining pledge on top
    token = csrf_token(client, f"/sponsors/{market.org.id}/edit")
    data = {
        "csrf_token": token,
        "name": market.org.name,
        "credit_code": market.org.credit_code,
        "contact_name": "陈经理",
        "phone": "0573-85000001",
        "areas": ["330482002"],
        "pledge_posts": "4",  # lowering a pledge is the sponsor's own call; raising it is the union's
        "pledge_budget_fen": "abc",
    }
    bad = client.post(f"/sponsors/{market.org.id}/edit", data=data)
    assert bad.status_code == 422 and "error-pledge_budget_fen" in bad.get_data(as_text=True)
    assert db.session.get(Sponsor, market.org.id).pledge_posts == 5
    ok = client.post(f"/sponsors/{market.org.id}/edit", data={**data, "pledge_budget_fen": "2000"})
    assert ok.status_code == 302
    org = db.session.get(Sponsor, market.org.id)
    db.session.refresh(org)
    assert (org.pledge_posts, org.pledge_budget_fen, [a.code for a in org.areas]) == (4, 200_000, ["330482002"])

    added = client.post(
        f"/sponsors/{market.org.id}/users",
        data={"csrf_token": token, "username": "sponsor_c", "display_name": "财务", "password": PASSWORD},
    )
    assert added.status_code == 302
    assert db.session.scalar(select(User).where(User.username == "sponsor_c")).sponsor_id == market.org.id


def test_another_sponsors_profile_is_not_found(client, auth, world):
    market = factories.build_market(world)
    auth.login("sponsor_b")
    assert client.get(f"/sponsors/{market.org.id}/edit").status_code == 404
    assert client.get(f"/sponsors/{market.other_org.id}/edit").status_code == 200


def test_an_approved_sponsors_user_cannot_swap_its_legal_identity_alone(client, auth, world):
    """Issue 10: a new name and credit code saved by the sponsor's own user stayed approved. They now wait for the
    union: the approved name and code stay in force (the rest of the profile is saved)."""
    market = factories.build_market(world)
    org_id, name, code = market.org.id, market.org.name, market.org.credit_code
    auth.login("sponsor")
    url = f"/sponsors/{org_id}/edit"
    data = {
        "csrf_token": csrf_token(client, url),
        "name": "冒名顶替有限公司",
        "credit_code": factories.credit_code(9100),
        "contact_name": "陈经理",
        "phone": "0573-85000002",
        "pledge_posts": "5",
        "pledge_budget_fen": "3000",
    }
    assert client.post(url, data=data).status_code == 302
    org = db.session.get(Sponsor, org_id)
    db.session.refresh(org)
    assert (org.name, org.credit_code, org.phone, org.approved) == (name, code, "0573-85000002", True)


def test_only_the_union_raises_a_pledge(client, auth, world):
    """Issue 10: claims are held within the pledge; were the sponsor's own user able to raise it, nothing would be
    held. The sponsor may lower it; raising it is the admin's."""
    market = factories.build_market(world)
    org = market.org
    posts, budget = org.pledge_posts, org.pledge_budget_fen
    auth.login("sponsor")
    url = f"/sponsors/{org.id}/edit"
    base = {"name": org.name, "credit_code": org.credit_code, "contact_name": org.contact_name, "phone": org.phone}
    more = {**base, "pledge_posts": str(posts + 5), "pledge_budget_fen": f"{budget / 100 + 1000:.2f}"}
    page = client.post(url, data={**more, "csrf_token": csrf_token(client, url)})
    assert page.status_code == 422
    assert page.get_data(as_text=True).count("只有工会可以提高认捐") == 2
    db.session.refresh(org)
    assert (org.pledge_posts, org.pledge_budget_fen) == (posts, budget)
    fewer = {**base, "pledge_posts": str(posts - 1), "pledge_budget_fen": f"{budget / 100:.2f}"}
    assert client.post(url, data={**fewer, "csrf_token": csrf_token(client, url)}).status_code == 302
    db.session.refresh(org)
    assert org.pledge_posts == posts - 1
    auth.logout()
    auth.login("admin")
    assert client.post(url, data={**more, "csrf_token": csrf_token(client, url)}).status_code == 302
    db.session.refresh(org)
    assert (org.pledge_posts, org.pledge_budget_fen) == (posts + 5, budget + 100_000)
