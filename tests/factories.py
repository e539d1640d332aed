"""Test data built through the real operations, so every rule applies to it too."""

import itertools
from dataclasses import dataclass
from datetime import date

from assist import idnumber
from assist.areas.operations import create_area
from assist.auth.operations import create_user
from assist.extensions import db

PASSWORD = "correct horse battery"
_sequence = itertools.count(1)


def id_number(born: date = date(1980, 5, 17), region: str = "330482") -> str:
    """A fresh valid ID number (unique within the test run)."""
    n = next(_sequence)
    return (
        idnumber.make(region, born, n % 1000)
        if n < 1000
        else idnumber.make(f"3304{n // 1000 % 100:02d}", born, n % 1000)
    )


def user(username: str, role: str, areas: list[str] | None = None, **kw):
    return create_user(None, username, PASSWORD, role, area_codes=areas or [], **kw)


def family(
    actor,
    area_code: str,
    *,
    head_name: str = "张伟",
    members: list[dict] | None = None,
    incomes: dict[str, int] | None = None,
    **fields,
):
    """A family file with its head (and members, incomes) through create_family / record_income."""
    from assist.families.operations import create_family, record_income

    data = {
        "area_code": area_code,
        "hardship_category": "relative",
        "head_name": head_name,
        "head_id_number": id_number(),
        "members": members or [],
        "phone": "13800000000",
        "address": "当湖街道东湖社区1号",
        **fields,
    }
    fam = create_family(actor, data)
    for month, amount in (incomes or {}).items():
        record_income(actor, fam, month, amount)
    return fam


def member(relation: str = "spouse", name: str = "李芳", **kw) -> dict:
    return {"relation": relation, "name": name, "id_number": id_number(kw.pop("born", date(1982, 3, 9))), **kw}


@dataclass
class World:
    admin: object
    cw_a: object
    cw_b: object
    cw_city: object
    sponsor: object
    provider: object
    family_a: object
    family_b: object


def build_world() -> World:
    create_area(None, "330482", "平湖市")
    create_area(None, "330482001", "当湖街道", "330482")
    create_area(None, "330482001001", "东湖社区", "330482001")
    create_area(None, "330482002", "钟埭街道", "330482")
    create_area(None, "330482002001", "钟埭社区", "330482002")
    admin = user("admin", "admin")
    cw_a = user("cw_a", "caseworker", ["330482001"])
    cw_b = user("cw_b", "caseworker", ["330482002"])
    cw_city = user("cw_city", "caseworker", ["330482"])
    sponsor = user("sponsor", "sponsor")
    provider = user("provider", "provider")
    family_a = family(
        cw_a,
        "330482001001",
        head_name="张伟",
        members=[member()],
        consent_on=date(2026, 1, 5),
        consent_scope="帮扶所需信息",
    )
    family_b = family(cw_b, "330482002001", head_name="王强")
    db.session.commit()
    return World(admin, cw_a, cw_b, cw_city, sponsor, provider, family_a, family_b)
