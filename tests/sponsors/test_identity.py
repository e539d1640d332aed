"""An approved sponsor's legal identity (name, credit code) changes only with the union's approval: its own user's
change is held as a request the admin approves or rejects, and the approved identity stays in force meanwhile."""

import pytest
from sqlalchemy import select

from assist.audit.models import AuditEntry
from assist.auth.models import User
from assist.enums import SponsorChangeStatus
from assist.errors import Conflict, ValidationFailed
from assist.extensions import db
from assist.sponsors import operations
from assist.sponsors.models import Sponsor, SponsorChange
from tests import factories
from tests.conftest import csrf_token

NEW_NAME = "平湖新名称科技有限公司"


def _profile(org, token, **changes) -> dict:
    return {
        "csrf_token": token,
        "name": org.name,
        "credit_code": org.credit_code,
        "contact_name": org.contact_name,
        "phone": org.phone,
        "areas": [a.code for a in org.areas],
        "pledge_posts": str(org.pledge_posts),
        "pledge_budget_fen": f"{org.pledge_budget_fen / 100:.2f}",
        **changes,
    }


def _actions(sponsor_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.entity_type == "sponsor", AuditEntry.entity_id == str(sponsor_id))
            .order_by(AuditEntry.id)
        )
    )


def test_an_approved_sponsors_new_name_and_code_wait_for_the_admin(client, auth, world):
    market = factories.build_market(world)
    org_id, old_name, old_code = market.org.id, market.org.name, market.org.credit_code
    new_code = factories.credit_code(9001)
    auth.login("sponsor")
    url = f"/sponsors/{org_id}/edit"
    token = csrf_token(client, url)
    saved = client.post(url, data=_profile(market.org, token, name=NEW_NAME, credit_code=new_code, phone="0573-1"))
    assert saved.status_code == 302
    org = db.session.get(Sponsor, org_id)
    db.session.refresh(org)
    # the phone is saved; the identity is not, and the approved one stays in force
    assert (org.name, org.credit_code, org.phone, org.approved) == (old_name, old_code, "0573-1", True)
    change = operations.pending_change(org)
    assert (change.name, change.credit_code, change.old_name, change.old_credit_code) == (
        NEW_NAME,
        new_code,
        old_name,
        old_code,
    )
    page = client.get(url).get_data(as_text=True)
    assert 'id="identity-change"' in page and NEW_NAME in page
    body = client.get(f"/api/v1/sponsors/{org_id}").get_json()
    assert (body["name"], body["pending_change"]["name"], body["pending_change"]["credit_code"]) == (
        old_name,
        NEW_NAME,
        new_code,
    )
    assert client.post(f"/sponsors/{org_id}/change/approve", data={"csrf_token": token}).status_code == 403
    auth.logout()

    auth.login("admin")
    listed = client.get("/sponsors/").get_data(as_text=True)
    assert 'id="pending-changes"' in listed and f"{old_name} → {NEW_NAME}" in listed
    view = client.get(f"/sponsors/{org_id}").get_data(as_text=True)
    assert 'id="change-name"' in view and NEW_NAME in view and new_code in view
    token = csrf_token(client, f"/sponsors/{org_id}")
    refused = client.post(f"/sponsors/{org_id}/change/reject", data={"csrf_token": token, "change-reason": ""})
    assert refused.status_code == 422 and 'id="change-reason"' in refused.get_data(as_text=True)
    rejected = client.post(
        f"/sponsors/{org_id}/change/reject", data={"csrf_token": token, "change-reason": "营业执照未更新"}
    )
    assert rejected.status_code == 302
    db.session.expire_all()
    assert (org.name, org.credit_code) == (old_name, old_code)
    assert db.session.get(SponsorChange, change.id).status == SponsorChangeStatus.REJECTED
    assert db.session.get(SponsorChange, change.id).reason == "营业执照未更新"
    auth.logout()

    # asked again, and approved this time
    auth.login("sponsor")
    token = csrf_token(client, url)
    client.post(url, data=_profile(org, token, name=NEW_NAME, credit_code=new_code))
    auth.logout()
    auth.login("admin")
    token = csrf_token(client, f"/sponsors/{org_id}")
    approved = client.post(f"/sponsors/{org_id}/change/approve", data={"csrf_token": token})
    assert approved.status_code == 302
    db.session.expire_all()
    assert (org.name, org.credit_code, org.approved) == (NEW_NAME, new_code, True)
    assert operations.pending_change(org) is None
    assert _actions(org_id)[-4:] == ["request_change", "reject_change", "request_change", "approve_change"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "approve_change"))
    assert entry.before == {"name": old_name, "credit_code": old_code} and entry.after["name"] == NEW_NAME


def test_a_second_request_updates_the_pending_one(world):
    market = factories.build_market(world)
    operations.update_sponsor(world.sponsor, market.org, {"name": NEW_NAME})
    operations.update_sponsor(world.sponsor, market.org, {"credit_code": factories.credit_code(9002)})
    (change,) = db.session.scalars(select(SponsorChange)).all()
    assert (change.name, change.credit_code) == (NEW_NAME, factories.credit_code(9002))
    assert market.org.name != NEW_NAME


def test_a_code_taken_meanwhile_is_refused_at_approval(world):
    market = factories.build_market(world)
    code = factories.credit_code(9003)
    operations.update_sponsor(world.sponsor, market.org, {"credit_code": code})
    factories.sponsor("后来注册有限公司", username="late_reg", approved=False).credit_code = code
    db.session.flush()
    with pytest.raises(Conflict):
        operations.decide_change(world.admin, market.org, "approve")
    assert operations.pending_change(market.org) is not None and market.org.credit_code != code
    with pytest.raises(ValidationFailed):
        operations.decide_change(world.admin, market.org, "reject", "")
    operations.decide_change(world.admin, market.org, "reject", "代码已被占用")
    with pytest.raises(Conflict):
        operations.decide_change(world.admin, market.org, "approve")  # nothing pending now


def test_a_pending_registration_and_the_admin_change_the_identity_directly(world):
    market = factories.build_market(world)
    pending_user = db.session.scalar(select(User).where(User.username == "sponsor_p"))
    operations.update_sponsor(pending_user, market.pending_org, {"name": "改名待审商贸有限公司"})
    assert market.pending_org.name == "改名待审商贸有限公司"  # the registration's review covers it
    operations.update_sponsor(world.admin, market.org, {"name": NEW_NAME})
    assert market.org.name == NEW_NAME
    assert db.session.scalar(select(SponsorChange)) is None
