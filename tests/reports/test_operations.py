"""The monthly report, statements, certificates, running totals and the dashboard, without HTTP."""

from datetime import date

import pytest
from sqlalchemy import func, select, update

from assist.enums import StipendStatus
from assist.errors import NotFound, ValidationFailed
from assist.extensions import db
from assist.families.models import Family
from assist.reports import operations as reports
from assist.stipends.models import StipendRecord
from tests.reports.conftest import MONTH


def _sums(*where):
    paid = func.sum(func.coalesce((StipendRecord.status == "paid").cast(db.Integer), 0) * StipendRecord.amount_fen)
    return db.session.execute(
        select(func.count(), func.coalesce(func.sum(StipendRecord.amount_fen), 0), func.coalesce(paid, 0)).where(
            StipendRecord.month == MONTH, *where
        )
    ).one()


def test_totals_equal_the_sum_of_the_records(ledger, world):
    report = reports.monthly_report(MONTH, world.admin)
    records, amount, paid = _sums()
    assert records == 5
    assert amount == 50_000 + 30_000 + 40_000 + 30_000 + 20_000
    assert report.totals == {"records": records, "amount_fen": amount, "paid_fen": paid, "unpaid_fen": amount - paid}
    assert paid == 80_000
    for lines in (report.by_sponsor, report.by_area, report.by_colour):
        assert sum(x.records for x in lines) == records
        assert sum(x.amount_fen for x in lines) == amount
        assert sum(x.paid_fen for x in lines) == paid


def test_by_sponsor_matches_each_sponsors_records(ledger, world):
    report = reports.monthly_report(MONTH, world.admin)
    by_id = {x.key: x for x in report.by_sponsor}
    assert set(by_id) == {ledger.kind.id, ledger.hostile.id, ledger.plus.id, ledger.at.id}
    for sponsor_id, line in by_id.items():
        assert (line.records, line.amount_fen, line.paid_fen) == tuple(_sums(StipendRecord.sponsor_id == sponsor_id))
    assert by_id[ledger.kind.id].name == ledger.kind.name
    assert by_id[ledger.plus.id].amount_fen == 30_000  # from the 16th: 60,000 × 15 / 30
    assert report.by_sponsor[0].key == ledger.kind.id  # largest first


def test_by_area_rolls_communities_up_to_their_town(ledger, world):
    report = reports.monthly_report(MONTH, world.admin)
    towns = {x.code: (x.name, x.records, x.amount_fen) for x in report.by_area}
    # town A: two records in 东湖社区 and one registered at the town itself; town B: two in 钟埭社区
    assert towns == {"330482001": ("当湖街道", 3, 120_000), "330482002": ("钟埭街道", 2, 50_000)}


def test_by_colour_counts_the_snapshot_colour(ledger, world):
    report = reports.monthly_report(MONTH, world.admin)
    expected = dict(
        db.session.execute(
            select(StipendRecord.colour, func.count())
            .where(StipendRecord.month == MONTH)
            .group_by(StipendRecord.colour)
        ).all()
    )
    assert {x.key: x.records for x in report.by_colour} == {(k.value if k else None): n for k, n in expected.items()}
    # the record keeps the colour it was generated with, whatever the family is now
    db.session.execute(update(Family).values(colour="green"))
    assert [(x.key, x.records) for x in reports.monthly_report(MONTH, world.admin).by_colour] == [
        (x.key, x.records) for x in report.by_colour
    ]


def test_a_caseworker_sees_their_areas_and_a_sponsor_its_own(ledger, world):
    town_a = reports.monthly_report(MONTH, world.cw_a)
    assert town_a.totals["records"] == 3 and [x.code for x in town_a.by_area] == ["330482001"]
    assert {x.key for x in town_a.by_sponsor} == {ledger.kind.id, ledger.hostile.id}
    town_b = reports.monthly_report(MONTH, world.cw_b)
    assert town_b.totals["amount_fen"] == 50_000
    city = reports.monthly_report(MONTH, world.cw_city)
    assert city.totals == reports.monthly_report(MONTH, world.admin).totals
    own = reports.monthly_report(MONTH, world.sponsor)  # world.sponsor speaks for the kind sponsor
    assert [x.key for x in own.by_sponsor] == [ledger.kind.id]
    assert own.totals["records"] == 2
    assert reports.monthly_report(MONTH, world.provider).empty


def test_an_empty_month_and_a_bad_month(ledger, world):
    report = reports.monthly_report("2019-01", world.admin)
    assert report.empty and report.totals == {"records": 0, "amount_fen": 0, "paid_fen": 0, "unpaid_fen": 0}
    for bad in ("2025-13", "2025-4", "april", "", "2025-04; DROP TABLE x"):
        with pytest.raises(ValidationFailed) as caught:
            reports.monthly_report(bad, world.admin)
        assert "month" in caught.value.fields


def test_statement_lists_the_sponsors_agreements(ledger, world):
    report, lines = reports.sponsor_statement(ledger.kind, MONTH)
    assert report.sponsor is ledger.kind
    assert sorted(x.amount_fen for x in lines) == [30_000, 50_000]
    assert all(x.status == "paid" and x.reference == "TRX-1" for x in lines)
    assert report.totals["amount_fen"] == 80_000
    _, others = reports.sponsor_statement(ledger.plus, MONTH)
    assert [(x.days, x.days_in_month) for x in others] == [(15, 30)]


def test_year_figures_count_paid_records_only(ledger, world):
    figures = reports.year_figures(ledger.kind, 2025)
    assert (figures.posts, figures.paid_fen, figures.months) == (2, 80_000, 1)
    with pytest.raises(NotFound):
        reports.year_figures(ledger.plus, 2025)  # nothing paid
    with pytest.raises(NotFound):
        reports.year_figures(ledger.kind, 2024)
    assert [f.sponsor.id for f in reports.sponsors_paid_in(2025)] == [ledger.kind.id]
    assert reports.sponsors_paid_in(2024) == []
    for bad in ("25", "abcd", "1999", "２０２５", None):
        with pytest.raises(ValidationFailed):
            reports.parse_year(bad)


def test_running_totals(ledger, world):
    totals = reports.running_totals(world.admin)
    paid = db.session.scalar(select(func.sum(StipendRecord.amount_fen)).where(StipendRecord.status == "paid"))
    # build_market's claimed and open posts, and the five paper agreements' posts
    assert (totals.posts_created, totals.posts_active) == (7, 5)
    assert totals.sponsors == 5  # approved: kind, the market's second, and the three hostile-named ones
    assert totals.paid_fen == paid == 80_000
    assert totals.families_helped == 5
    town_b = reports.running_totals(world.cw_b)
    assert (town_b.posts_created, town_b.posts_active, town_b.sponsors, town_b.paid_fen) == (3, 2, 2, 0)


def test_running_totals_are_cached_for_the_request(app, ledger, world):
    from assist.auth.models import User

    admin_id = world.admin.id
    db.session.commit()  # the fixture's session lets go of the database
    with app.app_context(), app.test_request_context():  # a request of its own, as in production
        admin = db.session.get(User, admin_id)
        first = reports.running_totals(admin)
        db.session.execute(update(StipendRecord).values(status=StipendStatus.PAID.value))
        db.session.commit()
        assert reports.running_totals(admin) is first
    with app.app_context(), app.test_request_context():
        assert reports.running_totals(db.session.get(User, admin_id)).paid_fen > first.paid_fen


def test_dashboard_figures(ledger, world):
    d = reports.dashboard(world.admin, today=date(2025, 6, 3))
    assert d.month == "2025-05"
    assert d.month_amount_fen == 50_000 + 30_000 + 40_000 + 60_000 + 20_000
    assert d.month_unpaid_fen == d.month_amount_fen
    april = d.payouts.labels.index(MONTH)
    assert [s[2][april] for s in d.payouts.series] == [80_000, 90_000]  # paid, unpaid
    assert d.posts_by_state == {"active": 5, "claimed": 1, "open": 1}
    assert d.families_total == db.session.scalar(select(func.count()).select_from(Family))
    scoped = reports.dashboard(world.cw_b, today=date(2025, 6, 3))
    assert scoped.month_amount_fen == 80_000
    assert scoped.families_total < d.families_total


def test_dashboard_with_nothing(world):
    d = reports.dashboard(world.provider)
    assert d.families_total == 0 and d.payouts.empty and d.colour_changes.empty
    assert d.red_waiting == 0 and d.red_longest_days is None


def test_dashboard_counts_colour_changes_by_month_and_colour(world):
    from assist.assessments.models import ColourChange

    changes = db.session.execute(select(ColourChange.to_colour, func.count()).group_by(ColourChange.to_colour)).all()
    assert changes  # the world's families were assessed when they were opened
    d = reports.dashboard(world.admin)
    assert d.colour_changes.labels[-1] == reports.month_of(reports.local_today())
    by_colour = {name: sum(values) for name, _c, values in d.colour_changes.series}
    assert by_colour == {reports.colour_name(c): {k.value: n for k, n in changes}.get(c, 0) for c in reports.COLOURS}
    town_b = reports.dashboard(world.cw_b)
    assert sum(v for _n, _c, values in town_b.colour_changes.series for v in values) == 1  # family_b only
