"""State-machine property tests: hypothesis drives the real post and agreement operations against the real database in
any order, with any arguments, moving the clock — and no sequence reaches an illegal state.

The world (areas, staff, families, three sponsors) is built once per test; each generated sequence runs inside a
SAVEPOINT on fresh posts and is rolled back afterwards, so examples are independent and fast.

After every step: every rule of tests/posts/invariants.py holds (statuses, sponsors and claims, one agreement in force
for an active post, one live post per member, the history replays along the transition table), an ended post stays
ended, and an operation that refused raised a DomainError and left every row as it was.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from assist.agreements import operations as agreements
from assist.agreements.models import Agreement, AgreementScan, Suspension
from assist.audit.models import AuditEntry
from assist.auth.models import User
from assist.db_types import local_today
from assist.enums import PostStatus
from assist.errors import DomainError
from assist.extensions import db
from assist.families.operations import add_member, record_consent, update_member
from assist.posts import operations as posts
from assist.posts.models import Offer, Post, PostEvent
from tests import factories
from tests.posts.invariants import violations

REASONS = st.sampled_from(["乙方身体好转", "乙方身体好转", "乙方身体好转", "", "  ", "x" * 201])
OFFSETS = st.integers(min_value=-60, max_value=60)
PICK = st.integers(min_value=0, max_value=3)
#: action → how often it is drawn (progress is likelier than undoing) and the arguments it draws
WEIGHTS = {
    "create": 2,
    "publish": 3,
    "unpublish": 1,
    "cancel_post": 1,
    "claim": 4,
    "withdraw": 1,
    "release": 1,
    "expire": 1,
    "draft_agreement": 4,
    "sign": 4,
    "cancel_agreement": 1,
    "terminate": 2,
    "renew": 2,
    "suspend": 2,
    "resume": 2,
    "days_pass": 3,
}
ACTIONS = st.sampled_from([action for action, weight in WEIGHTS.items() for _ in range(weight)])
ARGS = {
    "create": {"which": st.sampled_from([0, 1]), "amount": st.sampled_from([50_000, 50_000, 5_000, 300_001])},
    "publish": {"pick": PICK},
    "unpublish": {"pick": PICK},
    "cancel_post": {"pick": PICK, "reason": REASONS},
    "claim": {"pick": PICK, "who": st.sampled_from(["sponsor", "sponsor", "sponsor_b", "sponsor_p", "cw_a"])},
    "withdraw": {"pick": PICK, "who": st.sampled_from(["sponsor", "sponsor_b", "cw_a"])},
    "release": {"pick": PICK, "reason": REASONS},
    "expire": {},
    "draft_agreement": {
        "pick": PICK,
        "start": OFFSETS,
        "length": st.one_of(st.none(), st.none(), st.integers(min_value=-5, max_value=400)),
    },
    "sign": {"pick": PICK, "signed": st.integers(min_value=-20, max_value=2)},
    "cancel_agreement": {"pick": PICK},
    "terminate": {"pick": PICK, "end": OFFSETS, "reason": REASONS},
    "renew": {"pick": PICK, "amount": st.sampled_from([None, None, 60_000, 1])},
    "suspend": {"pick": PICK, "start": OFFSETS, "reason": REASONS},
    "resume": {"pick": PICK, "resume": OFFSETS},
    "days_pass": {"days": st.sampled_from([1, 7, 15, 30, 100, 400])},
}
#: the states the generated sequences reached (the test checks they went deep enough to mean something)
REACHED: set = set()


@pytest.fixture
def setting(world):
    """Two eligible members in two families, two approved sponsors and a pending one, each with a user."""
    family_a, family_b = world.family_a, world.family_b
    spouse = next(m for m in family_a.members if m.relation.value != "self")
    update_member(world.cw_a, spouse, {"work_ability": "partial"})
    add_member(world.cw_b, family_b, factories.member(name="王丽", work_ability="none"))
    record_consent(world.cw_b, family_b, date(2026, 2, 1), "帮扶所需信息")
    org = factories.sponsor("平湖爱心科技有限公司", username="sponsor_a", admin=world.admin)
    factories.sponsor("嘉兴善行实业有限公司", username="sponsor_b", admin=world.admin)
    factories.sponsor("待审核商贸有限公司", username="sponsor_p", approved=False)
    world.sponsor.sponsor_id = org.id
    db.session.commit()
    member_b = next(m for m in family_b.members if m.name == "王丽")
    users = {u.username: u for u in db.session.scalars(select(User))}
    return world, [spouse.id, member_b.id], users


def _snapshot() -> tuple:
    """Every row an operation on posts could touch, and the length of the audit log."""
    tables = (Post, PostEvent, Agreement, AgreementScan, Suspension, Offer)
    rows = tuple(tuple(db.session.execute(select(t.__table__).order_by(t.__table__.c.id)).all()) for t in tables)
    return rows, db.session.scalar(select(func.count(AuditEntry.id)))


def _machine(world, member_ids, users):
    cw = {world.family_a.area_id: world.cw_a}

    class Posts(RuleBasedStateMachine):
        @initialize(start=st.sampled_from(["none", "draft", "open", "claimed", "drafted", "signed", "active"]))
        def begin(self, start):
            """A savepoint, and a first post already some way along (so short sequences still reach deep states)."""
            self.savepoint = db.session.begin_nested()
            self.today = local_today()
            self.post_ids: list[int] = []
            self.ended: set[int] = set()
            self.refused = 0
            steps = ["draft", "open", "claimed", "drafted", "signed", "active"]
            reached = steps.index(start) + 1 if start != "none" else 0
            if reached >= 1:
                self.create(0, 50_000)
            post = self.post(0)
            if reached >= 2:
                posts.publish_post(world.cw_a, post)
            if reached >= 3:
                posts.claim_post(users["sponsor"], post, now=self.now)
            if reached >= 4:
                start_on = self.today + timedelta(days=0 if start == "active" else 10)
                agreement = agreements.create_agreement(world.cw_a, post, {"start_on": start_on})
            if reached >= 5:
                agreements.sign_agreement(world.cw_a, agreement, self.today, today=self.today)

        def teardown(self):
            if getattr(self, "savepoint", None) is not None and self.savepoint.is_active:
                self.savepoint.rollback()
            db.session.expire_all()

        # helpers ------------------------------------------------------------------------------------------------------
        @property
        def now(self) -> datetime:
            return datetime(self.today.year, self.today.month, self.today.day, 4, tzinfo=UTC)

        def attempt(self, operation):
            """Run one operation: it succeeds, or refuses with a DomainError and changes nothing."""
            before = _snapshot()
            try:
                operation()
            except DomainError:
                assert _snapshot() == before, "a refused operation changed the database"
                self.refused += 1

        def post(self, pick: int) -> Post | None:
            return db.session.get(Post, self.post_ids[pick % len(self.post_ids)]) if self.post_ids else None

        def agreement(self, pick: int) -> Agreement | None:
            found = list(
                db.session.scalars(select(Agreement).where(Agreement.post_id.in_(self.post_ids)).order_by(Agreement.id))
            )
            return found[pick % len(found)] if found else None

        def staff(self, post: Post):
            return cw.get(post.family.area_id, world.cw_b)

        # actions: each draws its own arguments -------------------------------------------------------------------
        @rule(data=st.data())
        def step(self, data):
            """One action, drawn with weights that let sequences reach deep states (active, suspended, renewed)."""
            action = data.draw(ACTIONS, label="action")
            getattr(self, action)(**{name: data.draw(strategy, label=name) for name, strategy in ARGS[action].items()})

        def create(self, which, amount):
            from assist.families.models import Member

            member = db.session.get(Member, member_ids[which])
            actor = world.cw_a if which == 0 else world.cw_b

            def go():
                post = posts.create_post(actor, member, {"title": "社区电话巡访员", "monthly_amount_fen": amount})
                self.post_ids.append(post.id)

            self.attempt(go)

        def publish(self, pick):
            if post := self.post(pick):
                self.attempt(lambda: posts.publish_post(self.staff(post), post))

        def unpublish(self, pick):
            if post := self.post(pick):
                self.attempt(lambda: posts.unpublish_post(self.staff(post), post))

        def cancel_post(self, pick, reason):
            if post := self.post(pick):
                self.attempt(lambda: posts.cancel_post(self.staff(post), post, reason))

        def claim(self, pick, who):
            if post := self.post(pick):
                self.attempt(lambda: posts.claim_post(users[who], post, now=self.now))

        def withdraw(self, pick, who):
            if post := self.post(pick):
                self.attempt(lambda: posts.withdraw_claim(users[who], post))

        def release(self, pick, reason):
            if post := self.post(pick):
                self.attempt(lambda: posts.release_claim(self.staff(post), post, reason))

        def expire(self):
            self.attempt(lambda: posts.expire_claims(now=self.now))

        def draft_agreement(self, pick, start, length):
            if post := self.post(pick):
                start_on = self.today + timedelta(days=start)
                data = {"start_on": start_on}
                if length is not None:
                    data["end_on"] = start_on + timedelta(days=length)
                self.attempt(lambda: agreements.create_agreement(self.staff(post), post, data))

        def sign(self, pick, signed):
            if agreement := self.agreement(pick):
                signed_on = self.today + timedelta(days=signed)
                self.attempt(lambda: agreements.sign_agreement(world.cw_a, agreement, signed_on, today=self.today))

        def cancel_agreement(self, pick):
            if agreement := self.agreement(pick):
                self.attempt(lambda: agreements.cancel_agreement(world.cw_a, agreement))

        def terminate(self, pick, end, reason):
            if agreement := self.agreement(pick):
                end_on = self.today + timedelta(days=end)
                self.attempt(
                    lambda: agreements.terminate_agreement(world.cw_a, agreement, end_on, reason, today=self.today)
                )

        def renew(self, pick, amount):
            if agreement := self.agreement(pick):
                data = {} if amount is None else {"monthly_amount_fen": amount}
                self.attempt(lambda: agreements.renew_agreement(world.cw_a, agreement, data))

        def suspend(self, pick, start, reason):
            if post := self.post(pick):
                start_on = self.today + timedelta(days=start)
                self.attempt(lambda: agreements.suspend_post(world.cw_a, post, start_on, reason, today=self.today))

        def resume(self, pick, resume):
            if post := self.post(pick):
                self.attempt(lambda: agreements.resume_post(world.cw_a, post, self.today + timedelta(days=resume)))

        def days_pass(self, days):
            """The clock moves on; the daily jobs run (claim expiry, agreement start and end dates)."""
            self.today += timedelta(days=days)
            posts.expire_claims(now=self.now)
            agreements.advance(self.today)

        # what must hold after every step ------------------------------------------------------------------------------
        @invariant()
        def rules_hold(self):
            if not getattr(self, "post_ids", None):
                return
            assert violations(self.today, self.post_ids) == []
            statuses = dict(db.session.execute(select(Post.id, Post.status).where(Post.id.in_(self.post_ids))).all())
            assert not [i for i in self.ended if statuses[i] != PostStatus.ENDED], "an ended post came back"
            self.ended |= {i for i, s in statuses.items() if s == PostStatus.ENDED}
            REACHED.update(statuses.values())
            REACHED.update(
                f"agreement {s.value}"
                for s in db.session.scalars(select(Agreement.status).where(Agreement.post_id.in_(self.post_ids)))
            )

    return Posts


def test_no_sequence_of_actions_reaches_an_illegal_state(setting):
    world, member_ids, users = setting
    machine = _machine(world, member_ids, users)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            database=None,
            # the same sequences every run: with fresh random ones the depth asserted below was missed now and then
            derandomize=True,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
    # the sequences went deep enough to mean something (the first post starts in a drawn state, up to active)
    assert {PostStatus.CLAIMED, PostStatus.ACTIVE, PostStatus.ENDED, "agreement signed"} <= REACHED, REACHED


def test_terminating_an_agreement_voids_its_signed_renewal(setting):
    """Found by the machine: a renewal signed before its predecessor was terminated stayed signed on an ended post, and
    later started an agreement for a post that had ended."""
    world, member_ids, users = setting
    from assist.families.models import Member

    today = local_today()
    post = posts.create_post(world.cw_a, db.session.get(Member, member_ids[0]), {"title": "手工编织"})
    posts.publish_post(world.cw_a, post)
    posts.claim_post(users["sponsor"], post)
    first = agreements.create_agreement(world.cw_a, post, {"start_on": today})
    agreements.sign_agreement(world.cw_a, first, today, today=today)
    renewal = agreements.renew_agreement(world.cw_a, first)
    agreements.sign_agreement(world.cw_a, renewal, today, today=today)
    agreements.terminate_agreement(world.cw_a, first, today + timedelta(days=5), "乙方迁出本市", today=today)
    assert renewal.status.value == "cancelled"
    later = first.end_on + timedelta(days=10)
    agreements.advance(later)
    assert post.status == PostStatus.ENDED and renewal.status.value == "cancelled"
    assert violations(later, [post.id]) == []


def test_a_suspension_carries_over_into_the_renewal(setting):
    """Found by the machine: a post suspended when its agreement ended and the renewal took over stayed suspended with
    no open suspension, so it could never be resumed."""
    world, member_ids, users = setting
    from assist.families.models import Member

    today = local_today()
    post = posts.create_post(world.cw_a, db.session.get(Member, member_ids[0]), {"title": "手工编织"})
    posts.publish_post(world.cw_a, post)
    posts.claim_post(users["sponsor"], post)
    first = agreements.create_agreement(world.cw_a, post, {"start_on": today})
    agreements.sign_agreement(world.cw_a, first, today, today=today)
    renewal = agreements.renew_agreement(world.cw_a, first)
    agreements.sign_agreement(world.cw_a, renewal, today, today=today)
    agreements.suspend_post(world.cw_a, post, today + timedelta(days=3), "乙方住院治疗", today=today)
    later = renewal.start_on + timedelta(days=2)
    agreements.advance(later)
    assert post.status == PostStatus.SUSPENDED and renewal.status.value == "active"
    assert violations(later, [post.id]) == []
    agreements.resume_post(world.cw_a, post, later)
    assert post.status == PostStatus.ACTIVE
    assert [(s.start_on, s.end_on) for s in first.suspensions + renewal.suspensions] == [
        (today + timedelta(days=3), first.end_on),
        (renewal.start_on, later - timedelta(days=1)),
    ]
