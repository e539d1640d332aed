"""A ledger of stipend records generated from paper agreements in both towns, with hostile sponsor names."""

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import update

from assist.agreements import operations as agreements
from assist.enums import StipendStatus
from assist.extensions import db
from assist.stipends.models import StipendRecord
from assist.stipends.operations import generate_month
from tests import factories

TODAY = date(2026, 11, 24)
MONTH = "2025-04"
HOSTILE = '=HYPERLINK("http://evil.example","点我")'


@dataclass
class Ledger:
    market: object
    kind: object  # an approved sponsor in town A
    hostile: object  # a sponsor named like a spreadsheet formula
    plus: object
    at: object
    agreements: list


def paper(cw, area_code: str, sponsor, amount: int, start: date = date(2025, 1, 1), end: date = date(2027, 3, 31)):
    """A family in ``area_code`` whose member's post is carried by ``sponsor`` under a paper agreement."""
    family = factories.family(
        cw,
        area_code,
        members=[factories.member(work_ability="none")],
        consent_on=date(2024, 12, 1),
        consent_scope="帮扶所需信息",
    )
    post = factories.post(cw, family, monthly_amount_fen=amount)
    return agreements.enter_paper_agreement(
        cw, post, sponsor, {"start_on": start, "end_on": end, "signed_on": start}, today=TODAY
    )


@pytest.fixture
def ledger(world):
    market = factories.build_market(world)
    kind = market.org
    hostile = factories.sponsor(HOSTILE, admin=world.admin)
    plus = factories.sponsor("+1 爱心", admin=world.admin)
    at = factories.sponsor("@SUM(A1:A9)", admin=world.admin)
    made = [
        paper(world.cw_a, "330482001001", kind, 50_000),
        paper(world.cw_a, "330482001001", kind, 30_000),
        paper(world.cw_a, "330482001", hostile, 40_000),  # a family registered at town level
        paper(world.cw_b, "330482002001", plus, 60_000, start=date(2025, 4, 16)),  # half of April: 30,000
        paper(world.cw_b, "330482002001", at, 20_000),
    ]
    db.session.commit()
    for month in ("2025-03", MONTH, "2025-05"):
        generate_month(month, today=TODAY)
    # kind pays its April records; the rest stay unpaid
    db.session.execute(
        update(StipendRecord)
        .where(StipendRecord.month == MONTH, StipendRecord.sponsor_id == kind.id)
        .values(status=StipendStatus.PAID.value, paid_on=date(2025, 5, 10), reference="TRX-1")
    )
    db.session.commit()
    return Ledger(market, kind, hostile, plus, at, made)
