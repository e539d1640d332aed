"""(h) Generating one month of stipends for 100,000 active agreements, beside its floor: a raw ``executemany`` of the
same rows into the same table (same indexes), through the bare driver; and (i) the repeated run (all records exist).

The agreements are added to the benchmark families set-based (one post and one signed agreement per family, 100
sponsors) and kept, tagged by their number prefix, so later runs reuse them.
"""

import time
from datetime import date

from sqlalchemy import String, cast, func, insert, literal, select, text

PREFIX = "BENCH-"
MONTH = "2025-06"
SPONSORS = 100
COLUMNS = (
    "agreement_id, month, paid_in, kind, sponsor_id, area_id, family_id, colour, days, days_in_month, monthly_amount_fen, "
    "amount_fen, status, reference, reason, failure_reason, attempts, created_at"
)


def ensure_agreements(app, wanted: int, log=print) -> int:
    """``wanted`` signed agreements active all of MONTH (built once, set-based); returns how many there are."""
    from assist.agreements.models import Agreement
    from assist.db_types import utcnow
    from assist.extensions import db
    from assist.families.models import Family, Member
    from assist.posts.models import Post
    from assist.sponsors import creditcode
    from assist.sponsors.models import Sponsor

    with app.app_context():
        have = db.session.scalar(select(func.count(Agreement.id)).where(Agreement.number.startswith(PREFIX)))
        if have >= wanted:
            return have
        started = time.perf_counter()
        now = utcnow()
        first = db.session.scalar(select(func.coalesce(func.max(Sponsor.id), 0))) + 1
        db.session.execute(
            insert(Sponsor),
            [
                {
                    "name": f"基准爱心单位{n:03d}",
                    "credit_code": creditcode.make(f"91330482BM{first + n:07d}"),
                    "contact_name": "基准",
                    "phone": "0573-85000000",
                    "status": "approved",
                    "created_at": now,
                }
                for n in range(SPONSORS)
            ],
        )
        # one post per family, for its first member who is not the head and holds no post yet (the market case
        # has given open posts to the first non-head members of 20,000 families)
        members = (
            select(Member.family_id, func.min(Member.id).label("member_id"))
            .where(Member.relation != "self", Member.id.not_in(select(Post.member_id)))
            .group_by(Member.family_id)
            .subquery()
        )
        chosen = (
            select(
                Family.id,
                members.c.member_id,
                Family.area_id,
                literal("active"),
                literal("基准岗位"),
                literal(""),
                literal(20),
                (30_000 + Family.id % 500 * 100).label("amount"),
                literal(12),
                literal(3),
                (first + Family.id % SPONSORS).label("sponsor_id"),
                literal(now),
                literal(now),
            )
            .join(members, members.c.family_id == Family.id)
            .order_by(Family.id)
            .limit(wanted)
        )
        db.session.execute(
            insert(Post).from_select(
                [
                    "family_id",
                    "member_id",
                    "area_id",
                    "status",
                    "title",
                    "duties",
                    "hours_per_month",
                    "monthly_amount_fen",
                    "term_months",
                    "colour_rank",
                    "sponsor_id",
                    "created_at",
                    "updated_at",
                ],
                chosen,
            )
        )
        posts = select(Post).where(Post.title == "基准岗位", Post.status == "active").subquery()
        db.session.execute(
            insert(Agreement).from_select(
                [
                    "number",
                    "post_id",
                    "sponsor_id",
                    "member_id",
                    "family_id",
                    "area_id",
                    "status",
                    "start_on",
                    "end_on",
                    "monthly_amount_fen",
                    "duties",
                    "hours_per_month",
                    "from_paper",
                    "signed_on",
                    "termination_reason",
                    "created_at",
                    "updated_at",
                ],
                select(
                    literal(PREFIX) + cast(posts.c.id, String),
                    posts.c.id,
                    posts.c.sponsor_id,
                    posts.c.member_id,
                    posts.c.family_id,
                    posts.c.area_id,
                    literal("active"),
                    literal(date(2020, 1, 1)),
                    literal(date(2099, 12, 31)),
                    posts.c.monthly_amount_fen,
                    literal(""),
                    literal(20),
                    literal(True),
                    literal(date(2019, 12, 20)),
                    literal(""),
                    literal(now),
                    literal(now),
                ),
            )
        )
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("ANALYZE agreements; ANALYZE posts; ANALYZE sponsors"))
        have = db.session.scalar(select(func.count(Agreement.id)).where(Agreement.number.startswith(PREFIX)))
        log(f"  {have:,} agreements added ({time.perf_counter() - started:.0f} s)")
        return have


def _wipe_month(raw) -> None:
    cur = raw.conn.cursor()
    cur.execute(f"DELETE FROM stipend_records WHERE month = '{MONTH}'")
    cur.execute(f"DELETE FROM stipend_batches WHERE month = '{MONTH}'")
    raw.conn.commit()
    cur.close()


def cases(app, raw, today: date, repeat: int, Case) -> list:
    """(h) first generation beside the raw executemany floor, (i) the repeated run beside the first."""
    from assist.extensions import db
    from assist.stipends.operations import generate_month

    if not raw.sqlite:
        raw.conn.autocommit = False
    _wipe_month(raw)
    counts: list[int] = []

    def app_run():
        _wipe_month(raw)  # not timed apart: both sides pay for the same delete
        with app.app_context():
            started = time.perf_counter()
            counts.append(generate_month(MONTH, today=today).created)
            db.session.commit()
            return time.perf_counter() - started

    # the rows generation wrote, captured once, for the floor to insert raw
    app_run()
    rows = raw.all(f"SELECT {COLUMNS} FROM stipend_records WHERE month = ? ORDER BY agreement_id", (MONTH,))
    placeholders = ", ".join(["?" if raw.sqlite else "%s"] * len(COLUMNS.split(",")))

    def floor_run():
        _wipe_month(raw)
        started = time.perf_counter()
        cur = raw.conn.cursor()
        cur.executemany(f"INSERT INTO stipend_records ({COLUMNS}) VALUES ({placeholders})", rows)
        raw.conn.commit()
        cur.close()
        return time.perf_counter() - started

    first, floor = [], []
    for _ in range(repeat):
        first.append(app_run())
        floor.append(floor_run())
    # leave the month generated, then time the repeated (all existing) runs
    app_run()
    again = []
    for _ in range(repeat):
        with app.app_context():
            started = time.perf_counter()
            result = generate_month(MONTH, today=today)
            db.session.commit()
            again.append(time.perf_counter() - started)
            assert result.created == 0, result
    _wipe_month(raw)
    if not raw.sqlite:
        raw.conn.autocommit = True
    gen = Case(
        "(h) generate one month of stipends",
        "ms",
        first,
        floor,
        aim_ratio=2,
        aim_abs=None,
        floor_is="a raw executemany of the same rows into the same table (same indexes), committed",
        rows=counts[-1],
    )
    rerun = Case(
        "(i) the same month again (all exist)",
        "ms",
        again,
        first,
        aim_ratio=0.1,
        aim_abs=None,
        floor_is="(i) is compared with (h)'s first run: it must take under a tenth",
        rows=len(rows),
    )
    return [gen, rerun]
