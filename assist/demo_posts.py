"""Demo sponsors (爱心单位), virtual posts in every state and ten years of three-party agreements (帮扶协议).

The scheme ran on paper from 2016; the system went live about a year before the demo's "today", and the paper
agreements before that were entered with their original dates. At Pinghu's scale (1,600 families) the demo has 425
sponsors and about 1,500 posts ever created. Rows are written set-based (like the families), every post's history
(PostEvent) replays from draft to its current state, and the same seed always gives the same scheme.
"""

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select, text

from assist.agreements.models import Agreement, Suspension
from assist.agreements.operations import add_months, default_end, fill_signed_parties
from assist.areas.models import Area
from assist.auth.models import User
from assist.auth.operations import create_user
from assist.db_types import utcnow
from assist.enums import AgreementStatus, FamilyStatus, PostStatus, Role, SponsorStatus, WorkAbility
from assist.extensions import db
from assist.families.models import Family, Member
from assist.posts.models import Post, PostEvent
from assist.posts.operations import colour_rank
from assist.sponsors import creditcode
from assist.sponsors.models import Sponsor, sponsor_areas

PINGHU_FAMILIES = 1600
PINGHU_SPONSORS = 425
#: posts ever created at Pinghu's scale, and how many of them are still live, by state (the rest have ended)
EVER_CREATED = 1500
LIVE = {
    PostStatus.DRAFT: 40,
    PostStatus.OPEN: 130,
    PostStatus.CLAIMED: 45,
    PostStatus.ACTIVE: 430,
    PostStatus.SUSPENDED: 20,
}
SCHEME_START = date(2016, 3, 1)
#: the system went live this many days before the demo's today; agreements signed earlier were entered from paper
LIVE_FOR_DAYS = 400

PLACES = ("平湖市", "平湖市", "平湖", "嘉兴", "嘉兴市", "浙江平湖", "浙江")
BRANDS = [
    "华盛",
    "恒通",
    "锦达",
    "宏远",
    "永兴",
    "金鼎",
    "新亚",
    "东方",
    "天顺",
    "瑞丰",
    "鸿运",
    "信诚",
    "海聚",
    "众诚",
    "百川",
    "兴业",
    "正阳",
    "南洋",
    "乍港",
    "当湖",
    "东湖",
    "九龙",
    "明珠",
    "博远",
    "嘉联",
    "汇通",
    "华强",
    "昌盛",
    "荣达",
    "景兴",
    "万丰",
    "德邦",
    "欣和",
    "润泽",
    "鼎盛",
    "佳禾",
    "广源",
    "立新",
    "金马",
    "银河",
    "凯丰",
    "新华",
    "建华",
    "创新",
    "康力",
    "三友",
    "四通",
    "五洲",
    "亚太",
    "协和",
    "同心",
    "友联",
    "富民",
    "利民",
    "惠民",
    "顺发",
    "旺达",
    "隆昌",
    "泰和",
    "安康",
    "福源",
    "禾丰",
    "秀洲",
    "湖滨",
    "滨海",
    "港城",
    "星火",
]
TRADES = [
    "纺织",
    "服饰",
    "箱包",
    "机械",
    "电子",
    "光电",
    "新材料",
    "化工",
    "印染",
    "汽车零部件",
    "物流",
    "港口服务",
    "食品",
    "建材",
    "科技",
    "塑业",
    "五金",
    "家居",
    "包装",
    "医疗器械",
    "商贸",
    "置业",
    "环保科技",
    "农业开发",
    "餐饮管理",
    "制衣",
    "皮革",
    "金属制品",
    "智能装备",
    "供应链管理",
]
SUFFIXES = ("有限公司", "有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司")
OTHERS = (
    "平湖农村商业银行{town}支行",
    "{town}{surname}记餐饮店",
    "平湖市{town}商会",
    "{town}{brand}超市",
    "平湖{brand}大酒店有限公司",
)
REJECTIONS = (
    "统一社会信用代码与营业执照不符，请核对后重新注册",
    "联系人电话无法接通，资料不全",
    "企业存在经营异常记录，暂不纳入",
    "重复注册：该单位已有账户",
)
SPONSOR_SUSPENSIONS = ("连续三个月未按时发放帮扶待遇", "企业申请暂停参与认领")
POSTS = (
    ("社区电话巡访员", "每周电话联系辖区独居老人，了解近况并向社区报告", 20),
    ("手工编织", "在家完成来料手工编织，每月交付约定件数", 30),
    ("垃圾分类宣传员", "在小区投放点引导居民分类投放，身体允许时每周两次", 16),
    ("楼道文明劝导员", "巡查本楼道卫生与堆物，发现问题告知物业", 12),
    ("社区图书角管理员", "整理社区图书角，登记借还", 20),
    ("网格信息员", "收集邻里诉求，协助网格员更新住户信息", 20),
    ("居家来料加工", "在家完成电子元件或箱包配件的简单组装", 40),
    ("老年人陪伴聊天", "通过电话或上门陪伴行动不便的老人聊天", 16),
    ("防诈骗宣传员", "在社区微信群转发并讲解防诈骗知识", 10),
    ("社区绿化养护", "力所能及地照看社区花坛，浇水除草", 16),
)
TERMINATIONS = (
    "乙方身体状况好转，已重新就业",
    "乙方病故",
    "家庭收入连续超过标准，脱困退出",
    "甲方经营困难，申请提前终止",
    "乙方迁出本市",
    "乙方因住院治疗无法继续履约",
)
CANCELLATIONS = ("家庭已脱困，不再需要岗位", "成员身体状况变化，岗位不再合适", "家庭申请撤回")
SUSPENSIONS = ("乙方住院治疗", "乙方外出就医", "甲方待遇发放核对中", "乙方家中变故，暂停履约")


def _scaled(value: int, families: int) -> int:
    return round(value * families / PINGHU_FAMILIES)


class _Scheme:
    """Collects the rows; ids are given here so chains (previous agreement, suspensions) link before inserting."""

    def __init__(self, rng: random.Random, today: date, now: datetime):
        self.rng = rng
        self.today = today
        self.now = now
        self.launch = today - timedelta(days=LIVE_FOR_DAYS)
        self.post_id = (db.session.scalar(select(db.func.max(Post.id))) or 0) + 1
        self.agreement_id = (db.session.scalar(select(db.func.max(Agreement.id))) or 0) + 1
        self.posts: list[dict] = []
        self.events: list[dict] = []
        self.agreements: list[dict] = []
        self.suspensions: list[dict] = []
        #: post id → agreements numbered so far
        self.numbered: dict[int, int] = {}
        #: sponsor index → earliest claim date
        self.first_claim: dict[int, date] = {}

    # times ------------------------------------------------------------------------------------------------------------
    def at(self, day: date) -> datetime:
        """A moment in office hours (Shanghai) on ``day``, never after now."""
        moment = datetime(day.year, day.month, day.day, 1, tzinfo=UTC) + timedelta(minutes=self.rng.randrange(540))
        return min(moment, self.now - timedelta(minutes=1))

    def event(
        self,
        post: dict,
        action: str,
        before,
        after,
        day: date,
        *,
        actor=None,
        sponsor=None,
        effective=None,
        note="",
        moment: datetime | None = None,
    ) -> None:
        self.events.append(
            {
                "post_id": post["id"],
                "action": action,
                "from_status": before.value if before else None,
                "to_status": after.value,
                "sponsor_id": sponsor,
                "effective_on": effective,
                "note": note,
                "actor_id": actor[0] if actor else None,
                "actor_name": actor[1] if actor else "system",
                "at": moment or self.at(day),
            }
        )

    # posts ------------------------------------------------------------------------------------------------------------
    def post(self, member: tuple, status: PostStatus, created: datetime, actor, amount: int, term: int) -> dict:
        member_id, family_id, area_id, _, colour = member
        title, duties, hours = self.rng.choice(POSTS)
        row = {
            "id": self.post_id,
            "family_id": family_id,
            "member_id": member_id,
            "area_id": area_id,
            "status": status.value,
            "title": title,
            "duties": duties,
            "hours_per_month": hours,
            "monthly_amount_fen": amount,
            "term_months": term,
            "colour_rank": colour_rank(colour),
            "published_at": None,
            "sponsor_id": None,
            "claimed_at": None,
            "claim_expires_at": None,
            "ended_on": None,
            "created_at": created,
            "created_by_id": actor[0],
            "updated_at": created,
        }
        self.post_id += 1
        self.posts.append(row)
        self.event(row, "create", None, PostStatus.DRAFT, created.date(), actor=actor, moment=created)
        return row

    def publish(self, post: dict, day: date, actor) -> None:
        post["published_at"] = self.at(day)
        self.event(post, "publish", PostStatus.DRAFT, PostStatus.OPEN, day, actor=actor, moment=post["published_at"])

    def claim(self, post: dict, sponsor: tuple, moment: datetime, actor_name: str) -> None:
        index, sponsor_id = sponsor
        post["sponsor_id"] = sponsor_id
        post["claimed_at"] = moment
        self.first_claim[index] = min(self.first_claim.get(index, moment.date()), moment.date())
        self.event(
            post,
            "claim",
            PostStatus.OPEN,
            PostStatus.CLAIMED,
            moment.date(),
            actor=(None, actor_name),
            sponsor=sponsor_id,
            moment=moment,
        )

    def agreement(
        self,
        post: dict,
        start: date,
        end: date,
        status: AgreementStatus,
        *,
        signed_on=None,
        previous=None,
        amount=None,
        actor=None,
    ) -> dict:
        n = self.numbered.get(post["id"], 0)
        self.numbered[post["id"]] = n + 1
        from_paper = signed_on is not None and signed_on < self.launch
        if from_paper:
            created = self.at(min(self.launch + timedelta(days=self.rng.randrange(60)), self.today))
        else:
            created = self.at(
                max((signed_on or self.today) - timedelta(days=self.rng.randrange(1, 10)), start - timedelta(days=40))
            )
        row = {
            "id": self.agreement_id,
            "number": f"XG-{start.year}-{post['id']:06d}-{n + 1}",
            "post_id": post["id"],
            "sponsor_id": post["sponsor_id"],
            "member_id": post["member_id"],
            "family_id": post["family_id"],
            "area_id": post["area_id"],
            "status": status.value,
            "start_on": start,
            "end_on": end,
            "monthly_amount_fen": amount or post["monthly_amount_fen"],
            "duties": post["duties"],
            "hours_per_month": post["hours_per_month"],
            "previous_id": previous["id"] if previous else None,
            "from_paper": from_paper,
            "signed_on": signed_on,
            "terminated_on": None,
            "termination_reason": "",
            "created_at": min(created, self.now),
            "created_by_id": actor[0] if actor else post["created_by_id"],
            "updated_at": min(created, self.now),
        }
        self.agreement_id += 1
        self.agreements.append(row)
        return row

    def terms(self, post: dict, first_start: date, *, until: date | None = None, count: int | None = None) -> list:
        """Consecutive terms of the post from ``first_start``: up to the one covering ``until``, or ``count`` of them."""
        terms, start = [], first_start
        while True:
            end = default_end(start, post["term_months"])
            terms.append((start, end))
            if (until is not None and end >= until) or (count is not None and len(terms) >= count):
                return terms
            start = end + timedelta(days=1)

    def carried_chain(self, post: dict, terms: list, sponsor: tuple, actor) -> list[dict]:
        """Claim before the first term, sign each term before it starts (renewals chained), activate on the start."""
        first = terms[0][0]
        claimed_on = first - timedelta(days=self.rng.randrange(7, 30))
        published_on = claimed_on - timedelta(days=self.rng.randrange(1, 90))
        post["created_at"] = self.at(published_on - timedelta(days=self.rng.randrange(0, 14)))
        post["updated_at"] = post["created_at"]
        self.events[-1]["at"] = post["created_at"]
        self.publish(post, published_on, actor)
        self.claim(post, sponsor, self.at(claimed_on), "sponsor")
        rows, previous = [], None
        amount = post["monthly_amount_fen"]
        for start, end in terms:
            if start.year >= 2021 and amount < 50_000:
                amount = 50_000  # the minimum stipend rose in 2021
            lead = self.rng.randrange(3, 25)
            signed = max(start - timedelta(days=lead), claimed_on) if previous is None else start - timedelta(days=lead)
            status = AgreementStatus.ENDED if end < self.today else AgreementStatus.ACTIVE
            previous = self.agreement(
                post, start, end, status, signed_on=signed, previous=previous, amount=amount, actor=actor
            )
            rows.append(previous)
        post["monthly_amount_fen"] = amount
        post["claim_expires_at"] = None
        self.event(
            post,
            "activate",
            PostStatus.CLAIMED,
            PostStatus.ACTIVE,
            first,
            effective=first,
            note=rows[0]["number"],
            sponsor=post["sponsor_id"],
        )
        return rows

    def past_suspension(self, post: dict, agreement: dict, actor) -> None:
        """A suspension that began and ended inside one (ended) term."""
        start, end = agreement["start_on"], agreement["end_on"]
        if (end - start).days < 120:
            return
        s_start = start + timedelta(days=self.rng.randrange(20, (end - start).days - 90))
        s_end = s_start + timedelta(days=self.rng.randrange(15, 80))
        reason = self.rng.choice(SUSPENSIONS)
        self.suspensions.append(
            {
                "agreement_id": agreement["id"],
                "start_on": s_start,
                "end_on": s_end,
                "reason": reason,
                "created_at": self.at(s_start),
            }
        )
        self.event(
            post,
            "suspend",
            PostStatus.ACTIVE,
            PostStatus.SUSPENDED,
            s_start,
            actor=actor,
            effective=s_start,
            note=reason,
            sponsor=post["sponsor_id"],
        )
        resume = s_end + timedelta(days=1)
        self.event(
            post,
            "resume",
            PostStatus.SUSPENDED,
            PostStatus.ACTIVE,
            resume,
            actor=actor,
            effective=resume,
            sponsor=post["sponsor_id"],
        )


def _sponsor_rows(rng: random.Random, n: int, towns: list[Area], now: datetime) -> tuple[list[dict], list[dict]]:
    from assist.demo import SURNAMES, _name

    start_id = (db.session.scalar(select(db.func.max(Sponsor.id))) or 0) + 1
    names: set[str] = set()
    codes: set[str] = set()
    rows, links = [], []
    for k in range(n):
        while True:
            town = rng.choice(towns)
            if rng.random() < 0.06:
                name = rng.choice(OTHERS).format(town=town.name, surname=rng.choice(SURNAMES), brand=rng.choice(BRANDS))
            else:
                name = rng.choice(PLACES) + rng.choice(BRANDS) + rng.choice(TRADES) + rng.choice(SUFFIXES)
            if name not in names:
                names.add(name)
                break
        while True:
            org = "".join(rng.choice("0123456789") for _ in range(8))
            weights = (3, 7, 9, 10, 5, 8, 4, 2)
            check = 11 - sum(int(c) * w for c, w in zip(org, weights, strict=True)) % 11
            org += {10: "X", 11: "0"}.get(check, str(check))
            region = "330482" if rng.random() < 0.7 else rng.choice(("330402", "330411", "330481", "330421"))
            code = creditcode.make(("92" if "餐饮店" in name else "91") + region + org)
            if code not in codes:
                codes.add(code)
                break
        if k < 5:
            status = SponsorStatus.APPROVED  # the demo's sponsor logins
        elif k == 5:
            status = SponsorStatus.PENDING  # sponsor_pending
        else:
            r = rng.random()
            status = (
                SponsorStatus.APPROVED
                if r < 0.86
                else SponsorStatus.PENDING
                if r < 0.95
                else SponsorStatus.REJECTED
                if r < 0.985
                else SponsorStatus.SUSPENDED
            )
        posts = rng.choice((1, 1, 1, 1, 2, 2, 2, 3, 3, 5, 10)) if k else 10
        contact = _name(rng)
        street = rng.choice(("新华路", "胜利路", "东湖大道", "建设路", "乍王公路", "港区大道", "工业园路", "兴平路"))
        rows.append(
            {
                "id": start_id + k,
                "name": name,
                "credit_code": code,
                "contact_name": contact,
                "phone": f"0573-85{rng.randint(100_000, 999_999)}"
                if rng.random() < 0.5
                else f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}",
                "email": f"gh{start_id + k:04d}@example.cn" if rng.random() < 0.4 else "",
                "address": f"平湖市{town.name}{street}{rng.randint(1, 999)}号",
                "status": status.value,
                "pledge_posts": posts,
                "pledge_budget_fen": posts * rng.choice((50_000, 60_000, 80_000, 100_000)),
                "status_reason": rng.choice(REJECTIONS)
                if status == SponsorStatus.REJECTED
                else rng.choice(SPONSOR_SUSPENSIONS)
                if status == SponsorStatus.SUSPENDED
                else "",
                "decided_at": None,
                "decided_by_id": None,
                "created_at": now,
            }
        )
        for town_area in rng.sample(towns, rng.choice((0, 1, 1, 1, 2, 2, 3))):
            links.append({"sponsor_id": start_id + k, "area_id": town_area.id})
    return rows, links


def build_scheme(families: int, seed: int, areas: dict[str, Area], today: date) -> list[tuple[str, str, str]]:
    """Sponsors, posts in every state and agreements, scaled to ``families``; returns the sponsor logins to print."""
    from assist.demo import DEMO_PASSWORD, TOWNS

    rng = random.Random(seed * 7919 + 3)
    now = utcnow()
    towns = sorted((a for a in areas.values() if a.depth == 1), key=lambda a: a.code)
    n_sponsors = max(8, _scaled(PINGHU_SPONSORS, families))
    sponsors, links = _sponsor_rows(rng, n_sponsors, towns, now)
    admin_id = db.session.scalar(select(User.id).where(User.username == "admin"))
    staff = {
        code: tuple(db.session.execute(select(User.id, User.username).where(User.username == f"cw{n:02d}")).one())
        for n, (code, _, _) in enumerate(TOWNS, start=1)
    }
    approved = [k for k, s in enumerate(sponsors) if s["status"] == SponsorStatus.APPROVED.value]
    historic = [k for k, s in enumerate(sponsors) if s["status"] in ("approved", "suspended")]
    remaining = {k: sponsors[k]["pledge_posts"] for k in approved}

    def carrier(forced: bool) -> tuple[int, int]:
        if forced:
            k = 0
        else:
            free = [k for k in approved if remaining[k] > 0 and k != 0]
            k = rng.choice(free) if free else rng.choice(approved)
        if remaining.get(k, 0) <= 0:
            sponsors[k]["pledge_posts"] += 1
        remaining[k] = max(remaining.get(k, 0) - 1, 0)
        return k, sponsors[k]["id"]

    # members a post can be for: partial or no work ability, in an active family that gave consent; one per family
    eligible, seen = [], set()
    for row in db.session.execute(
        select(Member.id, Member.family_id, Family.area_id, Area.code, Family.colour)
        .join(Family, Family.id == Member.family_id)
        .join(Area, Area.id == Family.area_id)
        .where(
            Family.status == FamilyStatus.ACTIVE,
            Family.consent_on.is_not(None),
            Member.is_current.is_(True),
            Member.work_ability.in_([WorkAbility.PARTIAL, WorkAbility.NONE]),
        )
        .order_by(Member.id)
    ):
        if row[1] not in seen:
            seen.add(row[1])
            eligible.append(tuple(row))
    rng.shuffle(eligible)
    live = {state: _scaled(n, families) for state, n in LIVE.items()}
    if sum(live.values()) > len(eligible):
        factor = len(eligible) / sum(live.values())
        live = {state: int(n * factor) for state, n in live.items()}
    if len(eligible) >= 5 * len(live):
        live = {state: max(n, 1 if state != PostStatus.ACTIVE else 4) for state, n in live.items()}
    ended_target = max(_scaled(EVER_CREATED, families) - sum(live.values()), 0)

    s = _Scheme(rng, today, now)
    cursor: dict[int, date] = {}
    members = iter(eligible)
    plan = [state for state, n in live.items() for _ in range(n)]
    counts = dict.fromkeys(LIVE, 0)
    for state in plan:
        member = next(members)
        actor = staff[member[3][:9]]
        counts[state] += 1
        forced = counts[state] <= {PostStatus.CLAIMED: 3, PostStatus.ACTIVE: 4, PostStatus.SUSPENDED: 1}.get(state, 0)
        term = rng.choice((12,) * 18 + (6, 24))
        amount = rng.choice((50_000, 50_000, 50_000, 60_000, 80_000, 100_000))
        if state in (PostStatus.DRAFT, PostStatus.OPEN):
            created = s.at(today - timedelta(days=rng.randrange(0, 30 if state == PostStatus.DRAFT else 400)))
            post = s.post(member, state, created, actor, amount, term)
            if state == PostStatus.OPEN:
                published = min(created.date() + timedelta(days=rng.randrange(0, 8)), today)
                s.publish(post, published, actor)
                if rng.random() < 0.15 and (today - published).days > 20:
                    # an earlier claim that ran out unsigned (or that the sponsor withdrew)
                    k, sid = rng.choice([(k, sponsors[k]["id"]) for k in historic])
                    when = published + timedelta(days=rng.randrange(1, (today - published).days - 15))
                    s.claim(post, (k, sid), s.at(when), "sponsor")
                    expired = rng.random() < 0.6
                    back = when + timedelta(days=14 if expired else rng.randrange(1, 14))
                    s.event(
                        post,
                        "expire" if expired else "withdraw",
                        PostStatus.CLAIMED,
                        PostStatus.OPEN,
                        back,
                        actor=None if expired else (None, "sponsor"),
                        sponsor=sid,
                    )
                    post.update(sponsor_id=None, claimed_at=None)
            cursor[member[0]] = created.date()
            continue
        if state == PostStatus.CLAIMED:
            claimed = now - timedelta(minutes=rng.randrange(10, 12 * 24 * 60))
            published = claimed.date() - timedelta(days=rng.randrange(1, 120))
            created = s.at(published - timedelta(days=rng.randrange(0, 10)))
            post = s.post(member, state, created, actor, amount, term)
            s.publish(post, published, actor)
            s.claim(post, carrier(forced), claimed, "sponsor")
            post["claim_expires_at"] = claimed + timedelta(days=14)
            start = date(today.year + today.month // 12, today.month % 12 + 1, 1)
            kind = ("draft", "signed", "none")[counts[state] - 1] if forced else rng.choice(("none", "draft", "signed"))
            if kind == "draft":
                s.agreement(post, start, default_end(start, term), AgreementStatus.DRAFT)
            elif kind == "signed":
                signed = claimed.date() + timedelta(days=rng.randrange(0, max((today - claimed.date()).days, 0) + 1))
                s.agreement(post, start, default_end(start, term), AgreementStatus.SIGNED, signed_on=signed)
                post["claim_expires_at"] = None
            cursor[member[0]] = created.date()
            continue
        # active or suspended: a chain of terms up to the one running today
        post = s.post(member, state, now, actor, amount, term)
        if forced and state == PostStatus.ACTIVE and counts[state] <= 2:
            # the sponsor login's portal shows an agreement ending within 30 days (renewed or not)
            last = today + timedelta(days=rng.randrange(5, 28))
            current_start = add_months(last + timedelta(days=1), -term)
            first = add_months(current_start, -term * rng.randrange(0, 3))
        else:
            span = (today - SCHEME_START).days - 15
            first = today - timedelta(days=15 + int(rng.random() ** 1.6 * span))
        chain = s.carried_chain(post, s.terms(post, first, until=today), carrier(forced), actor)
        current = chain[-1]
        if len(chain) > 1 and rng.random() < 0.08:
            s.past_suspension(post, chain[0], actor)
        if state == PostStatus.SUSPENDED:
            begin = max(current["start_on"], today - timedelta(days=rng.randrange(1, 120)))
            reason = rng.choice(SUSPENSIONS)
            s.suspensions.append(
                {
                    "agreement_id": current["id"],
                    "start_on": begin,
                    "end_on": None,
                    "reason": reason,
                    "created_at": s.at(begin),
                }
            )
            s.event(
                post,
                "suspend",
                PostStatus.ACTIVE,
                PostStatus.SUSPENDED,
                begin,
                actor=actor,
                effective=begin,
                note=reason,
                sponsor=post["sponsor_id"],
            )
        elif (current["end_on"] - today).days <= 30:
            renewal = "none" if forced and counts[state] == 1 else rng.choice(("none", "none", "draft", "signed"))
            if forced and counts[state] == 2:
                renewal = "draft"
            if renewal != "none":
                start = current["end_on"] + timedelta(days=1)
                signed = today - timedelta(days=rng.randrange(0, 10)) if renewal == "signed" else None
                s.agreement(
                    post,
                    start,
                    default_end(start, term),
                    AgreementStatus(renewal),
                    signed_on=signed,
                    previous=current,
                    amount=current["monthly_amount_fen"],
                )
        cursor[member[0]] = post["created_at"].date()

    # ended posts: earlier in the same members' lives, or for members without a post today
    pool = list(eligible)
    rng.shuffle(pool)
    ended = 0
    historic_forced = 3
    while ended < ended_target and pool:
        member = pool[ended % len(pool)]
        latest = cursor.get(member[0], today) - timedelta(days=rng.randrange(20, 300))
        kind = rng.choices(("natural", "terminated", "cancelled"), (75, 17, 8))[0]
        actor = staff[member[3][:9]]
        term = rng.choice((12,) * 18 + (6, 24))
        amount = rng.choice((30_000, 40_000, 50_000, 50_000, 60_000))
        n_terms = rng.choice((1, 1, 2, 2, 3, 4, 6))
        first = add_months(latest + timedelta(days=1), -term * n_terms)
        while first < SCHEME_START and n_terms > 1:
            n_terms -= 1
            first = add_months(latest + timedelta(days=1), -term * n_terms)
        if first - timedelta(days=130) < SCHEME_START or latest < SCHEME_START:
            pool.remove(member)  # no room left in this member's history
            continue
        post = s.post(member, PostStatus.ENDED, now, actor, amount, term)
        if kind == "cancelled":
            created = latest - timedelta(days=rng.randrange(30, 300))
            post["created_at"] = post["updated_at"] = s.events[-1]["at"] = s.at(created)
            before = PostStatus.DRAFT
            if rng.random() < 0.7:
                s.publish(post, created + timedelta(days=rng.randrange(1, 10)), actor)
                before = PostStatus.OPEN
            post["ended_on"] = latest
            s.event(post, "cancel", before, PostStatus.ENDED, latest, actor=actor, note=rng.choice(CANCELLATIONS))
        else:
            forced = historic_forced > 0
            historic_forced -= 1
            sponsor = (0, sponsors[0]["id"]) if forced else (k := rng.choice(historic), sponsors[k]["id"])
            chain = s.carried_chain(post, s.terms(post, first, count=n_terms), sponsor, actor)
            last = chain[-1]
            if kind == "terminated":
                days = (last["end_on"] - last["start_on"]).days
                last["terminated_on"] = last["start_on"] + timedelta(days=rng.randrange(min(30, days), days + 1))
                last["termination_reason"] = rng.choice(TERMINATIONS)
            if rng.random() < 0.06:
                s.past_suspension(post, chain[0], actor)
            last_day = last["terminated_on"] or last["end_on"]
            post["ended_on"] = last_day
            s.event(
                post,
                "end",
                PostStatus.ACTIVE,
                PostStatus.ENDED,
                last_day + timedelta(days=1),
                effective=last_day,
                note=last["number"],
                sponsor=post["sponsor_id"],
            )
        post["updated_at"] = s.events[-1]["at"]
        cursor[member[0]] = post["created_at"].date()
        ended += 1

    carried: dict[int, list[int]] = {}
    for p in s.posts:
        if p["status"] in ("claimed", "active", "suspended"):
            carried.setdefault(p["sponsor_id"], []).append(p["monthly_amount_fen"])
    # sponsors joined before their first claim; the union decided within days
    for k, row in enumerate(sponsors):
        status = row["status"]
        if status == "pending":
            joined = today - timedelta(days=rng.randrange(0, 45))
        elif status == "rejected":
            joined = today - timedelta(days=rng.randrange(30, 700))
        else:
            joined = today - timedelta(days=rng.randrange(60, (today - SCHEME_START).days))
            if k in s.first_claim:
                joined = min(joined, s.first_claim[k] - timedelta(days=rng.randrange(3, 60)))
        row["created_at"] = s.at(joined)
        if status != "pending":
            row["decided_at"] = s.at(min(joined + timedelta(days=rng.randrange(1, 10)), today))
            row["decided_by_id"] = admin_id
        if status == "suspended":
            row["decided_at"] = s.at(today - timedelta(days=rng.randrange(1, 90)))
        amounts = carried.get(row["id"], [])
        row["pledge_posts"] = max(row["pledge_posts"], len(amounts))
        row["pledge_budget_fen"] = -(-max(row["pledge_budget_fen"], sum(amounts)) // 10_000) * 10_000

    for table, rows in (
        (Sponsor.__table__, sponsors),
        (sponsor_areas, links),
        (Post.__table__, s.posts),
        (PostEvent.__table__, s.events),
        (Agreement.__table__, s.agreements),
        (Suspension.__table__, s.suspensions),
    ):
        # Core executemany: one statement per table (the ORM's bulk path would insert row by row here)
        for i in range(0, len(rows), 5000):
            db.session.execute(insert(table), rows[i : i + 5000])
    fill_signed_parties()  # each signed agreement names its parties as signed

    logins = []
    for k in range(min(5, len(sponsors))):
        logins.append((f"sponsor{k + 1:02d}", sponsors[k]["id"], f"sponsor {sponsors[k]['name']} (approved)"))
    logins.append(("sponsor_pending", sponsors[5]["id"], f"sponsor {sponsors[5]['name']} (awaiting approval)"))
    for username, sponsor_id, _ in logins:
        if not db.session.scalar(select(User.id).where(User.username == username)):
            create_user(None, username, DEMO_PASSWORD, Role.SPONSOR, display_name="", sponsor_id=sponsor_id)
    return [(u, DEMO_PASSWORD, what) for u, _, what in logins]


def sync_sequences() -> None:
    """PostgreSQL: move the id sequences past rows inserted with explicit ids (SQLite needs nothing)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in ("families", "members", "incomes", "sponsors", "posts", "post_events", "agreements", "suspensions"):
        db.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table}), 1), (SELECT MAX(id) FROM {table}) IS NOT NULL)"
            )
        )
