"""A scheme whose September and October 2026 batches were approved before a second agreement, covering both months,
was entered on paper (the late agreement): its two months must still be paid, as supplementary records (补发)."""

from dataclasses import dataclass
from datetime import date

from assist.extensions import db
from assist.stipends import payments
from assist.stipends.operations import generate_month
from tests import factories
from tests.reports.conftest import paper

TODAY = date(2026, 11, 24)


@dataclass
class Late:
    market: object
    on_time: object  # org's agreement from 1 September 2026 (500 yuan), in both approved batches
    late: object  # other_org's agreement from 16 September 2026 (300 yuan), entered after both approvals


def build(world, approve: tuple[str, ...] = ("2026-09", "2026-10"), generate: tuple[str, ...] = ("2026-09", "2026-10")):
    market = factories.build_market(world)
    on_time = paper(world.cw_a, "330482001001", market.org, 50_000, start=date(2026, 9, 1))
    db.session.commit()
    for month in generate:
        generate_month(month, today=TODAY)
        if month in approve:
            payments.approve_batch(world.admin, month, today=TODAY)
    db.session.commit()
    late = paper(world.cw_b, "330482002001", market.other_org, 30_000, start=date(2026, 9, 16))
    db.session.commit()
    return Late(market, on_time, late)
