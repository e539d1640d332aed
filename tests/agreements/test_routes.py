"""Agreement pages and the sponsor portal through the client: draft, sign with a scan, the PDF, renew, terminate,
paper agreements; the anonymised market, claiming (409 → "already claimed"), withdrawal, and scope."""

import io
from datetime import date, timedelta

from sqlalchemy import select

from assist.agreements.models import Agreement
from assist.assessments.operations import months_back
from assist.db_types import local_today
from assist.enums import AgreementStatus, PostStatus
from assist.extensions import db
from assist.posts.models import Post
from tests import factories
from tests.conftest import csrf_token

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_sign_with_a_scan_then_the_sponsor_sees_the_member(client, auth, world):
    market = factories.build_market(world)
    agreement = market.agreement
    auth.login("sponsor")
    before = client.get(f"/portal/agreements/{agreement.id}").get_data(as_text=True)
    assert "李芳" not in before and "13800000000" not in before  # not before signing
    auth.logout()

    auth.login("cw_a")
    token = csrf_token(client, f"/agreements/{agreement.id}")
    bad = client.post(
        f"/agreements/{agreement.id}/sign",
        data={"csrf_token": token, "signed_on": "2026-01-10", "scan": (io.BytesIO(b"plain text"), "scan.txt")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "error-scan" in bad.get_data(as_text=True)
    db.session.refresh(agreement)
    assert agreement.status == AgreementStatus.DRAFT

    future = client.post(
        f"/agreements/{agreement.id}/sign",
        data={"csrf_token": token, "signed_on": (local_today() + timedelta(days=3)).isoformat()},
    )
    assert future.status_code == 422 and "error-signed_on" in future.get_data(as_text=True)

    signed = client.post(
        f"/agreements/{agreement.id}/sign",
        data={"csrf_token": token, "signed_on": "2026-01-10", "scan": (io.BytesIO(PNG), "signed.png")},
        content_type="multipart/form-data",
    )
    assert signed.status_code == 302
    db.session.refresh(agreement)
    assert agreement.status in (AgreementStatus.SIGNED, AgreementStatus.ACTIVE)
    scan = client.get(f"/agreements/{agreement.id}/scan")
    assert scan.status_code == 200 and scan.mimetype == "image/png" and scan.data == PNG
    pdf = client.get(f"/agreements/{agreement.id}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    auth.logout()

    auth.login("sponsor")
    after = client.get(f"/portal/agreements/{agreement.id}").get_data(as_text=True)
    assert "李芳" in after and "13800000000" in after
    assert "当湖街道东湖社区1号" not in after  # the contact needed, nothing more
    pdf = client.get(f"/agreements/{agreement.id}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert market.agreement.number in client.get("/portal/agreements").get_data(as_text=True)


def test_another_sponsors_agreement_is_not_found(client, auth, world):
    market = factories.build_market(world)
    auth.login("sponsor_b")
    assert client.get(f"/portal/agreements/{market.agreement.id}").status_code == 404
    assert client.get(f"/agreements/{market.agreement.id}/pdf").status_code == 404
    assert market.agreement.number not in client.get("/portal/agreements").get_data(as_text=True)
    auth.logout()
    auth.login("cw_b")
    assert client.get(f"/agreements/{market.agreement.id}").status_code == 404


def test_claim_draft_renew_and_terminate(client, auth, world):
    market = factories.build_market(world)
    post = market.open_post
    auth.login("sponsor_b")
    market_page = client.get("/portal/market").get_data(as_text=True)
    assert "手工编织" in market_page
    for personal in ("王强", "王丽", "13800000000", "当湖街道东湖社区1号"):
        assert personal not in market_page
    token = csrf_token(client, "/portal/market")
    assert client.post(f"/portal/market/{post.id}/claim", data={"csrf_token": token}).status_code == 302
    auth.logout()

    # a second sponsor is too late: "already claimed", back to the market
    auth.login("sponsor")
    token = csrf_token(client, "/portal/market")
    late = client.post(f"/portal/market/{post.id}/claim", data={"csrf_token": token}, follow_redirects=True)
    assert "已被认领" in late.get_data(as_text=True) and late.request.path == "/portal/market"
    assert client.get(f"/portal/market/{post.id}").status_code == 404
    auth.logout()

    auth.login("cw_b")
    token = csrf_token(client, f"/agreements/new/{post.id}")
    bad = client.post(f"/agreements/new/{post.id}", data={"csrf_token": token, "start_on": "2026-13-01"})
    assert bad.status_code == 422 and "error-start_on" in bad.get_data(as_text=True)
    # started eight months ago, so it is in force today and for four months more
    start = date.fromisoformat(months_back(local_today(), 8)[-1] + "-01")
    answer = client.post(
        f"/agreements/new/{post.id}",
        data={"csrf_token": token, "start_on": start.isoformat(), "monthly_amount_fen": "500", "hours_per_month": "20"},
    )
    assert answer.status_code == 302
    agreement = db.session.scalar(select(Agreement).where(Agreement.post_id == post.id))
    end = date(start.year + 1, start.month, 1) - timedelta(days=1)
    assert (agreement.start_on, agreement.end_on) == (start, end)  # the post's 12 months
    signed_on = start - timedelta(days=9)
    client.post(f"/agreements/{agreement.id}/sign", data={"csrf_token": token, "signed_on": signed_on.isoformat()})
    db.session.refresh(agreement)
    assert agreement.status == AgreementStatus.ACTIVE and db.session.get(Post, post.id).status == PostStatus.ACTIVE

    renewed = client.post(f"/agreements/{agreement.id}/renew", data={"csrf_token": token})
    renewal = db.session.scalar(select(Agreement).where(Agreement.previous_id == agreement.id))
    assert renewed.headers["Location"].endswith(f"/agreements/{renewal.id}")
    assert renewal.start_on == end + timedelta(days=1) and renewal.status == AgreementStatus.DRAFT
    first_month_end = factories.next_month(start) - timedelta(days=1)

    no_reason = client.post(
        f"/agreements/{agreement.id}/terminate", data={"csrf_token": token, "end_date": first_month_end.isoformat()}
    )
    assert no_reason.status_code == 422 and "error-reason" in no_reason.get_data(as_text=True)
    client.post(
        f"/agreements/{agreement.id}/terminate",
        data={"csrf_token": token, "end_date": first_month_end.isoformat(), "reason": "本人身体原因"},
    )
    db.session.refresh(agreement)
    db.session.refresh(renewal)
    assert agreement.terminated_on == first_month_end and renewal.status == AgreementStatus.CANCELLED


def test_withdraw_a_claim_from_my_claims(client, auth, world):
    market = factories.build_market(world)
    auth.login("sponsor")
    claims = client.get("/portal/claims").get_data(as_text=True)
    assert "社区电话巡访员" in claims and "剩余" in claims
    token = csrf_token(client, "/portal/claims")
    client.post(f"/portal/claims/{market.claimed_post.id}/withdraw", data={"csrf_token": token})
    db.session.refresh(market.claimed_post)
    db.session.refresh(market.agreement)
    assert market.claimed_post.status == PostStatus.OPEN
    assert market.agreement.status == AgreementStatus.CANCELLED


def test_enter_a_paper_agreement_on_a_draft_post(client, auth, world):
    market = factories.build_market(world)
    family = world.family_b
    third = factories.member(relation="child", name="王小军", work_ability="partial", born=date(1995, 1, 1))
    from assist.families.operations import add_member

    add_member(world.cw_b, family, third)
    db.session.commit()
    member = next(m for m in family.members if m.name == "王小军")
    from assist.settings.operations import update_settings

    update_settings(world.admin, {"family_post_limit": 2})
    draft = factories.post(world.cw_b, family, member=member, publish=False, title="电话关怀")
    db.session.commit()

    auth.login("cw_b")
    url = f"/agreements/paper/{draft.id}"
    token = csrf_token(client, url)
    data = {
        "csrf_token": token,
        "sponsor_id": str(market.pending_org.id),
        "signed_on": "2023-02-25",
        "start_on": "2023-03-01",
        "monthly_amount_fen": "400",
        "hours_per_month": "16",
    }
    refused = client.post(url, data=data)
    assert refused.status_code == 422 and "error-sponsor_id" in refused.get_data(as_text=True)
    done = client.post(
        url,
        data={**data, "sponsor_id": str(market.other_org.id), "scan": (io.BytesIO(b"%PDF-1.4 x"), "paper.pdf")},
        content_type="multipart/form-data",
    )
    assert done.status_code == 302
    agreement = db.session.scalar(select(Agreement).where(Agreement.post_id == draft.id))
    assert agreement.from_paper and agreement.start_on == date(2023, 3, 1) and agreement.scan is not None
    assert agreement.sponsor_id == market.other_org.id
