"""A signed agreement keeps its three parties exactly as signed: a later change of the sponsor's name or credit code,
the member's name or the union's name reaches neither its PDF nor its pages nor the API."""

import importlib.util
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from assist.agreements import operations as agreements
from assist.agreements.models import Agreement
from assist.agreements.pdf import render_agreement
from assist.extensions import db
from assist.families.operations import update_member
from assist.settings.operations import update_settings
from assist.sponsors import operations as sponsors
from tests import factories
from tests.agreements.test_pdf import _text
from tests.api.test_api import token_for

OLD_NAME, NEW_NAME = "平湖爱心科技有限公司", "改名后实业有限公司"


@pytest.fixture
def signed(world):
    """The market's agreement signed; then the sponsor's identity (by the admin), the member's name and the union's
    name all change."""
    market = factories.build_market(world)
    agreement = market.agreement
    signed_on = agreement.start_on - timedelta(days=11)
    agreements.sign_agreement(world.cw_a, agreement, signed_on, today=signed_on + timedelta(days=4))
    old = {
        "code": market.org.credit_code,
        "member": agreement.member.name,
    }
    sponsors.update_sponsor(world.admin, market.org, {"name": NEW_NAME, "credit_code": factories.credit_code(8001)})
    update_member(world.cw_a, agreement.member, {"name": "改名成员"})
    update_settings(world.admin, {"union_name": "嘉兴市总工会"})
    db.session.commit()
    assert market.org.name == NEW_NAME and agreement.member.name == "改名成员"
    return market, agreement, old


def test_the_pdf_keeps_the_parties_as_signed(signed):
    market, agreement, old = signed
    text = _text(render_agreement(agreement, staff=False))
    for needle in (OLD_NAME, old["code"], old["member"], "平湖市总工会"):
        assert needle in text, needle
    for needle in (NEW_NAME, market.org.credit_code, "改名成员", "嘉兴市总工会"):
        assert needle not in text, needle


def test_pages_and_api_keep_the_parties_as_signed(client, auth, signed):
    market, agreement, old = signed
    auth.login("cw_a")
    for url in (f"/agreements/{agreement.id}", "/agreements/"):
        page = client.get(url).get_data(as_text=True)
        assert OLD_NAME in page and old["member"] in page and NEW_NAME not in page, url
    auth.logout()
    auth.login("sponsor")
    page = client.get(f"/portal/agreements/{agreement.id}").get_data(as_text=True)
    assert OLD_NAME in page and old["code"] in page and "平湖市总工会" in page
    assert NEW_NAME not in page and "嘉兴市总工会" not in page
    auth.logout()
    body = client.get(f"/api/v1/agreements/{agreement.id}", headers=token_for(client, "cw_a")).get_json()
    assert (body["sponsor_name"], body["sponsor_credit_code"], body["union_name"], body["member"]["name"]) == (
        OLD_NAME,
        old["code"],
        "平湖市总工会",
        old["member"],
    )


def test_a_renewal_names_the_parties_of_its_own_signing(world, signed):
    market, agreement, old = signed
    renewal = agreements.renew_agreement(world.cw_a, agreement)
    assert agreements.parties(renewal).a_name == NEW_NAME  # a draft names the parties as they are now
    day = agreement.start_on
    agreements.sign_agreement(world.cw_a, renewal, day, today=day)
    assert (renewal.party_a_name, renewal.party_b_name, renewal.party_c_name) == (NEW_NAME, "改名成员", "嘉兴市总工会")
    assert agreements.parties(agreement).a_name == OLD_NAME


def test_the_migration_fills_the_parties_of_agreements_signed_before_it(world, signed):
    market, agreement, old = signed
    draft = agreements.renew_agreement(world.cw_a, agreement)
    db.session.execute(
        update(Agreement)
        .where(Agreement.id == agreement.id)
        .values(party_a_name=None, party_a_credit_code=None, party_b_name=None, party_c_name=None)
    )
    path = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0017_sponsor_identity.py"
    spec = importlib.util.spec_from_file_location("migration_0017", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    migration.backfill_parties(db.session.connection())
    db.session.expire_all()
    # the best record there is of an agreement signed before: the names in force when the migration ran
    assert (
        agreement.party_a_name,
        agreement.party_a_credit_code,
        agreement.party_b_name,
        agreement.party_c_name,
    ) == (NEW_NAME, market.org.credit_code, "改名成员", "嘉兴市总工会")
    assert draft.party_a_name is None  # a draft is not signed: nothing to keep yet
