"""`make bench` (= `python -m bench`): build or reuse the benchmark database, then time each case beside its floor.

    python -m bench [--families N] [--seed S] [--repeat N] [--batch-repeat N] [--rebuild] [--skip-batch]
                    [--only-matching | --only-stipends | --only-imports] [--import-repeat N]

DATABASE_URL selects PostgreSQL (an empty database, e.g. assist_bench, or one this bench built); otherwise the SQLite
file instance/bench.db is used. Results are also written to bench/results/ as JSON.
"""

import argparse
import json
import os
import platform
import re
import sqlite3
import statistics
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from bench import dataset

#: the town whose subtree the list filters on: 当湖街道, the largest (six communities)
TOWN = "330482001"
#: a surname and the first character of a given name, as a caseworker types it
NAME_PREFIX = "王伟"
PAGE = 25
RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Case:
    name: str
    unit: str  # "ms" (lower is better) or "fam/s" (higher is better)
    samples: list[float]
    floor_samples: list[float]
    aim_ratio: float | None  # the most the median may be over the floor
    aim_abs: float | None  # ms upper bound, or families per second lower bound
    floor_is: str
    rows: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def floor(self) -> float:
        return statistics.median(self.floor_samples)

    @property
    def ratio(self) -> float:
        return self.median / self.floor  # time over time, for both units

    def passed(self) -> bool:
        if self.aim_ratio is not None and self.ratio > self.aim_ratio:
            return False
        if self.aim_abs is None:
            return True
        if self.unit == "ms":
            return self.median * 1000 <= self.aim_abs
        return self.rows / self.median >= self.aim_abs

    def shown(self, seconds: float) -> str:
        if self.unit == "ms":
            return f"{seconds * 1000:.1f} ms"
        return f"{seconds:.2f} s ({self.rows / seconds:,.0f} fam/s)"

    def aim(self) -> str:
        parts = [] if self.aim_ratio is None else [f"≤ {self.aim_ratio:g}×"]
        if self.aim_abs is not None:
            parts.append(f"< {self.aim_abs:g} ms" if self.unit == "ms" else f"≥ {self.aim_abs:,.0f} fam/s")
        return ", ".join(parts)


def timed(app_fn, floor_fn, repeat: int, warmup: int = 2) -> tuple[list[float], list[float]]:
    """Samples of both, taken alternately so that load from elsewhere on the machine falls on both alike."""
    for _ in range(warmup):
        app_fn()
        floor_fn()
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for fn, out in ((app_fn, samples[0]), (floor_fn, samples[1])):
            started = time.perf_counter()
            fn()
            out.append(time.perf_counter() - started)
    return samples


# --- the floor: the same SQL, raw through the driver ----------------------------------------------------------------


class Raw:
    """A bare DB-API connection (sqlite3 or psycopg) to the benchmark database, with `?` placeholders."""

    def __init__(self, url: str):
        self.sqlite = url.startswith("sqlite")
        if self.sqlite:
            self.conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        else:
            import psycopg

            self.conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
            # planned per execution, as the app's requests were: after psycopg prepares a statement, PostgreSQL may
            # switch to a generic plan, and the floor would then time a different plan from the app's
            self.conn.prepare_threshold = None

    def all(self, sql: str, params=()) -> list[tuple]:
        if not self.sqlite:
            sql = sql.replace("%", "%%").replace("?", "%s")
        cur = self.conn.cursor()
        cur.execute(sql, params)
        rows = cur.fetchall()
        cur.close()
        return rows

    def prefix(self, column: str, text_: str) -> tuple[str, tuple]:
        """The same prefix condition the app builds (a range on SQLite, LIKE 'x%' on PostgreSQL)."""
        if self.sqlite:
            return f"({column} >= ? AND {column} < ?)", (text_, text_ + "\U0010ffff")
        escaped = text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return f"{column} LIKE ? ESCAPE '\\'", (escaped + "%",)

    def close(self) -> None:
        self.conn.close()


#: the columns the list page reads (assist.families.operations.LIST_COLUMNS)
LIST_COLUMNS = "f.id, f.head_name, f.area_id, f.hardship_category, f.colour, f.score, f.next_review_on"


def list_floor(raw: Raw, where: str, params: tuple) -> list[int]:
    """The statements the list page sends for its list, in the same form: the total and one page (the area names
    come from the areas the page's filter lists anyway)."""
    raw.all(f"SELECT count(*) FROM (SELECT {LIST_COLUMNS} FROM families AS f WHERE {where}) AS page", params)
    rows = raw.all(
        f"SELECT {LIST_COLUMNS} FROM families AS f WHERE {where} ORDER BY f.next_review_on, f.id LIMIT {PAGE} OFFSET 0",
        params,
    )
    return [r[0] for r in rows]


def town_floor(raw: Raw) -> list[int]:
    """As the app does: look the town up, then filter on its subtree's path prefix."""
    path = raw.all("SELECT path FROM areas WHERE code = ?", (TOWN,))[0][0]
    where = "f.status = ? AND f.colour = ? AND f.area_id IN (SELECT a.id FROM areas AS a WHERE a.path LIKE ? || '%')"
    return list_floor(raw, where, ("active", "red", path))


# --- the app: the page through the test client, logged in as the admin ---------------------------------------------


def logged_in_client(app):
    from assist.demo import DEMO_PASSWORD

    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    answer = client.post("/login", data={"username": "admin", "password": DEMO_PASSWORD, "csrf_token": token})
    if answer.status_code != 302:
        raise SystemExit("could not log in as the demo admin")
    return client


def page_ids(client, url: str) -> list[int]:
    answer = client.get(url)
    if answer.status_code != 200:
        raise SystemExit(f"GET {url} answered {answer.status_code}")
    return [int(x) for x in re.findall(r'href="/families/(\d+)"', answer.get_data(as_text=True))]


def case_list(app, raw: Raw, repeat: int) -> Case:
    client = logged_in_client(app)
    url = f"/families/?colour=red&area={TOWN}&sort=review"
    shown, floor = page_ids(client, url), town_floor(raw)
    case = Case(
        "(a) list: red, one town, by next review",
        "ms",
        *timed(lambda: page_ids(client, url), lambda: town_floor(raw), repeat),
        aim_ratio=3,
        aim_abs=50,
        floor_is="the page's SQL for its list (count, one page) raw through the driver",
        rows=len(shown),
    )
    if shown != floor:
        case.notes.append(f"MISMATCH: page shows {shown[:5]}…, raw SQL gives {floor[:5]}…")
    # what any signed-in page costs through the same stack (session, login, navigation, layout), for scale
    fixed, _unused = timed(lambda: client.get("/profile"), lambda: None, repeat)
    case.notes.append(f"a page with no list (/profile) takes {statistics.median(fixed) * 1000:.1f} ms")
    return case


def case_search(app, raw: Raw, repeat: int) -> Case:
    client = logged_in_client(app)
    url = f"/families/?q={NAME_PREFIX}"
    head, head_params = raw.prefix("f.head_name", NAME_PREFIX)
    member, member_params = raw.prefix("m.name", NAME_PREFIX)
    where = (
        f"f.status = ? AND f.id IN "
        f"(SELECT f2.id FROM families AS f2 WHERE {head.replace('f.', 'f2.')} "
        f"UNION SELECT m.family_id FROM members AS m WHERE {member})"
    )
    params = ("active", *head_params, *member_params)
    shown, floor = page_ids(client, url), list_floor(raw, where, params)
    case = Case(
        f"(b) name search q={NAME_PREFIX}",
        "ms",
        *timed(lambda: page_ids(client, url), lambda: list_floor(raw, where, params), repeat),
        aim_ratio=3,
        aim_abs=50,
        floor_is="the page's SQL for its list (count, one page) raw through the driver",
        rows=len(shown),
    )
    total = raw.all(f"SELECT count(*) FROM families AS f WHERE {where}", params)[0][0]
    case.notes.append(f"{total} families match")
    if shown != floor:
        case.notes.append(f"MISMATCH: page shows {shown[:5]}…, raw SQL gives {floor[:5]}…")
    return case


# --- batch reassessment ----------------------------------------------------------------------------------------------


def bare_loop(today: date, batch: int = 4000) -> int:
    """The floor of (c): the same rows reassess_all reads (families, members, income sums), batch by batch, looped
    over with nothing computed and nothing written."""
    from collections import deque

    from sqlalchemy import select

    from assist.assessments.operations import _income_summaries
    from assist.enums import FamilyStatus
    from assist.extensions import db
    from assist.families.models import Family, Member

    done = last_id = 0
    cols = (Family.id, Family.colour, Family.accident_on, Family.single_parent, Family.debt_fen, Family.housing)
    sink = deque(maxlen=0)
    while True:
        families = db.session.execute(
            select(*cols)
            .where(Family.id > last_id, Family.status == FamilyStatus.ACTIVE)
            .order_by(Family.id)
            .limit(batch)
        ).all()
        if not families:
            return done
        lo, hi = families[0].id, families[-1].id
        sink.extend(
            db.session.execute(
                select(
                    Member.family_id,
                    Member.birth_year,
                    Member.health,
                    Member.disability_grade,
                    Member.work_ability,
                    Member.schooling,
                ).where(Member.family_id.between(lo, hi))
            )
        )
        sink.extend(_income_summaries(lo, hi, today).items())
        sink.extend(families)
        done += len(families)
        last_id = hi


def case_batch(app, today: date, repeat: int) -> Case:
    from assist.assessments.operations import reassess_all
    from assist.extensions import db

    counts = []

    def app_run():
        with app.app_context():
            try:
                counts.append(reassess_all(today))
                db.session.flush()
            finally:
                # keep the cached database as built: the writes are timed, then undone (the commit is not timed)
                db.session.rollback()

    def floor_run():
        with app.app_context():
            bare_loop(today)
            db.session.rollback()

    samples, floor = timed(app_run, floor_run, repeat, warmup=0)
    return Case(
        "(c) reassess_all, one batch",
        "fam/s",
        samples,
        floor,
        aim_ratio=None,
        aim_abs=5000,
        floor_is="a bare loop over the same rows (same reads, nothing computed or written)",
        rows=counts[0],
        notes=["writes timed to the last statement, then rolled back; the commit is not timed"],
    )


# --- the report ------------------------------------------------------------------------------------------------------


def describe(app, raw: Raw) -> dict:
    sizes = {t: raw.all(f"SELECT count(*) FROM {t}")[0][0] for t in ("families", "members", "incomes", "assessments")}
    engine = f"SQLite {sqlite3.sqlite_version}" if raw.sqlite else raw.all("SELECT version()")[0][0].split(",")[0]
    return {"engine": engine, "python": platform.python_version(), "rows": sizes}


def table(cases: list[Case]) -> str:
    head = ("case", "median", "floor", "ratio", "aim", "result")
    lines = [
        (c.name, c.shown(c.median), c.shown(c.floor), f"{c.ratio:.1f}×", c.aim(), "PASS" if c.passed() else "MISS")
        for c in cases
    ]
    widths = [max(width(str(x)) for x in col) for col in zip(head, *lines, strict=True)]

    def row(cells) -> str:
        return "  ".join(c + " " * (w - width(c)) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([row(head), row(["-" * w for w in widths]), *(row(line) for line in lines)])


def width(text_: str) -> int:
    """Columns a string takes in a terminal (Chinese characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text_)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=30, help="timed runs of each page and its floor")
    parser.add_argument("--batch-repeat", type=int, default=1, help="timed runs of the batch reassessment")
    parser.add_argument("--rebuild", action="store_true", help="build the data again even if it is cached")
    parser.add_argument("--skip-batch", action="store_true", help="time the pages only")
    parser.add_argument("--only-matching", action="store_true", help="time the market and bulk matching only")
    parser.add_argument("--matching-repeat", type=int, default=3, help="timed runs of the bulk matching")
    parser.add_argument("--only-stipends", action="store_true", help="time the stipend generation only")
    parser.add_argument("--agreements", type=int, default=100_000, help="active agreements of the stipend case")
    parser.add_argument("--stipend-repeat", type=int, default=3, help="timed runs of the stipend generation")
    parser.add_argument("--only-imports", action="store_true", help="time the worker file imports (issue 5) only")
    parser.add_argument("--import-repeat", type=int, default=3, help="timed runs of each worker file import")
    args = parser.parse_args(argv)

    from assist import create_app

    url = dataset.database_url(os.environ.get("DATABASE_URL"))
    # the test configuration: fixed keys (the cached data does not depend on instance/keys.json), no instance writes
    app = create_app("test", SQLALCHEMY_DATABASE_URI=url)
    params = dataset.Params(families=args.families, seed=args.seed)
    today = dataset.ensure(app, params, rebuild=args.rebuild)

    from bench import matching as matching_bench

    if not args.only_imports:
        matching_bench.ensure(app)
    raw = Raw(app.config["SQLALCHEMY_DATABASE_URI"])
    info = describe(app, raw)
    print(f"\n{info['engine']} · Python {info['python']} · " + ", ".join(f"{k} {v:,}" for k, v in info["rows"].items()))
    print(f"medians of {args.repeat} runs (pages) and {args.batch_repeat} runs (batch), after warm-up\n")
    # no app context around the requests: each request has its own, as in production
    only = args.only_matching or args.only_stipends or args.only_imports
    cases = [] if only else [case_list(app, raw, args.repeat), case_search(app, raw, args.repeat)]
    if not args.skip_batch and not only:
        cases.append(case_batch(app, today, args.batch_repeat))
    # issue 3: the market and bulk matching
    if not (args.only_stipends or args.only_imports):
        cases.append(matching_bench.case_market(app, raw, args.repeat, Case, timed))
        cases.append(matching_bench.case_matching(app, args.matching_repeat, Case, timed))
    # identification (issue 5)
    if (args.only_imports or not only) and os.environ.get("BENCH_IMPORT_ROWS") != "0":
        from bench.identification import import_cases

        cases.extend(import_cases(app, args.import_repeat))
    # stipends (issue 4)
    if not (args.only_matching or args.only_imports):
        from bench import stipends

        stipends.ensure_agreements(app, min(args.agreements, args.families))
        cases.extend(stipends.cases(app, raw, today, args.stipend_repeat, Case))
    raw.close()

    print(table(cases))
    print()
    for c in cases:
        if c.unit == "ms":
            c.notes.insert(0, f"the app adds {(c.median - c.floor) * 1000:.1f} ms to its SQL")
        print(f"{c.name}: floor = {c.floor_is}; {c.rows} rows" + "".join(f"; {n}" for n in c.notes))

    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"{'sqlite' if raw.sqlite else 'postgresql'}-{stamp}.json"
    out.write_text(
        json.dumps(
            {
                **info,
                "params": params.key(),
                "cases": [
                    {
                        "name": c.name,
                        "median_s": c.median,
                        "floor_s": c.floor,
                        "ratio": c.ratio,
                        "aim": c.aim(),
                        "pass": c.passed(),
                        "rows": c.rows,
                        "notes": c.notes,
                    }
                    for c in cases
                ],
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    print(f"\nresults written to {out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out}")
    mismatch = any(n.startswith("MISMATCH") for c in cases for n in c.notes)
    return 1 if mismatch else 0


if __name__ == "__main__":
    sys.exit(main())
