"""Family file operations, without HTTP."""

import threading
from datetime import date

import pytest
from sqlalchemy import func, select, text

from assist import crypto, idnumber
from assist.audit.models import AuditEntry
from assist.enums import AssessmentKind, FamilyStatus
from assist.errors import Conflict, ValidationFailed
from assist.extensions import db
from assist.families import operations
from assist.families.models import Family, Income, Member
from tests import factories


def test_create_family_files_the_head_and_members_and_assesses_at_once(world):
    fam = factories.family(
        world.cw_a,
        "330482001001",
        head_name="陈军",
        members=[factories.member("child", "陈小明", born=date(2012, 4, 1))],
    )
    db.session.commit()
    assert [m.relation.value for m in fam.members] == ["self", "child"]
    assert fam.head_name == "陈军"
    assert fam.colour is not None and fam.score is not None and fam.next_review_on is not None
    from assist.assessments.models import Assessment, ColourChange

    first = db.session.scalars(select(Assessment).where(Assessment.family_id == fam.id)).all()
    assert [a.kind for a in first] == [AssessmentKind.INTAKE]
    change = db.session.scalars(select(ColourChange).where(ColourChange.family_id == fam.id)).one()
    assert change.from_colour is None and change.to_colour == fam.colour


def test_id_numbers_are_encrypted_at_rest_and_found_by_blind_index(world):
    number = factories.id_number()
    fam = factories.family(world.cw_a, "330482001001", head_id_number=number)
    db.session.commit()
    raw = db.session.execute(
        text("SELECT id_cipher, id_index, id_masked FROM members WHERE family_id = :f"), {"f": fam.id}
    ).one()
    assert number not in raw.id_cipher and number[6:14] not in raw.id_cipher
    assert raw.id_index == crypto.blind_index(number) and len(raw.id_index) == 64
    assert raw.id_masked == number[:6] + "********" + number[-4:]
    assert operations.find_member_by_id_number(number.lower()).family_id == fam.id
    # every stored column of the table: the plain number appears nowhere
    row = db.session.execute(text("SELECT * FROM members WHERE family_id = :f"), {"f": fam.id}).one()
    assert all(number not in str(v) for v in row)


def test_lower_case_x_is_normalised_and_birth_date_and_sex_come_from_the_number(world):
    number = next(n for n in (factories.id_number() for _ in range(50)) if n.endswith("X"))
    fam = factories.family(world.cw_a, "330482001001", head_id_number=number.lower())
    head = fam.members[0]
    assert operations.reveal_id_number(world.cw_a, head) == number
    # only the year is kept in clear; the exact date is the revealed number's
    assert head.birth_year == int(number[6:10])
    assert idnumber.birth_date_of(number) == date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def test_duplicate_person_in_scope_names_the_existing_file(world):
    number = operations.reveal_id_number(world.cw_a, world.family_a.members[0])
    with pytest.raises(Conflict) as info:
        factories.family(world.cw_a, "330482001001", head_name="另一个", head_id_number=number)
    assert str(world.family_a.id) in info.value.message and "张伟" in info.value.message
    assert "head_id_number" in info.value.fields


def test_duplicate_person_out_of_scope_does_not_reveal_the_other_file(world):
    db.session.rollback()
    number = operations.reveal_id_number(world.cw_b, world.family_b.members[0])
    with pytest.raises(Conflict) as info:
        factories.family(world.cw_a, "330482001001", head_id_number=number)
    assert "王强" not in info.value.message and str(world.family_b.id) not in info.value.message


def test_same_number_twice_in_one_request_is_refused(world):
    number = factories.id_number()
    with pytest.raises(ValidationFailed) as info:
        factories.family(
            world.cw_a,
            "330482001001",
            head_id_number=number,
            members=[{"relation": "spouse", "name": "甲", "id_number": number}],
        )
    assert "members" in info.value.fields


def test_area_outside_scope_is_refused(world):
    with pytest.raises(ValidationFailed) as info:
        factories.family(world.cw_a, "330482002001")
    assert "area_code" in info.value.fields


def test_birth_date_must_match_the_number(world):
    with pytest.raises(ValidationFailed) as info:
        operations.add_member(
            world.cw_a, world.family_a, {**factories.member(born=date(1990, 1, 1)), "birth_date": date(1991, 1, 1)}
        )
    assert "birth_date" in info.value.fields


def test_closing_a_file_lets_the_person_be_filed_again(world):
    number = operations.reveal_id_number(world.cw_b, world.family_b.members[0])
    operations.close_family(world.cw_b, world.family_b, "迁出本市")
    db.session.commit()
    again = factories.family(world.cw_a, "330482001001", head_id_number=number)
    db.session.commit()
    assert again.status == FamilyStatus.ACTIVE
    assert world.family_b.status == FamilyStatus.CLOSED


def test_income_records_are_upserted_per_month_and_audited(world):
    fam = world.family_a
    row, created = operations.record_income(world.cw_a, fam, "2026-09", 250_000, 30_000, 0)
    assert created
    row2, created2 = operations.record_income(world.cw_a, fam, "2026-09", 260_000)
    db.session.commit()
    assert not created2 and row2.id == row.id and row2.amount_fen == 260_000
    assert db.session.scalar(select(func.count(Income.id)).where(Income.family_id == fam.id)) == 1
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.entity_type == "income").order_by(AuditEntry.id)
    ).all()
    assert [e.action for e in entries] == ["create", "update"]
    assert entries[1].before["amount_fen"] == 250_000 and entries[1].after["amount_fen"] == 260_000


@pytest.mark.parametrize(
    "month, amount, field",
    [
        ("2026-13", 1, "month"),
        ("26-01", 1, "month"),
        ("2099-01", 1, "month"),
        ("2026-01", -1, "amount_fen"),
        ("2026-01", None, "amount_fen"),
        ("2026-01", 10**12, "amount_fen"),
    ],
)
def test_bad_income_changes_nothing(world, month, amount, field):
    with pytest.raises(ValidationFailed) as info:
        operations.record_income(world.cw_a, world.family_a, month, amount)
    assert field in info.value.fields
    db.session.rollback()
    assert db.session.scalar(select(func.count(Income.id))) == 0


def test_update_family_records_before_and_after(world):
    operations.update_family(world.cw_a, world.family_a, {"phone": "13912345678", "debt_fen": 500_000})
    db.session.commit()
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.entity_type == "family", AuditEntry.action == "update")
    ).one()
    assert entry.before == {"phone": "13800000000", "debt_fen": 0}
    assert entry.after == {"phone": "13912345678", "debt_fen": 500_000}
    assert entry.actor_name == "cw_a" and entry.family_id == world.family_a.id


def test_revealing_an_id_number_is_logged(world):
    member = world.family_a.members[1]
    plain = operations.reveal_id_number(world.cw_a, member)
    db.session.commit()
    assert len(plain) == 18
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "reveal_id")).one()
    assert entry.entity_id == str(member.id) and entry.actor_name == "cw_a"
    assert plain not in str(entry.before) + str(entry.after) + entry.summary


def test_household_head_cannot_be_removed(world):
    with pytest.raises(Conflict):
        operations.remove_member(world.cw_a, world.family_a.members[0])


def test_family_query_filters_sorts_and_scopes(world):
    second = factories.family(world.cw_a, "330482001001", head_name="张三丰", hardship_category="deep")
    db.session.commit()

    def ids(user, **kw):
        return [f.id for f in db.session.scalars(operations.family_query(user, **kw))]

    assert set(ids(world.cw_a)) == {world.family_a.id, second.id}
    assert ids(world.cw_b) == [world.family_b.id]
    assert set(ids(world.admin)) == {world.family_a.id, world.family_b.id, second.id}
    assert set(ids(world.cw_city)) == {world.family_a.id, world.family_b.id, second.id}
    assert ids(world.sponsor) == []
    assert ids(world.cw_a, category="deep") == [second.id]
    assert set(ids(world.cw_a, q="张")) == {world.family_a.id, second.id}
    assert ids(world.cw_a, q="张三") == [second.id]
    assert ids(world.cw_a, q="李芳") == [world.family_a.id]  # a member's name finds the family
    assert ids(world.admin, area_code="330482002") == [world.family_b.id]
    assert ids(world.cw_a, area_code="330482002") == []
    number = operations.reveal_id_number(world.cw_a, second.members[0])
    assert ids(world.cw_a, q=number) == [second.id]
    assert ids(world.cw_b, q=number) == []
    assert ids(world.cw_a, overdue=True, today=date(2099, 1, 1)) != []
    assert ids(world.cw_a, overdue=True) == []
    assert ids(world.cw_a, q="100%_") == []


def _create_in_thread(app, user_id, number, results, barrier):
    from assist.auth.models import User

    with app.app_context():
        actor = db.session.get(User, user_id)
        db.session.rollback()  # end the read before waiting, or the others queue behind its lock (SQLite)
        barrier.wait()
        try:
            fam = factories.family(actor, "330482001001", head_id_number=number)
            db.session.commit()
            results.append(("ok", fam.id))
        except Conflict as exc:
            db.session.rollback()
            results.append(("conflict", exc.message))
        finally:
            db.session.remove()


def test_the_same_person_filed_from_two_threads_at_once_makes_one_file(app, world):
    number = factories.id_number()
    results: list = []
    barrier = threading.Barrier(4)
    threads = [
        threading.Thread(target=_create_in_thread, args=(app, world.cw_a.id, number, results, barrier))
        for _ in range(4)
    ]
    db.session.remove()
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(r[0] for r in results) == ["conflict", "conflict", "conflict", "ok"]
    assert db.session.scalar(select(func.count(Member.id)).where(Member.id_index == crypto.blind_index(number))) == 1
    assert db.session.scalar(select(func.count(Family.id))) == 3
