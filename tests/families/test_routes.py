"""Family pages through the client: forms, messages beside fields, filters, sorting and paging."""

import re
from datetime import date

from sqlalchemy import func, select

from assist.audit.models import AuditEntry
from assist.db_types import local_today
from assist.enums import FamilyStatus
from assist.extensions import db
from assist.families.models import Family, Income, Member
from tests import factories
from tests.conftest import csrf_token


def test_caseworker_opens_a_file_and_sees_it_assessed(client, auth, world):
    auth.login("cw_a")
    token = csrf_token(client, "/families/new")
    area_id = world.family_a.area_id
    response = client.post(
        "/families/new",
        data={
            "csrf_token": token,
            "head_name": "周杰",
            "head_id_number": factories.id_number(),
            "head_work_ability": "partial",
            "head_health": "chronic",
            "area_id": area_id,
            "hardship_category": "relative",
            "identity_status": "laid_off",
            "housing": "difficult",
            "debt_fen": "12,000.50",
            "consent_on": "2026-10-01",
            "consent_scope": "帮扶所需信息",
        },
    )
    assert response.status_code == 302
    family = db.session.scalar(select(Family).where(Family.head_name == "周杰"))
    assert family.debt_fen == 1_200_050 and family.colour is not None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "周杰" in page and 'id="family-colour"' in page and "********" in page


def test_a_bad_id_number_is_explained_beside_the_field_and_nothing_is_saved(client, auth, world):
    auth.login("cw_a")
    token = csrf_token(client, "/families/new")
    before = db.session.scalar(select(func.count(Family.id)))
    response = client.post(
        "/families/new",
        data={
            "csrf_token": token,
            "head_name": "错号",
            "head_id_number": "330482198005171230",
            "area_id": world.family_a.area_id,
            "hardship_category": "deep",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="error-head_id_number">[^<]*校验位', html)
    assert db.session.scalar(select(func.count(Family.id))) == before


def test_a_duplicate_person_names_the_existing_file(client, auth, world):
    from assist.families.operations import reveal_id_number

    number = reveal_id_number(world.cw_a, world.family_a.members[0])
    db.session.commit()
    auth.login("cw_a")
    token = csrf_token(client, "/families/new")
    response = client.post(
        "/families/new",
        data={
            "csrf_token": token,
            "head_name": "重复",
            "head_id_number": number,
            "area_id": world.family_a.area_id,
            "hardship_category": "deep",
        },
    )
    assert response.status_code == 422
    assert f"第 {world.family_a.id} 号" in response.get_data(as_text=True) or str(
        world.family_a.id
    ) in response.get_data(as_text=True)


def test_member_income_consent_and_reveal_pages(client, auth, world):
    auth.login("cw_a")
    fid = world.family_a.id
    token = csrf_token(client, f"/families/{fid}/members/new")
    response = client.post(
        f"/families/{fid}/members/new",
        data={
            "csrf_token": token,
            "relation": "child",
            "name": "张小",
            "id_number": factories.id_number(date(2014, 2, 2)),
            "schooling": "primary",
        },
    )
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(Member.id)).where(Member.family_id == fid)) == 3

    token = csrf_token(client, f"/families/{fid}")
    bad = client.post(
        f"/families/{fid}/incomes", data={"csrf_token": token, "month": "2026-09", "amount_fen": "12.345"}
    )
    assert bad.status_code == 422 and "error-amount_fen" in bad.get_data(as_text=True)
    ok = client.post(
        f"/families/{fid}/incomes",
        data={"csrf_token": token, "month": "2026-09", "amount_fen": "2,345.60", "medical_fen": "100"},
    )
    assert ok.status_code == 302
    income = db.session.scalar(select(Income).where(Income.family_id == fid))
    assert (income.amount_fen, income.medical_fen) == (234_560, 10_000)

    token = csrf_token(client, f"/families/{fid}/consent")
    assert (
        client.post(
            f"/families/{fid}/consent",
            data={"csrf_token": token, "consent_on": "2026-11-01", "consent_scope": "帮扶信息"},
        ).status_code
        == 302
    )

    member = world.family_a.members[1]
    token = csrf_token(client, f"/families/{fid}")
    page = client.post(f"/families/{fid}/members/{member.id}/reveal", data={"csrf_token": token}).get_data(as_text=True)
    full = re.search(r'class="revealed">([0-9X]{18})<', page).group(1)
    assert full[:6] == member.id_masked[:6] and full[-4:] == member.id_masked[-4:]
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "reveal_id")) == 1


def test_assessment_pages_show_colour_and_explanation(client, auth, world):
    auth.login("cw_a")
    fid = world.family_a.id
    token = csrf_token(client, f"/families/{fid}/assessments/new")
    response = client.post(
        f"/families/{fid}/assessments/new", data={"csrf_token": token, "kind": "review", "note": "入户"}
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="explanation"' in page and "人均收入" in page and "入户" in page


def test_close_exit_and_return_pages(client, auth, world):
    auth.login("cw_b")
    fid = world.family_b.id
    token = csrf_token(client, f"/families/{fid}")
    assert client.post(f"/families/{fid}/exit", data={"csrf_token": token}).status_code == 302
    db.session.refresh(world.family_b)
    assert world.family_b.status == FamilyStatus.ACTIVE  # not flagged: refused with a message
    world.family_b.exit_flagged_on = local_today()
    db.session.commit()
    token = csrf_token(client, f"/families/{fid}")
    client.post(f"/families/{fid}/exit", data={"csrf_token": token})
    db.session.refresh(world.family_b)
    assert world.family_b.status == FamilyStatus.EXITED
    token = csrf_token(client, f"/families/{fid}")
    assert client.post(f"/families/{fid}/return", data={"csrf_token": token, "reason": ""}).status_code == 422
    assert (
        client.post(f"/families/{fid}/return", data={"csrf_token": token, "reason": "再次因病致困"}).status_code == 302
    )
    db.session.refresh(world.family_b)
    assert world.family_b.status == FamilyStatus.ACTIVE and world.family_b.archive_type.value == "returned"
    token = csrf_token(client, f"/families/{fid}")
    assert client.post(f"/families/{fid}/close", data={"csrf_token": token, "reason": "迁出"}).status_code == 302
    db.session.refresh(world.family_b)
    assert world.family_b.status == FamilyStatus.CLOSED


def test_list_filters_sorts_and_pages(client, auth, world):
    for i in range(30):
        factories.family(
            world.cw_a, "330482001001", head_name=f"刘{i:02d}", hardship_category="deep" if i % 3 == 0 else "relative"
        )
    db.session.commit()
    auth.login("cw_a")

    def names(url):
        return re.findall(r'href="/families/\d+">([^<]+)</a>', client.get(url).get_data(as_text=True))

    first = names("/families/?sort=name")
    assert len(first) == 25 and first == sorted(first)
    second = names("/families/?sort=name&page=2")
    assert len(second) == 6 and not set(first) & set(second)
    assert all(n.startswith("刘") for n in names("/families/?q=刘"))
    assert len(names("/families/?category=deep")) == 10
    red = db.session.scalar(
        select(func.count(Family.id)).where(Family.colour == "red", Family.area_id == world.family_a.area_id)
    )
    assert len(names("/families/?colour=red")) == min(red, 25)
    assert names("/families/?area=330482002") == []  # another town's area, outside the caseworker's scope
    assert names("/families/?overdue=y") == []
    scores = [
        int(s)
        for s in re.findall(
            r'<td class="text-end">(\d+)</td>', client.get("/families/?sort=score").get_data(as_text=True)
        )
    ]
    assert scores == sorted(scores, reverse=True)
    assert names("/families/?status=closed") == []
    kept = client.get("/families/?colour=red&sort=score&area=330482001").get_data(as_text=True)
    assert '<option value="red" selected>' in kept and '<option value="score" selected>' in kept
    assert '<option value="330482001" selected>' in kept
    assert client.get("/families/?colour=purple&page=-3&sort=zzz&area=%00").status_code in (200, 400)
    empty = client.get("/families/?q=没有这个人").get_data(as_text=True)
    assert "empty-state" in empty


def test_out_of_scope_family_pages_are_404(client, auth, world):
    auth.login("cw_b")
    fid = world.family_a.id
    for url in (
        f"/families/{fid}",
        f"/families/{fid}/edit",
        f"/families/{fid}/members/new",
        f"/families/{fid}/assessments/new",
    ):
        assert client.get(url).status_code == 404
    assert client.get("/families/999999").status_code == 404
    assert client.get(f"/families/{2**40}").status_code == 404


def test_the_list_shows_areas_and_totals_in_a_fixed_number_of_statements(app, client, auth, world):
    """The list reads its columns as rows and names areas from the filter's own list: as many statements for a
    page of 25 as for a page of 6, and each row shows its community."""
    from sqlalchemy import event

    for i in range(30):
        factories.family(world.cw_a, "330482001001", head_name=f"孙{i:02d}")
    db.session.commit()
    auth.login("cw_a")
    client.get("/families/")  # the test's session keeps the user's areas from here on, as each request then does
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        full = client.get("/families/?sort=name").get_data(as_text=True)
        on_full = len(statements)
        statements.clear()
        client.get("/families/?sort=name&page=2")
        on_partial = len(statements)
        statements.clear()
        by_town = client.get("/families/?sort=name&area=330482001").get_data(as_text=True)
        on_town = len(statements)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert on_full == on_partial == on_town <= 6
    assert by_town.count('href="/families/') - full.count('href="/families/') == 0
    community = world.family_a.area.name
    rows = re.findall(r'<tr>\s*<td>\d+</td>\s*<td><a href="/families/\d+">[^<]+</a></td>\s*<td>([^<]*)</td>', full)
    assert len(rows) == 25 and set(rows) == {community}
    total = db.session.scalar(
        select(func.count(Family.id)).where(Family.status == "active", Family.area_id == world.family_a.area_id)
    )
    assert total == 31 and f"共 {total} 户" in full
