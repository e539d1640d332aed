"""Reports (报表): the monthly payout report, sponsors' statements and certificates, the running totals, the dashboard.

Every figure is a set-based aggregate computed by the database (GROUP BY), never a loop over records in Python, and
every query goes through the caller's scope: an admin sees everything, a caseworker the records of their areas, a
sponsor its own records only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import g, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, literal_column, select

from assist.agreements.models import Agreement
from assist.areas.models import Area
from assist.assessments.models import ColourChange
from assist.db_types import SHANGHAI, local_today, utcnow
from assist.enums import Colour, FamilyStatus, PostStatus, Role, SponsorStatus, StipendStatus
from assist.errors import NotFound, ValidationFailed
from assist.extensions import db
from assist.families.models import Family, Member
from assist.permissions import agreement_scope, post_scope, scope_filter
from assist.posts.models import Post
from assist.sponsors.models import Sponsor
from assist.stipends.models import StipendRecord
from assist.stipends.operations import PAYING, month_of, parse_month
from assist.stipends.payments import SUPPLEMENTARY

#: the level the area breakdown rolls communities up to: 0 city, 1 district/town, 2 community
ROLLUP_DEPTH = 1
COLOURS = (Colour.RED.value, Colour.YELLOW.value, Colour.GREEN.value)
POST_STATES = tuple(s.value for s in PostStatus)


# scope ----------------------------------------------------------------------------------------------------------------


def record_scope(user):
    """A WHERE clause keeping the stipend records ``user`` may count: all (admin), their areas (caseworker), its own
    (sponsor), none (anyone else). ``user=None`` is the command line, which acts for the union and sees all."""
    if user is None or user.role == Role.ADMIN:
        return True
    if user.role == Role.CASEWORKER:
        return scope_filter(StipendRecord.area_id, user)
    if user.role == Role.SPONSOR and user.sponsor_id:
        return StipendRecord.sponsor_id == user.sponsor_id
    return False


def last_finished_month(today: date | None = None) -> str:
    """The month before this one (stipends are paid in arrears, so this is the month a report is usually about)."""
    today = today or local_today()
    return month_of(today.replace(day=1) - timedelta(days=1))


def last_year(today: date | None = None) -> int:
    """The last full year (certificates thank a sponsor for a finished year)."""
    return (today or local_today()).year - 1


def shift_month(month: str, by: int) -> str:
    year, number = int(month[:4]), int(month[5:]) - 1 + by
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def months_back(last: str, count: int) -> list[str]:
    """``count`` months ending with ``last``, oldest first."""
    return [shift_month(last, -n) for n in range(count - 1, -1, -1)]


# the monthly payout report --------------------------------------------------------------------------------------------


@dataclass
class Line:
    """One row of a breakdown: a sponsor, an area or a colour, with its records and money."""

    key: object
    name: str
    records: int
    amount_fen: int
    paid_fen: int
    code: str = ""

    @property
    def unpaid_fen(self) -> int:
        return self.amount_fen - self.paid_fen


@dataclass
class Supplementary:
    """A late month (补发) the batch pays: a record of an earlier month whose own batch was already approved."""

    id: int
    month: str  # the month worked
    sponsor_id: int
    sponsor_name: str
    agreement_number: str
    amount_fen: int
    status: StipendStatus

    @property
    def payment_code(self) -> str:
        return f"ST{self.id}"


@dataclass
class MonthlyReport:
    """A month's batch: every record it pays, its own month's and the supplementary ones (补发) of earlier months."""

    month: str
    by_sponsor: list[Line]
    by_area: list[Line]
    by_colour: list[Line]
    #: the late records among them, each with its month worked
    supplementary: list[Supplementary] = field(default_factory=list)
    generated_at: datetime = field(default_factory=utcnow)
    #: set on a sponsor's statement
    sponsor: Sponsor | None = None

    @property
    def totals(self) -> dict[str, int]:
        """Sums of the colour breakdown (every record has exactly one colour row, "not assessed" included)."""
        records = sum(line.records for line in self.by_colour)
        amount = sum(line.amount_fen for line in self.by_colour)
        paid = sum(line.paid_fen for line in self.by_colour)
        return {"records": records, "amount_fen": amount, "paid_fen": paid, "unpaid_fen": amount - paid}

    @property
    def empty(self) -> bool:
        return not self.by_colour


def _money(records):
    """count, amount and the paid part of it, for a GROUP BY over stipend records."""
    paid = func.sum(case((records.c.status == StipendStatus.PAID.value, records.c.amount_fen), else_=0))
    return func.count().label("records"), func.sum(records.c.amount_fen).label("amount_fen"), paid.label("paid_fen")


def _month_records(month: str, user, sponsor_id: int | None = None):
    """The records the month's batch pays, in scope, as a subquery with the columns the breakdowns group by."""
    stmt = select(
        StipendRecord.sponsor_id,
        StipendRecord.area_id,
        StipendRecord.colour,
        StipendRecord.status,
        StipendRecord.amount_fen,
    ).where(StipendRecord.paid_in == month, record_scope(user))
    if sponsor_id is not None:
        stmt = stmt.where(StipendRecord.sponsor_id == sponsor_id)
    return stmt.subquery("r")


def supplementary_records(month: str, user, sponsor_id: int | None = None) -> list[Supplementary]:
    """The late records (补发) the month's batch pays, in scope, by month worked and sponsor."""
    stmt = (
        select(
            StipendRecord.id,
            StipendRecord.month,
            StipendRecord.sponsor_id,
            Sponsor.name,
            Agreement.number,
            StipendRecord.amount_fen,
            StipendRecord.status,
        )
        .join(Sponsor, Sponsor.id == StipendRecord.sponsor_id)
        .join(Agreement, Agreement.id == StipendRecord.agreement_id)
        .where(StipendRecord.paid_in == month, SUPPLEMENTARY, record_scope(user))
        .order_by(StipendRecord.month, Sponsor.name, Agreement.number, StipendRecord.id)
    )
    if sponsor_id is not None:
        stmt = stmt.where(StipendRecord.sponsor_id == sponsor_id)
    return [Supplementary(*row) for row in db.session.execute(stmt)]


def rollup_map():
    """area id → the id of its ancestor at ROLLUP_DEPTH (itself when it lies higher), from the materialised paths."""
    area, upper = Area.__table__.alias("a"), Area.__table__.alias("t")
    return (
        select(area.c.id.label("area_id"), upper.c.id.label("town_id"))
        .join(upper, _depth_match(area, upper) & area.c.path.startswith(upper.c.path))
        .subquery("m")
    )


def _depth_match(area, upper):
    return upper.c.depth == case((area.c.depth < ROLLUP_DEPTH, area.c.depth), else_=ROLLUP_DEPTH)


def by_sponsor_stmt(records):
    grouped = select(records.c.sponsor_id, *_money(records)).group_by(records.c.sponsor_id).subquery("g")
    return (
        select(Sponsor.id, Sponsor.name, grouped.c.records, grouped.c.amount_fen, grouped.c.paid_fen)
        .join(grouped, grouped.c.sponsor_id == Sponsor.id)
        .order_by(grouped.c.amount_fen.desc(), Sponsor.name, Sponsor.id)
    )


def by_area_stmt(records):
    """Grouped by area first (an index range per month), then the few area groups rolled up to their town."""
    grouped = select(records.c.area_id, *_money(records)).group_by(records.c.area_id).subquery("g")
    towns = rollup_map()
    rolled = (
        select(
            towns.c.town_id,
            func.sum(grouped.c.records).label("records"),
            func.sum(grouped.c.amount_fen).label("amount_fen"),
            func.sum(grouped.c.paid_fen).label("paid_fen"),
        )
        .join(towns, towns.c.area_id == grouped.c.area_id)
        .group_by(towns.c.town_id)
        .subquery("t")
    )
    return (
        select(Area.id, Area.name, rolled.c.records, rolled.c.amount_fen, rolled.c.paid_fen, Area.code)
        .join(rolled, rolled.c.town_id == Area.id)
        .order_by(Area.code)
    )


def by_colour_stmt(records):
    return select(records.c.colour, *_money(records)).group_by(records.c.colour)


def _lines(rows, name=None) -> list[Line]:
    out = []
    for row in rows:
        key = row[0]
        out.append(
            Line(
                key=key,
                name=name(key) if name else row[1],
                records=int(row.records),
                amount_fen=int(row.amount_fen or 0),
                paid_fen=int(row.paid_fen or 0),
                code=row[5] if len(row) > 5 else "",
            )
        )
    return out


def colour_name(colour) -> str:
    from assist.enums import label

    return str(label(Colour(colour))) if colour else str(_l("Not assessed"))


def monthly_report(month: str, user, sponsor_id: int | None = None) -> MonthlyReport:
    """The month's payout by sponsor, by town and by colour, with totals, within ``user``'s scope (每月发放报表): every
    record the month's batch pays, the supplementary ones (补发) of earlier months included and listed apart.

    Three GROUP BY queries; the totals are the sums of the colour rows. ValidationFailed for a malformed month.
    """
    parse_month(month)
    records = _month_records(month, user, sponsor_id)
    by_sponsor = _lines(db.session.execute(by_sponsor_stmt(records)))
    by_area = _lines(db.session.execute(by_area_stmt(records)))
    colour_rows = {(row[0].value if row[0] else None): row for row in db.session.execute(by_colour_stmt(records))}
    by_colour = _lines(
        [colour_rows[c] for c in (*COLOURS, None) if c in colour_rows],
        name=colour_name,
    )
    for line in by_colour:
        line.key = line.key.value if isinstance(line.key, Colour) else line.key
    supplementary = supplementary_records(month, user, sponsor_id)
    return MonthlyReport(month, by_sponsor, by_area, by_colour, supplementary)


# a sponsor's statement and certificate ---------------------------------------------------------------------------------


@dataclass
class StatementLine:
    agreement_number: str
    member_name: str
    post_title: str
    area_name: str
    days: int
    days_in_month: int
    amount_fen: int
    status: str
    paid_on: date | None
    reference: str
    #: the month worked: another than the statement's for a supplementary record (补发)
    month: str = ""


def sponsor_statement(sponsor: Sponsor, month: str) -> tuple[MonthlyReport, list[StatementLine]]:
    """A sponsor's month (对账单): its totals and one line per record the month's batch pays — per agreement, and per
    late month (补发) — (records exist only for signed agreements, whose member the sponsor may know by name)."""
    report = monthly_report(month, None, sponsor_id=sponsor.id)
    report.sponsor = sponsor
    rows = db.session.execute(
        select(
            Agreement.number,
            Member.name,
            Post.title,
            Area.name,
            StipendRecord.days,
            StipendRecord.days_in_month,
            StipendRecord.amount_fen,
            StipendRecord.status,
            StipendRecord.paid_on,
            StipendRecord.reference,
            StipendRecord.month,
        )
        .join(Agreement, Agreement.id == StipendRecord.agreement_id)
        .join(Member, Member.id == Agreement.member_id)
        .join(Post, Post.id == Agreement.post_id)
        .join(Area, Area.id == StipendRecord.area_id)
        .where(StipendRecord.sponsor_id == sponsor.id, StipendRecord.paid_in == month)
        .order_by(Agreement.number, StipendRecord.month, StipendRecord.id)
    ).all()
    lines = [StatementLine(*row[:7], row[7].value, *row[8:]) for row in rows]
    return report, lines


@dataclass
class YearFigures:
    sponsor: Sponsor
    year: int
    posts: int
    paid_fen: int
    months: int


def parse_year(value) -> int:
    """A year from 2000 to 2099 (ValidationFailed otherwise)."""
    text = str(value or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) == 4 and 2000 <= int(text) <= 2099):
        message = str(_l("Enter a year such as 2025."))
        raise ValidationFailed(message, {"year": message})
    return int(text)


def _year_months(year: int):
    """The records the year's twelve batches pay (so a year is the sum of its monthly reports)."""
    return StipendRecord.paid_in.between(f"{year:04d}-01", f"{year:04d}-12")


def sponsors_paid_in(year: int) -> list[YearFigures]:
    """Every sponsor with payments in ``year``: posts carried and yuan paid (one GROUP BY), largest first."""
    paid = StipendRecord.status == StipendStatus.PAID.value
    grouped = (
        select(
            StipendRecord.sponsor_id,
            func.count(func.distinct(StipendRecord.agreement_id)).label("posts"),
            func.sum(StipendRecord.amount_fen).label("paid_fen"),
            func.count(func.distinct(StipendRecord.paid_in)).label("months"),
        )
        .where(_year_months(year), paid)
        .group_by(StipendRecord.sponsor_id)
        .subquery("g")
    )
    rows = db.session.execute(
        select(Sponsor, grouped.c.posts, grouped.c.paid_fen, grouped.c.months)
        .join(grouped, grouped.c.sponsor_id == Sponsor.id)
        .order_by(grouped.c.paid_fen.desc(), Sponsor.name)
    ).all()
    return [YearFigures(s, year, int(posts), int(fen), int(months)) for s, posts, fen, months in rows]


def year_figures(sponsor: Sponsor, year: int) -> YearFigures:
    """What a sponsor carried and paid in ``year`` (爱心证书); NotFound when it paid nothing that year."""
    row = db.session.execute(
        select(
            func.count(func.distinct(StipendRecord.agreement_id)),
            func.coalesce(func.sum(StipendRecord.amount_fen), 0),
            func.count(func.distinct(StipendRecord.paid_in)),
        ).where(
            StipendRecord.sponsor_id == sponsor.id, _year_months(year), StipendRecord.status == StipendStatus.PAID.value
        )
    ).one()
    if not row[1]:
        raise NotFound(str(_l("No payments from this sponsor in %(year)s.", year=year)))
    return YearFigures(sponsor, year, int(row[0]), int(row[1]), int(row[2]))


# running totals and the dashboard ---------------------------------------------------------------------------------------


@dataclass
class RunningTotals:
    """The figures the scheme is judged by (累计成效)."""

    posts_created: int
    posts_active: int
    sponsors: int
    paid_fen: int
    families_helped: int


def running_totals(user) -> RunningTotals:
    """Posts ever created, active posts, approved sponsors, yuan paid and families helped, in one round trip and
    cached for the request. A caseworker counts their areas (sponsors: those carrying agreements there)."""
    key = ("assist_running_totals", getattr(user, "id", None))
    cache = g.setdefault("assist_reports", {}) if has_app_context() else {}
    if key in cache:
        return cache[key]
    staff_scope = user is None or user.role == Role.ADMIN
    posts = select(func.count()).select_from(Post).where(post_scope(user) if user else True)
    active = posts.where(Post.status == PostStatus.ACTIVE)
    paying = (Agreement.status.in_(PAYING), Agreement.signed_on.is_not(None))
    if staff_scope:
        sponsors = select(func.count()).select_from(Sponsor).where(Sponsor.status == SponsorStatus.APPROVED)
    else:
        sponsors = select(func.count(func.distinct(Agreement.sponsor_id))).where(agreement_scope(user), *paying)
    paid = select(func.coalesce(func.sum(StipendRecord.amount_fen), 0)).where(
        StipendRecord.status == StipendStatus.PAID.value, record_scope(user)
    )
    families = select(func.count(func.distinct(Agreement.family_id))).where(
        agreement_scope(user) if user else True, *paying
    )
    row = db.session.execute(
        select(
            posts.scalar_subquery(),
            active.scalar_subquery(),
            sponsors.scalar_subquery(),
            paid.scalar_subquery(),
            families.scalar_subquery(),
        )
    ).one()
    totals = RunningTotals(*(int(v or 0) for v in row))
    cache[key] = totals
    return totals


@dataclass
class Series:
    """A chart's numbers: labels and one or more named series of values (the table under the chart shows them)."""

    labels: list[str]
    series: list[tuple[str, str, list[int]]]  # (name, colour, values)

    @property
    def rows(self) -> list[tuple[str, list[int]]]:
        return [(label, [values[i] for _n, _c, values in self.series]) for i, label in enumerate(self.labels)]

    @property
    def empty(self) -> bool:
        return not any(v for _n, _c, values in self.series for v in values)

    def datasets(self, divisor: int = 1) -> list[dict]:
        """The chart's data-datasets (money charts are drawn in yuan: display only, the table shows exact figures)."""
        return [
            {"label": name, "colour": colour, "values": [v / divisor if divisor != 1 else v for v in values]}
            for name, colour, values in self.series
        ]


@dataclass
class Dashboard:
    totals: RunningTotals
    families_total: int
    by_colour: dict[str, int]
    by_type: dict[str, int]
    overdue: int
    exit_candidates: int
    month: str
    month_amount_fen: int
    month_unpaid_fen: int
    red_waiting: int
    red_longest_days: int | None
    colour_changes: Series
    posts_by_state: dict[str, int]
    payouts: Series

    @property
    def types(self) -> Series:
        from assist.enums import ProfileType, label

        kinds = list(ProfileType)
        return Series([str(label(k)) for k in kinds], [("", "#6f42c1", [self.by_type.get(k.value, 0) for k in kinds])])

    @property
    def states(self) -> Series:
        from assist.enums import label

        states = list(PostStatus)
        values = [self.posts_by_state.get(s.value, 0) for s in states]
        return Series([str(label(s)) for s in states], [("", "#0d6efd", values)])


COLOUR_HEX = {"red": "#dc3545", "yellow": "#ffc107", "green": "#198754"}


def _local_month(column):
    """The Asia/Shanghai month (YYYY-MM) of a naive-UTC timestamp column; Shanghai keeps no summer time."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(column + literal_column("interval '8 hours'"), "YYYY-MM")
    return func.strftime("%Y-%m", column, "+8 hours")


def dashboard(user, today: date | None = None) -> Dashboard:
    """Everything on the staff landing page, within the user's scope, in a handful of GROUP BY queries."""
    today = today or local_today()
    scoped = (Family.status == FamilyStatus.ACTIVE) & scope_filter(Family.area_id, user)
    by_colour: dict[str, int] = {}
    by_type: dict[str, int] = {}
    families_total = overdue = exit_candidates = 0
    for colour, kind, n, late, exits in db.session.execute(
        select(
            Family.colour,
            Family.primary_type,
            func.count(),
            func.sum(case((Family.next_review_on < today, 1), else_=0)),
            func.sum(case((Family.exit_flagged_on.is_not(None), 1), else_=0)),
        )
        .where(scoped)
        .group_by(Family.colour, Family.primary_type)
    ):
        families_total += n
        overdue += int(late or 0)
        exit_candidates += int(exits or 0)
        if colour:
            by_colour[colour.value] = by_colour.get(colour.value, 0) + n
        if kind:
            by_type[kind.value] = by_type.get(kind.value, 0) + n

    posts_by_state = {
        status.value: n
        for status, n in db.session.execute(
            select(Post.status, func.count()).where(post_scope(user)).group_by(Post.status)
        )
    }
    red_waiting, oldest = db.session.execute(
        select(func.count(), func.min(Post.published_at)).where(
            post_scope(user), Post.status == PostStatus.OPEN, Post.colour_rank == 0
        )
    ).one()
    red_longest = None
    if oldest is not None:
        red_longest = (today - oldest.astimezone(SHANGHAI).date()).days

    last = last_finished_month(today)
    months = months_back(last, 12)
    payout_rows = {
        month: (int(amount or 0), int(paid or 0))
        for month, amount, paid in db.session.execute(
            select(
                StipendRecord.paid_in,
                func.sum(StipendRecord.amount_fen),
                func.sum(case((StipendRecord.status == StipendStatus.PAID.value, StipendRecord.amount_fen), else_=0)),
            )
            .where(StipendRecord.paid_in.between(months[0], last), record_scope(user))
            .group_by(StipendRecord.paid_in)
        )
    }
    paid_series = [payout_rows.get(m, (0, 0))[1] for m in months]
    unpaid_series = [payout_rows.get(m, (0, 0))[0] - payout_rows.get(m, (0, 0))[1] for m in months]
    payouts = Series(
        months,
        [(str(_l("Paid")), "#198754", paid_series), (str(_l("Unpaid")), "#adb5bd", unpaid_series)],
    )
    month_amount, month_paid = payout_rows.get(last, (0, 0))

    change_months = [*months[1:], month_of(today)]  # colour changes happen this month too
    first_day = datetime.strptime(change_months[0] + "-01", "%Y-%m-%d").replace(tzinfo=SHANGHAI)
    changed = _local_month(ColourChange.at).label("month")
    change_counts: dict[tuple[str, str], int] = {}
    for month, to_colour, n in db.session.execute(
        select(changed, ColourChange.to_colour, func.count())
        .join(Family, Family.id == ColourChange.family_id)
        .where(ColourChange.at >= first_day, scope_filter(Family.area_id, user))
        .group_by(changed, ColourChange.to_colour)
    ):
        change_counts[(month, to_colour.value)] = n
    colour_changes = Series(
        change_months,
        [(colour_name(c), COLOUR_HEX[c], [change_counts.get((m, c), 0) for m in change_months]) for c in COLOURS],
    )
    return Dashboard(
        totals=running_totals(user),
        families_total=families_total,
        by_colour=by_colour,
        by_type=by_type,
        overdue=overdue,
        exit_candidates=exit_candidates,
        month=last,
        month_amount_fen=month_amount,
        month_unpaid_fen=month_amount - month_paid,
        red_waiting=int(red_waiting or 0),
        red_longest_days=red_longest,
        colour_changes=colour_changes,
        posts_by_state=posts_by_state,
        payouts=payouts,
    )


@dataclass
class SponsorSummary:
    sponsor: Sponsor | None
    claims: int
    posts_carried: int
    agreements: dict[str, int]
    unpaid_records: int
    unpaid_fen: int
    paid_fen: int
    months: list[Line]
    years: list[int]


def sponsor_summary(user, today: date | None = None) -> SponsorSummary:
    """A sponsor's landing page: its claims, agreements and payments, recent months and certificate years."""
    today = today or local_today()
    sponsor = db.session.get(Sponsor, user.sponsor_id) if user.sponsor_id else None
    if sponsor is None:
        return SponsorSummary(None, 0, 0, {}, 0, 0, 0, [], [])
    post_counts = dict(
        db.session.execute(
            select(Post.status, func.count()).where(Post.sponsor_id == sponsor.id).group_by(Post.status)
        ).all()
    )
    agreements = {
        status.value: n
        for status, n in db.session.execute(
            select(Agreement.status, func.count()).where(Agreement.sponsor_id == sponsor.id).group_by(Agreement.status)
        )
    }
    paid_case = case((StipendRecord.status == StipendStatus.PAID.value, StipendRecord.amount_fen), else_=0)
    unpaid_case = case((StipendRecord.status != StipendStatus.PAID.value, 1), else_=0)
    rows = db.session.execute(
        select(
            StipendRecord.paid_in,
            func.count(),
            func.sum(StipendRecord.amount_fen),
            func.sum(paid_case),
            func.sum(unpaid_case),
        )
        .where(StipendRecord.sponsor_id == sponsor.id)
        .group_by(StipendRecord.paid_in)
        .order_by(StipendRecord.paid_in.desc())
    ).all()
    months = [Line(m, m, int(n), int(amount or 0), int(paid or 0)) for m, n, amount, paid, _u in rows]
    years = sorted({int(line.key[:4]) for line in months if line.paid_fen}, reverse=True)
    return SponsorSummary(
        sponsor=sponsor,
        claims=post_counts.get(PostStatus.CLAIMED, 0),
        posts_carried=post_counts.get(PostStatus.ACTIVE, 0) + post_counts.get(PostStatus.SUSPENDED, 0),
        agreements=agreements,
        unpaid_records=sum(int(r[4] or 0) for r in rows),
        unpaid_fen=sum(line.unpaid_fen for line in months),
        paid_fen=sum(line.paid_fen for line in months),
        months=months[:12],
        years=years,
    )
