"""Test data built through the real operations, so every rule applies to it too."""

import itertools
from dataclasses import dataclass
from datetime import date, timedelta

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


def credit_code(n: int) -> str:
    """A valid unified social credit code, distinct for each ``n``."""
    from assist.sponsors import creditcode

    return creditcode.make(f"91330482MA{n:07d}")


def sponsor(
    name: str = "平湖爱心科技有限公司",
    *,
    username: str | None = None,
    approved: bool = True,
    areas: list[str] | None = None,
    pledge_posts: int = 5,
    pledge_budget_fen: int = 300_000,
    admin=None,
):
    """A registered sponsor (approved unless told otherwise) with its first user."""
    from assist.sponsors.operations import decide, register_sponsor

    n = next(_sequence)
    org = register_sponsor(
        {
            "name": name,
            "credit_code": credit_code(n),
            "contact_name": "陈经理",
            "phone": "0573-85000000",
            "area_codes": areas or [],
            "pledge_posts": pledge_posts,
            "pledge_budget_fen": pledge_budget_fen,
        },
        username or f"sponsor{n}",
        PASSWORD,
    )
    if approved:
        decide(admin, org, "approve")
    return org


def post(actor, family, *, member=None, publish: bool = True, **terms):
    """A virtual post for a member who lost work ability (the family's non-head member, made eligible here)."""
    from assist.families.operations import update_member
    from assist.posts.operations import create_post, publish_post

    if member is None:
        member = next(m for m in family.members if m.relation.value != "self")
    if member.work_ability.value == "full":
        update_member(actor, member, {"work_ability": "partial"})
    data = {
        "title": "社区电话巡访员",
        "duties": "每周电话联系独居老人",
        "hours_per_month": 20,
        "monthly_amount_fen": 50_000,
        **terms,
    }
    created = create_post(actor, member, data)
    if publish:
        publish_post(actor, created)
    return created


@dataclass
class Market:
    """Beside the world: world.sponsor's organisation (approved), a second approved sponsor with its own user, a
    pending sponsor, family_a's post claimed by world.sponsor's organisation with a draft agreement, and an open post
    in town B."""

    org: object
    other_org: object
    other_user: object
    pending_org: object
    claimed_post: object
    agreement: object
    open_post: object


def next_month(today: date | None = None) -> date:
    """The first day of the month after ``today`` (the scheme's today): when the market's agreement starts, so that it
    is always still to come."""
    from assist.db_types import local_today

    first = (today or local_today()).replace(day=1)
    return (first + timedelta(days=31)).replace(day=1)


def build_market(world: World) -> Market:
    from assist.agreements.operations import create_agreement
    from assist.auth.models import User
    from assist.posts.operations import claim_post
    from assist.sponsors.models import Sponsor

    org = sponsor("平湖爱心科技有限公司", areas=["330482001"], admin=world.admin)
    # world.sponsor speaks for org (its registration user is a second login of the same company)
    world.sponsor.sponsor_id = org.id
    other_org = sponsor("嘉兴善行实业有限公司", username="sponsor_b", admin=world.admin)
    other_user = db.session.scalar(db.select(User).where(User.username == "sponsor_b"))
    pending_org = sponsor("待审核商贸有限公司", username="sponsor_p", approved=False)
    db.session.flush()
    claimed = post(world.cw_a, world.family_a)
    claim_post(world.sponsor, claimed)
    agreement = create_agreement(world.cw_a, claimed, {"start_on": next_month()})
    family_b = world.family_b
    if len(family_b.members) < 2:
        from assist.families.operations import add_member, record_consent

        add_member(world.cw_b, family_b, member(name="王丽", work_ability="none"))
        record_consent(world.cw_b, family_b, date(2026, 2, 1), "帮扶所需信息")
    open_post = post(world.cw_b, family_b, title="手工编织")
    db.session.commit()
    assert db.session.get(Sponsor, org.id).approved
    return Market(org, other_org, other_user, pending_org, claimed, agreement, open_post)


def open_post(world: World, amount_fen: int = 50_000, area_code: str = "330482002001"):
    """An open post in a family of its own (town B by default), for a member with no work ability."""
    fam = family(
        world.cw_b if area_code.startswith("330482002") else world.cw_a,
        area_code,
        head_name="刘洋",
        members=[member(name="赵敏", work_ability="none")],
        consent_on=date(2026, 2, 1),
        consent_scope="帮扶所需信息",
    )
    return post(world.cw_b if area_code.startswith("330482002") else world.cw_a, fam, monthly_amount_fen=amount_fen)


# bulk matching ---------------------------------------------------------------------------------------------------------


def sent_offer(market: Market, sponsor=None, post=None, days: int = 7):
    """A sent matching offer of ``post`` (default: the market's claimed post) to ``sponsor`` (default: market.org),
    in a run of its own (as send_offers leaves it)."""
    from datetime import timedelta

    from assist.db_types import utcnow
    from assist.enums import MatchRunStatus, OfferStatus
    from assist.posts.models import MatchRun, Offer

    run = MatchRun(status=MatchRunStatus.SENT, solver="highs", sent_at=utcnow())
    db.session.add(run)
    db.session.flush()
    offer = Offer(
        run_id=run.id,
        post_id=(post or market.claimed_post).id,
        sponsor_id=(sponsor or market.org).id,
        status=OfferStatus.SENT,
        points=4000,
        reasons=[{"code": "colour", "points": 4000, "params": {"colour": "red"}}],
        expires_at=utcnow() + timedelta(days=days),
    )
    db.session.add(offer)
    db.session.commit()
    return offer


# stipends: batches and payments (issue 4)
def stipend(agreement, month: str = "2026-09", *, batch: str = "approved", amount_fen: int | None = None, days=None):
    """A stipend record of ``agreement`` (a snapshot as generation writes it) in ``month``'s batch, made ``batch``."""
    import calendar

    from assist.enums import BatchStatus
    from assist.stipends.models import StipendBatch, StipendRecord

    existing = db.session.scalar(db.select(StipendBatch).where(StipendBatch.month == month))
    if existing is None:
        db.session.add(StipendBatch(month=month, status=BatchStatus(batch)))
    else:
        existing.status = BatchStatus(batch)
    days_in_month = calendar.monthrange(int(month[:4]), int(month[5:]))[1]
    record = StipendRecord(
        agreement_id=agreement.id,
        month=month,
        sponsor_id=agreement.sponsor_id,
        area_id=agreement.area_id,
        family_id=agreement.family_id,
        days=days or days_in_month,
        days_in_month=days_in_month,
        monthly_amount_fen=agreement.monthly_amount_fen,
        amount_fen=agreement.monthly_amount_fen if amount_fen is None else amount_fen,
    )
    db.session.add(record)
    db.session.commit()
    return record
