"""A deterministic, realistic demo city modelled on Pinghu (平湖市): areas, staff and difficult-worker families.

Rows are written with set-based inserts, so the same builder makes the 1,600-family demo in seconds and the
100,000-family benchmark data in under a minute. The same seed always gives the same city.
"""

import random
from contextlib import contextmanager
from datetime import date, timedelta

from sqlalchemy import func, insert, select, update

from assist import crypto, idnumber
from assist.areas.models import Area
from assist.areas.operations import create_area
from assist.assessments.operations import flag_exit_candidates, months_back, reassess_all
from assist.auth.models import User
from assist.auth.operations import create_user
from assist.db_types import local_today, utcnow
from assist.enums import (
    ArchiveType,
    HardshipCategory,
    Health,
    Housing,
    IdentityStatus,
    Relation,
    Schooling,
    WorkAbility,
)
from assist.extensions import db
from assist.families.models import Family, Income, Member

CITY = ("330482", "平湖市")
TOWNS = [
    ("330482001", "当湖街道", ["东湖社区", "南市社区", "西门社区", "北门社区", "新华社区", "胜利社区"]),
    ("330482002", "钟埭街道", ["钟埭社区", "沈家弄村", "花园村", "南桥村"]),
    ("330482003", "曹桥街道", ["曹桥社区", "马厩村", "百寿村", "红光村"]),
    ("330482101", "乍浦镇", ["乍浦社区", "汤山社区", "天妃社区", "金星村", "雅山村"]),
    ("330482102", "新埭镇", ["新埭社区", "鱼圻塘村", "泖口村", "星建村"]),
    ("330482103", "新仓镇", ["新仓社区", "芦川村", "三叉河村", "秀平桥村"]),
    ("330482104", "独山港镇", ["全塘社区", "黄姑社区", "白沙湾村", "赵家桥村"]),
    ("330482105", "广陈镇", ["广陈社区", "山塘村", "龙萌村", "民主村"]),
    ("330482106", "林埭镇", ["林埭社区", "徐埭社区", "林家埭村", "友联村"]),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文辉鹏志宏林梅琴云飞俊斌雪燕婷浩宇欣怡佳晨阳凯丹雯"
EMPLOYERS = [
    "平湖市经济开发区某服装厂",
    "乍浦港务公司",
    "嘉兴某电子有限公司",
    "平湖某箱包厂",
    "新埭某机械厂",
    "个体经营",
    "某物流公司",
    "某食品厂",
]
ILLNESSES = ["尿毒症", "恶性肿瘤", "脑卒中后遗症", "白血病", "重症肌无力", "心脏病"]
CHRONIC = ["高血压", "糖尿病", "慢性支气管炎", "类风湿关节炎"]
DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 (printed demo logins)
#: Zhejiang county codes (Jiaxing) where the demo's people were born
REGIONS = ("330482", "330481", "330483", "330402", "330411", "330421", "330424", "330103", "330106", "330203")


def _name(rng: random.Random, surname: str | None = None) -> str:
    return (surname or rng.choice(SURNAMES)) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def build_areas(actor=None) -> dict[str, Area]:
    """The city, its towns and communities (idempotent)."""
    existing = {a.code: a for a in db.session.scalars(select(Area))}
    if CITY[0] not in existing:
        existing[CITY[0]] = create_area(actor, CITY[0], CITY[1])
    for code, name, communities in TOWNS:
        if code not in existing:
            existing[code] = create_area(actor, code, name, CITY[0])
        for i, community in enumerate(communities, start=1):
            ccode = f"{code}{i:03d}"
            if ccode not in existing:
                existing[ccode] = create_area(actor, ccode, community, code)
    return existing


def build_users(areas: dict[str, Area]) -> list[tuple[str, str, str]]:
    """The admin and one caseworker per town (plus a city-wide one); returns (user, password, what) rows."""
    logins = [("admin", "admin", "city union admin (市总工会管理员), all areas")]
    wanted = [("admin", "admin", [], "市总工会 管理员")]
    wanted.append(("caseworker", "caseworker", [CITY[0]], "市总工会 帮扶干部 (all of Pinghu)"))
    logins.append(("caseworker", "caseworker", "caseworker for the whole city"))
    for n, (code, name, _) in enumerate(TOWNS, start=1):
        username = f"cw{n:02d}"
        wanted.append((username, "caseworker", [code], f"{name} 帮扶干部"))
        logins.append((username, "caseworker", f"caseworker for {name} only"))
    for username, role, codes, display in wanted:
        if not db.session.scalar(select(User.id).where(User.username == username)):
            create_user(None, username, DEMO_PASSWORD, role, display_name=display, area_codes=codes)
    return [(u, DEMO_PASSWORD, what) for u, _, what in logins]


def build_families(
    n: int, seed: int, areas: dict[str, Area], today: date, months: int = 15, members: tuple[int, int] | None = None
) -> int:
    """Insert ``n`` families with members and ``months`` months of income, deterministic for ``seed``."""
    rng = random.Random(seed)
    communities = sorted((a for a in areas.values() if a.depth == 2), key=lambda a: a.code)
    start_id = (db.session.scalar(select(func.max(Family.id))) or 0) + 1
    month_list = months_back(today, months)
    now = utcnow()
    line = 120_000
    sequence = 0
    used: set[str] = set()
    fam_rows, mem_rows, inc_rows = [], [], []
    cipher = crypto.encrypt

    def person(relation, born, surname=None):
        nonlocal sequence
        while True:
            sequence += 1
            number = idnumber.make(REGIONS[sequence % len(REGIONS)], born, rng.randrange(1000))
            if number not in used:
                used.add(number)
                break
        parsed = idnumber.parse(number, today=today)
        return {
            "relation": relation,
            "name": _name(rng, surname),
            "id_cipher": cipher(number),
            "id_index": crypto.blind_index(number),
            "id_masked": parsed.masked,
            "birth_year": born.year,
            "male": parsed.male,
            "health": Health.HEALTHY.value,
            "disability_grade": None,
            "illness": "",
            "work_ability": WorkAbility.FULL.value,
            "schooling": Schooling.NONE.value,
            "is_current": True,
            "created_at": now,
        }

    def born(lo: int, hi: int) -> date:
        return date(today.year - hi, 1, 1) + timedelta(days=rng.randrange((hi - lo) * 365))

    for k in range(n):
        fid = start_id + k
        area = communities[rng.randrange(len(communities))]
        profile = rng.random()
        # roughly: 25% deep (red), 40% relative (yellow), 35% stabilising (green)
        head = person(Relation.SELF.value, born(35, 62))
        surname = head["name"][0]
        people = [head]
        size = rng.choice((1, 2, 3, 3, 3, 4, 4, 5)) if members is None else rng.randint(*members)
        if size >= 2:
            people.append(person(Relation.SPOUSE.value, born(33, 62)))
        for _ in range(max(0, size - 2)):
            if rng.random() < 0.7:
                child = person(Relation.CHILD.value, born(3, 22), surname)
                age = today.year - child["birth_year"]
                child["schooling"] = (
                    Schooling.PRIMARY
                    if age < 12
                    else Schooling.JUNIOR
                    if age < 15
                    else Schooling.SENIOR
                    if age < 18
                    else Schooling.COLLEGE
                ).value
                people.append(child)
            else:
                people.append(person(Relation.PARENT.value, born(66, 88)))
        sick = people[rng.randrange(len(people))]
        if profile < 0.25:
            sick["health"] = rng.choice((Health.SERIOUS_ILLNESS, Health.DISABLED)).value
            sick["work_ability"] = WorkAbility.NONE.value
            if sick["health"] == Health.DISABLED.value:
                sick["disability_grade"] = rng.randint(1, 2)
            else:
                sick["illness"] = rng.choice(ILLNESSES)
            base = rng.randint(0, line * len(people) * 6 // 10)
            category = HardshipCategory.DEEP
        elif profile < 0.65:
            sick["health"] = rng.choice((Health.CHRONIC, Health.SERIOUS_ILLNESS)).value
            sick["illness"] = rng.choice(CHRONIC if sick["health"] == Health.CHRONIC.value else ILLNESSES)
            sick["work_ability"] = WorkAbility.PARTIAL.value
            base = rng.randint(line * len(people) * 7 // 10, line * len(people) * 13 // 10)
            category = HardshipCategory.RELATIVE
        else:
            base = rng.randint(line * len(people) * 7 // 10, line * len(people) * 13 // 10)
            category = HardshipCategory.RELATIVE if rng.random() < 0.8 else HardshipCategory.ACCIDENT
        accident_on = None
        if rng.random() < 0.06:
            accident_on = today - timedelta(days=rng.randrange(30, 300))
            category = HardshipCategory.ACCIDENT
        trend = rng.choice((-1, 0, 0, 1, 2)) if profile >= 0.4 else 0
        for m in people:
            m["family_id"] = fid
        mem_rows.extend(people)
        for i, month in enumerate(month_list):
            # older months first differ by the trend, so some families change colour over the year
            factor = 100 - trend * i * 2
            amount = max(0, base * factor // 100 + rng.randint(-base // 8 - 5_000, base // 8 + 5_000))
            medical = (
                rng.randint(20_000, 300_000)
                if sick["health"] in (Health.SERIOUS_ILLNESS.value, Health.DISABLED.value)
                else rng.choice((0, 0, 5_000, 20_000))
            )
            education = (
                80_000
                if any(p["schooling"] == Schooling.COLLEGE.value for p in people) and month.endswith(("-02", "-09"))
                else 0
            )
            inc_rows.append(
                {
                    "family_id": fid,
                    "month": month,
                    "amount_fen": amount,
                    "medical_fen": medical,
                    "education_fen": education,
                    "created_at": now,
                }
            )
        fam_rows.append(
            {
                "id": fid,
                "area_id": area.id,
                "status": "active",
                "hardship_category": category.value,
                "archive_type": (ArchiveType.STOCK if rng.random() < 0.6 else ArchiveType.NEW).value,
                "head_name": head["name"],
                "phone": f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}",
                "address": f"{area.name}{rng.randint(1, 120)}号",
                "employer": rng.choice(EMPLOYERS),
                "employer_union": "",
                "identity_status": rng.choice(list(IdentityStatus)).value,
                "accident_on": accident_on,
                "accident_note": "工伤事故" if accident_on else "",
                "single_parent": size >= 2 and rng.random() < 0.08,
                "debt_fen": rng.choice((0, 0, 0, 500_000, 2_000_000, 8_000_000)),
                "housing": rng.choice(
                    (Housing.ADEQUATE, Housing.ADEQUATE, Housing.ADEQUATE, Housing.DIFFICULT, Housing.NONE)
                ).value,
                "notes": "",
                "consent_on": today - timedelta(days=rng.randrange(30, 900)) if rng.random() < 0.85 else None,
                "consent_scope": "帮扶工作所需的个人和家庭信息",
                "created_at": now,
                "updated_at": now,
            }
        )
        if len(fam_rows) >= 5000:
            _flush(fam_rows, mem_rows, inc_rows)
    _flush(fam_rows, mem_rows, inc_rows)
    return n


def _flush(fam_rows, mem_rows, inc_rows) -> None:
    if fam_rows:
        db.session.execute(insert(Family), fam_rows)
        db.session.execute(insert(Member), mem_rows)
        db.session.execute(insert(Income), inc_rows)
    fam_rows.clear()
    mem_rows.clear()
    inc_rows.clear()


def build_demo(families: int = 1600, seed: int = 2026, today: date | None = None) -> list[tuple[str, str, str]]:
    """The whole demo city; returns the logins to print."""
    today = today or local_today()
    with _one_hash():
        return _build_demo(families, seed, today)


@contextmanager
def _one_hash():
    """Every demo login has the same published password: hash it once, not once per user (argon2 takes ~0.6 s)."""
    from assist.auth import operations

    original = operations.hash_password
    hashes: dict[str, str] = {}

    def hash_once(password: str) -> str:
        if password not in hashes:
            hashes[password] = original(password)
        return hashes[password]

    operations.hash_password = hash_once
    try:
        yield
    finally:
        operations.hash_password = original


def _build_demo(families: int, seed: int, today: date) -> list[tuple[str, str, str]]:
    from datetime import UTC, datetime

    areas = build_areas()
    logins = build_users(areas)
    build_families(families, seed, areas, today)
    db.session.flush()
    # two rounds of assessment, three months apart, give every family a colour history
    earlier = today - timedelta(days=91)
    reassess_all(earlier, at=datetime(earlier.year, earlier.month, earlier.day, 2, tzinfo=UTC))
    reassess_all(today)
    # a few reviews were missed, so the overdue list has something on it
    db.session.execute(
        update(Family)
        .where(Family.id % 17 == 3)
        .values(next_review_on=today - timedelta(days=5))
        .execution_options(synchronize_session=False)
    )
    flag_exit_candidates(today)
    # sponsors, posts in every state and years of agreements (after the assessments: posts rank by colour)
    from assist.demo_posts import build_scheme, sync_sequences

    logins += build_scheme(families, seed, areas, today)
    sync_sequences()
    # years of monthly stipends, generated as the scheduler would have, mostly paid
    from assist.demo_stipends import build_stipend_history

    build_stipend_history(today)
    return logins
