"""Nothing shown without the logged reveal lets an ID number be rebuilt, and nothing at rest holds one in clear.

A resident ID number is region (6) + birth date (8) + sequence and check (4); the mask shows the 6 and the 4, so the
birth date beside a mask is the whole number.
"""

import json
import re
from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from assist.audit.models import AuditEntry
from assist.db_types import local_today
from assist.extensions import db
from assist.families import operations
from assist.families.models import Member
from tests import factories
from tests.api.test_api import token_for

#: birth dates no other date on the pages can be (consent, income months and audit times are 2026)
BORN = (date(1961, 7, 23), date(1987, 11, 29), date(2009, 2, 14))


def _date_forms(number: str) -> set[str]:
    """Every way a page or an API could write the birth date inside ``number``."""
    y, m, d = number[6:10], number[10:12], number[12:14]
    return {
        f"{y}-{m}-{d}",
        f"{y}{m}{d}",
        f"{y}/{m}/{d}",
        f"{y}.{m}.{d}",
        f"{y}年{int(m)}月{int(d)}日",
        f"{y}年{m}月{d}日",
        f"{y}-{int(m)}-{int(d)}",
    }


def _rebuildable(shown: str, numbers: list[str]) -> list[str]:
    """The numbers that ``shown`` gives away: in full, or as its mask plus its birth date."""
    out = []
    for number in numbers:
        masked = number[:6] + "*" * 8 + number[-4:]
        if number in shown or (masked in shown and any(form in shown for form in _date_forms(number))):
            out.append(number)
    return out


def _family_with_members(world):
    numbers = [factories.id_number(born) for born in BORN]
    family = factories.family(
        world.cw_a,
        "330482001001",
        head_name="赵刚",
        head_id_number=numbers[0],
        members=[
            {"relation": "spouse", "name": "钱丽", "id_number": numbers[1]},
            {"relation": "child", "name": "赵小明", "id_number": numbers[2], "schooling": "junior"},
        ],
        incomes={"2026-08": 90_000},
    )
    db.session.commit()
    return family, numbers


def test_nothing_a_caseworker_sees_without_the_reveal_rebuilds_an_id_number(client, auth, world):
    family, numbers = _family_with_members(world)
    member = family.members[1]
    assessment_id = db.session.scalar(text("SELECT max(id) FROM assessments WHERE family_id = :f"), {"f": family.id})
    headers = token_for(client, "cw_a")
    api = [
        f"/api/v1/families/{family.id}",
        f"/api/v1/families?q={family.head_name}",
        "/api/v1/families",
        f"/api/v1/families/{family.id}/colour-history",
        f"/api/v1/families/{family.id}/assessments",
    ]
    shown = {}
    for url in api:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, url
        shown[url] = response.get_data(as_text=True)
    added = client.post(
        f"/api/v1/families/{family.id}/members",
        json={"relation": "parent", "name": "赵老", "id_number": factories.id_number(date(1940, 3, 3))},
        headers=headers,
    )
    assert added.status_code == 201
    numbers.append(
        operations.reveal_id_number(world.cw_a, db.session.get(Member, added.get_json()["id"]))
    )  # (this reveal is the test's, not the caseworker's)
    shown["POST members"] = added.get_data(as_text=True)
    auth.login("cw_a")
    pages = [
        f"/families/{family.id}",
        f"/families/{family.id}/edit",
        f"/families/{family.id}/members/{member.id}/edit",
        f"/families/?q={family.head_name}",
        f"/families/{family.id}/assessments/{assessment_id}",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        shown[url] = response.get_data(as_text=True)
    auth.logout()
    auth.login("admin")
    # the audit log keeps each change's before and after: the member's mask is there, so its birth date must not be
    shown["/audit"] = client.get(f"/audit/?family={family.id}").get_data(as_text=True)
    for url, body in shown.items():
        assert _rebuildable(body, numbers) == [], url
    # the mask is still there, with the age instead of the date
    body = client.get(f"/api/v1/families/{family.id}", headers=headers).get_json()
    spouse = next(m for m in body["members"] if m["relation"] == "spouse")
    assert spouse["id_number"] == numbers[1][:6] + "********" + numbers[1][-4:]
    assert spouse["birth_year"] == 1987 and spouse["birth_date"] is None
    assert spouse["age"] == local_today().year - 1987
    # nothing was revealed by all this but the test's own look-up
    reveals = db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "reveal_id"))
    assert reveals == 1


def test_the_reveal_brings_the_birth_date_and_is_logged(client, world):
    family, numbers = _family_with_members(world)
    headers = token_for(client, "cw_a")
    body = client.get(f"/api/v1/families/{family.id}?reveal=1", headers=headers).get_json()
    spouse = next(m for m in body["members"] if m["relation"] == "spouse")
    assert spouse["id_number"] == numbers[1] and spouse["birth_date"] == "1987-11-29"
    reveals = db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "reveal_id"))
    assert reveals == len(family.members)


def test_no_plain_birth_date_is_kept_beside_the_mask(app, world):
    family, numbers = _family_with_members(world)
    columns = {c["name"] for c in db.inspect(db.engine).get_columns("members")}
    assert "birth_date" not in columns and "birth_year" in columns
    assert {c["name"] for c in db.inspect(db.engine).get_columns("imported_persons")} >= {"birth_year"}
    rows = db.session.execute(text("SELECT * FROM members WHERE family_id = :f"), {"f": family.id}).mappings().all()
    stored = " ".join(str(v) for row in rows for v in row.values())
    assert _rebuildable(stored, numbers) == []
    # nor in the audit log's snapshots of the members
    entries = db.session.execute(text("SELECT before, after FROM audit_log")).all()
    assert _rebuildable(" ".join(str(v) for row in entries for v in row), numbers) == []
    assert re.search(r"1987", stored)  # the year is kept, for the rules


def test_the_migration_keeps_birth_years_and_encrypts_what_was_plain(app, world):
    """0016 on a database with rows: down to 0013 everything is in clear as it was, and up again it is not."""
    from pathlib import Path

    from flask_migrate import downgrade, upgrade

    from assist import crypto
    from assist.identification.models import ImportReject, WorkerImport
    from tests.identification.helpers import AREA_B, csv_file, import_file, row

    directory = str(Path(__file__).resolve().parents[2] / "migrations")
    family, numbers = _family_with_members(world)
    rejected = factories.id_number(date(1970, 4, 30))
    imp = import_file(world.cw_a, csv_file([row(), row(name="吴芳", id_number=rejected, area=AREA_B)]))
    imp_id, member_ids, family_id = imp.id, [m.id for m in family.members], family.id
    db.session.commit()
    db.session.remove()

    downgrade(directory=directory, revision="0013")
    births = dict(db.session.execute(text("SELECT id, birth_date FROM members")).all())
    assert [str(births[i])[:10] for i in member_ids] == [b.isoformat() for b in BORN]
    assert rejected.encode() in bytes(db.session.execute(text("SELECT content FROM worker_import_files")).scalar_one())
    assert rejected in str(db.session.execute(text("SELECT raw FROM import_rejects")).scalar_one())
    # a member snapshot as the audit log kept it before: the mask beside the birth date
    old = {"name": "钱丽", "id_masked": numbers[1][:6] + "********" + numbers[1][-4:], "birth_date": "1987-11-29"}
    db.session.execute(
        text(
            "INSERT INTO audit_log (at, actor_name, action, entity_type, entity_id, family_id, summary, after, address)"
            " VALUES (:at, '', 'create', 'family', :f, :f, '', :after, '')"
        ),
        {"at": "2026-01-01 00:00:00", "f": family_id, "after": json.dumps({"members": [old], "head_name": "赵刚"})},
    )
    old_entry = db.session.scalar(text("SELECT max(id) FROM audit_log"))
    db.session.commit()
    db.session.remove()

    upgrade(directory=directory)
    years = dict(db.session.execute(text("SELECT id, birth_year FROM members")).all())
    assert [years[i] for i in member_ids] == [b.year for b in BORN]
    stored = bytes(db.session.execute(text("SELECT content FROM worker_import_files")).scalar_one())
    assert rejected.encode() not in stored and rejected.encode() in crypto.decrypt_bytes(stored)
    assert rejected not in str(db.session.execute(text("SELECT raw_cipher FROM import_rejects")).scalar_one())
    assert rejected in db.session.scalars(select(ImportReject)).one().raw
    assert rejected.encode() in db.session.get(WorkerImport, imp_id).content
    assert db.session.scalar(select(func.count(Member.id))) >= len(member_ids)
    entries = db.session.execute(text("SELECT before, after FROM audit_log")).all()
    assert _rebuildable(" ".join(str(v) for row in entries for v in row), numbers) == []
    snapshot = db.session.get(AuditEntry, old_entry).after
    assert snapshot == {
        "members": [{"name": "钱丽", "id_masked": old["id_masked"], "birth_year": 1987}],
        "head_name": "赵刚",
    }
    # and the log is append-only again
    with pytest.raises(DatabaseError), db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET summary = 'x'"))
