"""The monthly payout report over 1,000,000 stipend records, beside the raw aggregate SQL for the same grouping.

    python -m bench.reports [--records N] [--sponsors N] [--repeat N] [--rebuild]

DATABASE_URL selects PostgreSQL (an empty database of its own, e.g. assist_bench_reports); otherwise the SQLite file
instance/bench_reports.db. The records are built set-based (one INSERT … SELECT over a number series) into one month,
so the report aggregates every one of them; the rows reference areas and sponsors built beside them. Foreign keys to
agreements and families are not checked while loading (a bench database holds no agreements), which changes nothing
the report reads.
"""

import argparse
import sqlite3
import statistics
import sys
import time

from sqlalchemy import create_engine, text

from assist import normalise_database_url
from bench.__main__ import Raw
from config import INSTANCE_DIR

MONTH = "2025-06"
TOWNS, COMMUNITIES = 10, 10  # per city, per town
SQLITE_FILE = INSTANCE_DIR / "bench_reports.db"

FLOOR_SQL = {
    "by_sponsor": """
        SELECT s.id, s.name, g.records, g.amount_fen, g.paid_fen
        FROM (SELECT sponsor_id, count(*) AS records, sum(amount_fen) AS amount_fen,
                     sum(CASE WHEN status = 'paid' THEN amount_fen ELSE 0 END) AS paid_fen
              FROM stipend_records WHERE paid_in = ? GROUP BY sponsor_id) AS g
        JOIN sponsors AS s ON s.id = g.sponsor_id
        ORDER BY g.amount_fen DESC, s.name, s.id""",
    "by_area": """
        SELECT t.id, t.name, sum(g.records), sum(g.amount_fen), sum(g.paid_fen), t.code
        FROM (SELECT area_id, count(*) AS records, sum(amount_fen) AS amount_fen,
                     sum(CASE WHEN status = 'paid' THEN amount_fen ELSE 0 END) AS paid_fen
              FROM stipend_records WHERE paid_in = ? GROUP BY area_id) AS g
        JOIN areas AS a ON a.id = g.area_id
        JOIN areas AS t ON t.depth = CASE WHEN a.depth < 1 THEN a.depth ELSE 1 END AND a.path LIKE t.path || '%'
        GROUP BY t.id, t.name, t.code
        ORDER BY t.code""",
    "by_colour": """
        SELECT colour, count(*), sum(amount_fen), sum(CASE WHEN status = 'paid' THEN amount_fen ELSE 0 END)
        FROM stipend_records WHERE paid_in = ? GROUP BY colour""",
}


def database_url() -> str:
    import os

    # its own database: BENCH_REPORTS_DATABASE_URL, else DATABASE_URL when run alone, else a SQLite file of its own
    env = os.environ.get("BENCH_REPORTS_DATABASE_URL") or os.environ.get("DATABASE_URL")
    return normalise_database_url(env) if env else f"sqlite:///{SQLITE_FILE}"


def build(url: str, records: int, sponsors: int, rebuild: bool) -> None:
    """Migrate, then load areas, sponsors and the month's records set-based (skipped when already built)."""
    from flask_migrate import upgrade

    from assist import create_app
    from assist.extensions import db

    engine = create_engine(url)
    if not rebuild:
        try:
            with engine.connect() as conn:
                have = conn.execute(text("SELECT count(*) FROM stipend_records WHERE month = :m"), {"m": MONTH})
                if have.scalar() == records:
                    return
        except Exception:  # noqa: BLE001 - no schema yet
            pass
    if url.startswith("sqlite"):
        SQLITE_FILE.unlink(missing_ok=True)
    else:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    app = create_app("test", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    started = time.perf_counter()
    raw = Raw(url)
    pg = not raw.sqlite
    cur = raw.conn.cursor()
    if pg:
        cur.execute("SET session_replication_role = replica")  # foreign-key triggers off while loading
    else:
        cur.execute("PRAGMA foreign_keys = OFF")
        cur.execute("BEGIN")
    areas = [(1, "330482", "平湖市", None, "/1/", 0)]
    for t in range(TOWNS):
        town_id = 2 + t
        areas.append((town_id, f"330482{t + 1:03d}", f"第{t + 1}街道", 1, f"/1/{town_id}/", 1))
        for c in range(COMMUNITIES):
            cid = 2 + TOWNS + t * COMMUNITIES + c
            areas.append(
                (
                    cid,
                    f"330482{t + 1:03d}{c + 1:03d}",
                    f"第{t + 1}街道第{c + 1}社区",
                    town_id,
                    f"/1/{town_id}/{cid}/",
                    2,
                )
            )
    placeholder = "%s" if pg else "?"
    cur.executemany(
        f"INSERT INTO areas (id, code, name, parent_id, path, depth) VALUES ({', '.join([placeholder] * 6)})", areas
    )
    cur.executemany(
        "INSERT INTO sponsors (id, name, credit_code, contact_name, phone, email, address, status, pledge_posts, "
        "pledge_budget_fen, status_reason, created_at) VALUES "
        f"({placeholder}, {placeholder}, {placeholder}, '联系人', '0573-85000000', '', '', 'approved', 5, 0, '', "
        "CURRENT_TIMESTAMP)",
        [(n, f"爱心单位{n:05d}", f"91330482MA{n:08d}") for n in range(1, sponsors + 1)],
    )
    first_community = 2 + TOWNS
    communities = TOWNS * COMMUNITIES
    # every record: a sponsor and a community spread by multiplicative hashing, a colour, a prorated amount, two in
    # three paid
    select_rows = f"""
        SELECT g, '{MONTH}', '{MONTH}', 1 + (g * 7919) % {sponsors}, {first_community} + (g * 104729) % {communities}, g,
               CASE g % 10 WHEN 0 THEN NULL WHEN 1 THEN 'red' WHEN 2 THEN 'red' WHEN 3 THEN 'yellow'
                           WHEN 4 THEN 'yellow' WHEN 5 THEN 'yellow' ELSE 'green' END,
               30 - g % 5, 30, 50000, (2 * 50000 * (30 - g % 5) + 30) / 60,
               CASE WHEN g % 3 = 0 THEN 'unpaid' ELSE 'paid' END, '', CURRENT_TIMESTAMP"""
    columns = (
        "agreement_id, month, paid_in, sponsor_id, area_id, family_id, colour, days, days_in_month, monthly_amount_fen, "
        "amount_fen, status, reference, created_at"
    )
    if pg:
        cur.execute(
            f"INSERT INTO stipend_records ({columns}) {select_rows} FROM generate_series(CAST(1 AS BIGINT), {records}) AS g"
        )
        cur.execute("SET session_replication_role = DEFAULT")
        cur.execute("VACUUM ANALYZE stipend_records")  # the visibility map, so the covering indexes are read alone
    else:
        cur.execute(
            f"WITH RECURSIVE seq(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM seq WHERE g < {records}) "
            f"INSERT INTO stipend_records ({columns}) {select_rows} FROM seq"
        )
        cur.execute("COMMIT")
        cur.execute("ANALYZE")
    raw.close()
    print(f"built {records:,} records for {MONTH} ({sponsors:,} sponsors) in {time.perf_counter() - started:.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--sponsors", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args(argv)

    from assist import create_app
    from assist.reports.operations import monthly_report

    url = database_url()
    build(url, args.records, args.sponsors, args.rebuild)
    app = create_app("test", SQLALCHEMY_DATABASE_URI=url)
    raw = Raw(app.config["SQLALCHEMY_DATABASE_URI"])
    engine = f"SQLite {sqlite3.sqlite_version}" if raw.sqlite else raw.all("SELECT version()")[0][0].split(",")[0]

    def app_run():
        with app.app_context():
            return monthly_report(MONTH, None)  # the union's view (the command line's): every area

    def floor_run():
        return {name: raw.all(sql, (MONTH,)) for name, sql in FLOOR_SQL.items()}

    report, floor = app_run(), floor_run()
    same = (
        [(x.key, x.records, x.amount_fen, x.paid_fen) for x in report.by_sponsor]
        == [(r[0], r[2], r[3], r[4]) for r in floor["by_sponsor"]]
        and [(x.key, x.records, x.amount_fen, x.paid_fen) for x in report.by_area]
        == [(r[0], r[2], r[3], r[4]) for r in floor["by_area"]]
        and sorted((x.key or "", x.records, x.amount_fen, x.paid_fen) for x in report.by_colour)
        == sorted((r[0] or "", r[1], r[2], r[3]) for r in floor["by_colour"])
    )
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(args.repeat):  # alternately, so load from elsewhere falls on both alike
        for fn, out in ((app_run, samples[0]), (floor_run, samples[1])):
            started = time.perf_counter()
            fn()
            out.append(time.perf_counter() - started)
    raw.close()
    app_ms, floor_ms = statistics.median(samples[0]) * 1000, statistics.median(samples[1]) * 1000
    ratio = app_ms / floor_ms
    print(f"\n{engine} · {report.totals['records']:,} records in {MONTH} · medians of {args.repeat} runs")
    print(f"monthly report (app)   {app_ms:8.1f} ms")
    print(f"raw aggregate SQL      {floor_ms:8.1f} ms")
    print(f"ratio                  {ratio:8.2f}×   aim ≤ 2×   {'PASS' if ratio <= 2 else 'MISS'}")
    print("results " + ("match" if same else "MISMATCH"))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
