"""The market never shows who a family is: families with distinctive personal data publish posts, and every market
response (the API with each filter and on every page, the claim and the sponsor's view of its claim, the market pages
and each post's market page) is searched for every personal value, in every form it could take."""

import json
import re
from datetime import date

import pytest
from flask import url_for

from assist import idnumber
from assist.enums import Colour, HardshipCategory
from assist.extensions import db
from assist.families.operations import record_income
from tests import factories
from tests.api.test_api import token_for

#: head name, head ID (region, birth date, sequence), member name, member ID, phone, address, employer, illness, income
FAMILIES = [
    (
        "欧阳震华",
        ("330421", date(1971, 8, 23), 913),
        "司马青衫",
        ("330424", date(1974, 2, 11), 857),
        "13912345678",
        "梧桐路88号幸福小区3幢",
        "嘉兴市精密铸造厂",
        "系统性红斑狼疮",
        123_457,
        "deep",
    ),
    (
        "诸葛晓峰",
        ("330402", date(1966, 11, 3), 629),
        "慕容秋菊",
        ("330411", date(1968, 6, 30), 781),
        "13787654321",
        "南河头弄17号甲",
        "平湖华光纺织有限公司",
        "肌萎缩侧索硬化",
        98_761,
        "relative",
    ),
    (
        "上官翠兰",
        ("330481", date(1979, 4, 19), 547),
        "东方明远",
        ("330483", date(2003, 12, 7), 693),
        "15867781234",
        "新仓镇杉青港村十二组",
        "乍浦港务物流中心",
        "先天性心脏病",
        45_679,
        "accident",
    ),
    (
        "公孙建国",
        ("330482", date(1958, 1, 29), 871),
        "令狐春燕",
        ("330421", date(1961, 9, 14), 419),
        "18957319876",
        "曹桥街道马厩村西埭5号",
        "广陈镇永兴五金厂",
        "帕金森病",
        210_013,
        "deep",
    ),
    (
        "皇甫玉林",
        ("330424", date(1984, 7, 8), 733),
        "欧阳小雨",
        ("330402", date(2010, 3, 21), 967),
        "13600573210",
        "钟埭街道沪杭公路旁2号",
        "独山港石化配套厂",
        "脑性瘫痪",
        67_891,
        "relative",
    ),
]
AREAS = ("330482001001", "330482002001")


def _build(world):
    """Five families with personal data nobody should forget is there, each with an open post."""
    from assist.settings.operations import update_settings

    update_settings(world.admin, {"family_post_limit": 2})
    personal: list[str] = []
    for i, (head, head_id, member, member_id, phone, address, employer, illness, income, category) in enumerate(
        FAMILIES
    ):
        head_number = idnumber.make(*head_id)
        member_number = idnumber.make(*member_id)
        actor = world.cw_a if i % 2 == 0 else world.cw_b
        family = factories.family(
            actor,
            AREAS[i % 2],
            head_name=head,
            head_id_number=head_number,
            head_illness=illness,
            head_health="serious_illness",
            head_work_ability="partial",
            hardship_category=category,
            phone=phone,
            address=address,
            employer=employer,
            employer_union=employer + "工会",
            notes=f"{head}家欠债{income}元",
            debt_fen=income * 3,
            consent_on=date(2026, 3, 1),
            consent_scope="帮扶所需信息",
            members=[
                {
                    "relation": "spouse",
                    "name": member,
                    "id_number": member_number,
                    "health": "disabled",
                    "disability_grade": 2,
                    "illness": illness + "并发症",
                    "work_ability": "none",
                }
            ],
        )
        for month in ("2026-05", "2026-06", "2026-07"):
            record_income(actor, family, month, income, medical_fen=income + 11, education_fen=income + 22)
        spouse = next(m for m in family.members if m.relation.value == "spouse")
        factories.post(actor, family, member=spouse, title=f"居家岗位{i}", monthly_amount_fen=40_000 + i * 10_000)
        head_member = next(m for m in family.members if m.relation.value == "self")
        factories.post(actor, family, member=head_member, title=f"电话巡访{i}", monthly_amount_fen=90_000)
        personal += [head, member, phone, address, employer, illness, illness + "并发症", f"{head}家欠债"]
        for number, masked in ((head_number, head_member.id_masked), (member_number, spouse.id_masked)):
            personal += [number, number.lower(), masked, idnumber.mask(number), number[-6:], number[6:14]]
        yuan = income / 100
        personal += [str(income), f"{yuan:.2f}", f"{yuan:,.2f}", str(income * 3), str(income + 11)]
    db.session.commit()
    return personal


def _readable(answer) -> str:
    """The raw answer, and for JSON also its text decoded (Flask writes non-ASCII as \\u escapes)."""
    raw = answer.get_data(as_text=True)
    if answer.is_json:
        raw += "\n" + json.dumps(answer.get_json(), ensure_ascii=False)
    return raw


def _leaks(text: str, personal: list[str]) -> list[str]:
    return [value for value in personal if value in text]


@pytest.fixture
def market(app, world):
    market = factories.build_market(world)
    personal = _build(world)
    # the world's own families too
    for family in (world.family_a, world.family_b):
        personal += [family.head_name] + [m.name for m in family.members] + [m.id_masked for m in family.members]
        personal += [family.address]
    return market, personal


def _api_pages(client, headers, query: str) -> list[str]:
    """Every page of the API's market for one filter, two posts a page."""
    texts, page = [], 1
    while True:
        answer = client.get(f"/api/v1/market?per_page=2&page={page}&{query}", headers=headers)
        assert answer.status_code == 200, (query, answer.get_json())
        texts.append(_readable(answer))
        body = answer.get_json()
        if page * 2 >= body["total"]:
            return texts
        page += 1


def _queries() -> list[str]:
    queries = ["", "within_budget=true", "preferred_only=true", "max_amount_fen=60000"]
    queries += [f"area_code={code}" for code in ("330482", "330482001", "330482002", *AREAS)]
    queries += [f"colour={c.value}" for c in Colour]
    queries += [f"category={c.value}" for c in HardshipCategory]
    queries += ["colour=red&category=deep&within_budget=true"]
    return queries


def test_no_api_market_answer_names_a_family(client, market):
    market_, personal = market
    headers = token_for(client, "sponsor")
    seen_ids: set[int] = set()
    texts: list[str] = []
    for query in _queries():
        for text in _api_pages(client, headers, query):
            texts.append(text)
            seen_ids |= {int(i) for i in re.findall(r'"id": ?(\d+)', text)}
    assert len(seen_ids) == 11  # the ten posts built here and the market's own open post
    # names of the posts' areas and their terms are what the market is for
    assert any("东湖社区" in t for t in texts) and any("居家岗位0" in t for t in texts)

    # claiming, and the sponsor's view of its claim before any agreement is signed
    post_id = min(seen_ids - {market_.open_post.id})
    claim = client.post(f"/api/v1/posts/{post_id}/claim", headers=headers)
    assert claim.status_code == 200
    texts.append(_readable(claim))
    mine = client.get(f"/api/v1/posts/{post_id}", headers=headers)
    assert mine.status_code == 200
    texts.append(_readable(mine))
    texts.append(_readable(client.get("/api/v1/posts", headers=headers)))
    texts.append(_readable(client.get(f"/api/v1/agreements/{market_.agreement.id}", headers=headers)))
    for text in texts:
        assert not _leaks(text, personal), (_leaks(text, personal), text[:500])


def test_the_market_pages_name_no_family(app, client, auth, market):
    if "portal.market" not in app.view_functions:
        pytest.skip("the sponsor portal's market pages are not on this branch (they arrive with the pages' branch)")
    _, personal = market
    auth.login("sponsor")
    with app.test_request_context():
        index = url_for("portal.market")
    texts = []
    area_ids = [str(a.id) for a in world_areas()]
    queries = ["", "within_budget=y", "preferred_only=y", "max_amount=600"]
    queries += [f"area={a}" for a in area_ids] + [f"colour={c.value}" for c in Colour]
    queries += [f"category={c.value}" for c in HardshipCategory]
    post_ids: set[int] = set()
    for query in queries:
        page = 1
        while True:
            answer = client.get(f"{index}?{query}&page={page}")
            assert answer.status_code == 200, query
            text = answer.get_data(as_text=True)
            texts.append(text)
            post_ids |= {int(i) for i in re.findall(re.escape(index) + r"/(\d+)", text)}
            if f"page={page + 1}" not in text or page > 20:
                break
            page += 1
    assert len(post_ids) == 11
    for post_id in sorted(post_ids):
        answer = client.get(f"{index}/{post_id}")
        assert answer.status_code == 200
        texts.append(answer.get_data(as_text=True))
    for text in texts:
        assert not _leaks(text, personal), _leaks(text, personal)


def world_areas():
    from assist.areas.models import Area

    return db.session.scalars(db.select(Area).order_by(Area.path)).all()
