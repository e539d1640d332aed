"""The `assist` command line."""

import hashlib

from sqlalchemy import func, select, text

from assist.assessments.models import ColourChange
from assist.auth.models import User
from assist.enums import Colour, ProfileType
from assist.extensions import db
from assist.families.models import Family, Income, Member


def test_create_user_reads_the_password_from_stdin(runner, world):
    result = runner.invoke(
        args=["create-user", "cw_new", "--role", "caseworker", "--area", "330482001"],
        input="a long password\nignored\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "cw_new"))
    assert [a.code for a in user.areas] == ["330482001"]
    from assist.auth.operations import check_password

    assert check_password(user, "a long password")


def test_create_user_refuses_bad_input_clearly(runner, world):
    result = runner.invoke(args=["create-user", "cw_x", "--role", "caseworker"], input="a long password\n")
    assert result.exit_code != 0 and "area" in result.output
    result = runner.invoke(args=["create-user", "admin", "--role", "admin"], input="a long password\n")
    assert result.exit_code != 0
    result = runner.invoke(args=["create-user", "short", "--role", "admin"], input="short\n")
    assert result.exit_code != 0 and "password" in result.output


def _fingerprint() -> str:
    rows = db.session.execute(
        text("SELECT f.id, f.head_name, f.area_id, f.colour, f.score, f.primary_type FROM families f ORDER BY f.id")
    ).all()
    incomes = db.session.execute(
        text("SELECT family_id, month, amount_fen FROM incomes ORDER BY family_id, month")
    ).all()
    members = db.session.execute(text("SELECT family_id, name, id_index, birth_year FROM members ORDER BY id")).all()
    return hashlib.sha256(repr((rows, incomes, members)).encode()).hexdigest()


def test_demo_data_is_realistic_and_prints_logins(runner):
    result = runner.invoke(args=["demo-data", "--families", "300", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "admin" in result.output and "cw01" in result.output and "demo-pass-2026" in result.output
    assert db.session.scalar(select(func.count(Family.id))) == 300
    colours = {c for (c,) in db.session.execute(select(Family.colour).distinct())}
    assert colours == set(Colour)
    types = {t for (t,) in db.session.execute(select(Family.primary_type).distinct())}
    assert types == set(ProfileType), types
    assert db.session.scalar(select(func.count(Member.id))) > 300
    assert db.session.scalar(select(func.count(Income.id))) >= 300 * 12
    assert db.session.scalar(select(func.count(ColourChange.id))) > 300  # intake colours plus real changes
    assert db.session.scalar(select(func.count(User.id)).where(User.role == "caseworker")) == 10
    # into a non-empty database it refuses (or, with --if-empty, quietly does nothing)
    assert runner.invoke(args=["demo-data", "--families", "10"]).exit_code != 0
    assert runner.invoke(args=["demo-data", "--if-empty"]).exit_code == 0


def test_demo_data_is_deterministic(database, tmp_path):
    """The same seed into a fresh database gives the same city, twice."""
    import shutil

    from assist import create_app
    from tests.conftest import POSTGRES, _empty_postgres

    prints = []
    for run in range(2):
        if POSTGRES:
            _empty_postgres(database)
            url = database
        else:
            path = tmp_path / f"demo{run}.db"
            shutil.copy(database, path)
            url = f"sqlite:///{path}"
        app = create_app("test", SQLALCHEMY_DATABASE_URI=url)
        with app.app_context():
            assert app.test_cli_runner().invoke(args=["demo-data", "--families", "120", "--seed", "11"]).exit_code == 0
            prints.append(_fingerprint())
            db.session.remove()
            db.engine.dispose()
    assert prints[0] == prints[1]


# posts and agreements (issue 3, demo/CLI/jobs part) ------------------------------------------------------------------


def test_demo_data_has_sponsors_posts_in_every_state_and_years_of_agreements(runner):
    from assist.agreements.models import Agreement, Suspension
    from assist.agreements.operations import agreements_ending
    from assist.db_types import local_today, utcnow
    from assist.enums import AgreementStatus, PostStatus, SponsorStatus
    from assist.posts.models import Post
    from assist.posts.operations import carried
    from assist.sponsors import creditcode
    from assist.sponsors.models import Sponsor
    from tests.posts.invariants import violations

    result = runner.invoke(args=["demo-data", "--families", "300", "--seed", "7"])
    assert result.exit_code == 0, result.output
    for login in ("sponsor01", "sponsor05", "sponsor_pending"):
        assert login in result.output
    sponsors = list(db.session.scalars(select(Sponsor)))
    assert len(sponsors) == round(425 * 300 / 1600)
    assert all(
        creditcode.is_valid(s.credit_code) and s.name.endswith(("公司", "支行", "店", "商会", "超市")) for s in sponsors
    )
    assert len({s.credit_code for s in sponsors}) == len({s.name for s in sponsors}) == len(sponsors)
    by_status = {s.status for s in sponsors}
    assert {SponsorStatus.APPROVED, SponsorStatus.PENDING, SponsorStatus.REJECTED} <= by_status
    assert all(s.status_reason for s in sponsors if s.status == SponsorStatus.REJECTED)
    held = carried()
    assert all(held.get(s.id, (0, 0))[0] <= s.pledge_posts for s in sponsors)
    assert all(held.get(s.id, (0, 0))[1] <= s.pledge_budget_fen for s in sponsors)
    assert not any(s.id in held for s in sponsors if not s.approved)
    # every signed agreement names its parties as signed (issue 10)
    assert not db.session.scalar(
        select(func.count()).where(Agreement.signed_on.is_not(None), Agreement.party_a_name.is_(None))
    )

    posts = dict(db.session.execute(select(Post.status, func.count()).group_by(Post.status)).all())
    assert set(posts) == set(PostStatus), posts
    assert 240 <= sum(posts.values()) <= 320  # about 1,500 ever created at 1,600 families
    agreements = dict(db.session.execute(select(Agreement.status, func.count()).group_by(Agreement.status)).all())
    assert {AgreementStatus.ACTIVE, AgreementStatus.ENDED, AgreementStatus.SIGNED, AgreementStatus.DRAFT} <= set(
        agreements
    )
    first, paper, renewed, terminated = db.session.execute(
        select(
            func.min(Agreement.start_on),
            func.count().filter(Agreement.from_paper),
            func.count().filter(Agreement.previous_id.is_not(None)),
            func.count().filter(Agreement.terminated_on.is_not(None), Agreement.termination_reason != ""),
        )
    ).one()
    assert first.year <= 2017 and paper > 0 and renewed > 0 and terminated > 0
    assert (
        db.session.scalar(select(func.count(Suspension.id)).where(Suspension.end_on.is_(None)))
        == posts[PostStatus.SUSPENDED]
    )
    assert db.session.scalars(agreements_ending(30)).first() is not None
    # a few agreements were entered late: their approved months are paid (补发) in the draft batch of last month
    from assist.stipends.models import StipendBatch, StipendRecord

    late = db.session.execute(
        select(StipendRecord.paid_in, StipendBatch.status, func.count())
        .join(StipendBatch, StipendBatch.month == StipendRecord.paid_in)
        .where(StipendRecord.paid_in != StipendRecord.month)
        .group_by(StipendRecord.paid_in, StipendBatch.status)
    ).all()
    assert len(late) == 1 and late[0][1] == "draft" and late[0][2] >= 2, late

    # every post obeys the rules of the state machine, its history replays, and claims are unexpired
    assert violations(local_today(), now=utcnow()) == []

    # the first sponsor login's portal has content; the pending one is a pending sponsor's user
    sponsor01 = db.session.scalar(select(User).where(User.username == "sponsor01"))
    mine = dict(
        db.session.execute(
            select(Post.status, func.count()).where(Post.sponsor_id == sponsor01.sponsor_id).group_by(Post.status)
        ).all()
    )
    assert {PostStatus.CLAIMED, PostStatus.ACTIVE, PostStatus.SUSPENDED, PostStatus.ENDED} <= set(mine)
    pending = db.session.scalar(select(User).where(User.username == "sponsor_pending"))
    assert db.session.get(Sponsor, pending.sponsor_id).status == SponsorStatus.PENDING

    # rows added afterwards get fresh ids (PostgreSQL sequences moved past the bulk-inserted rows)
    from tests import factories

    org = factories.sponsor("新注册爱心单位有限公司", username="late_sponsor", approved=False)
    assert org.id > max(s.id for s in sponsors)
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    family = factories.family(admin, "330482001001", head_name="晚来户")
    assert family.id > 300


def _expiring_market(world):
    from datetime import timedelta

    from assist.db_types import utcnow
    from assist.posts.models import Post
    from tests import factories

    market = factories.build_market(world)
    post = db.session.get(Post, market.claimed_post.id)
    post.claim_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    return market


def test_posts_expire_claims_returns_lapsed_claims_once(runner, world):
    from assist.enums import AgreementStatus, PostStatus
    from assist.posts.models import Post

    market = _expiring_market(world)
    result = runner.invoke(args=["posts", "expire-claims"])
    assert result.exit_code == 0, result.output
    assert "expired 1" in result.output
    db.session.expire_all()
    assert db.session.get(Post, market.claimed_post.id).status == PostStatus.OPEN
    assert market.agreement.status == AgreementStatus.CANCELLED
    result = runner.invoke(args=["posts", "expire-claims"])
    assert result.exit_code == 0 and "expired 0" in result.output


def test_agreements_advance_starts_and_ends_on_the_given_day(runner, world):
    from datetime import timedelta

    from assist.agreements.operations import sign_agreement, update_agreement
    from assist.db_types import local_today
    from assist.enums import AgreementStatus, PostStatus
    from tests import factories

    market = factories.build_market(world)
    today = local_today()
    start = today + timedelta(days=7)
    update_agreement(world.cw_a, market.agreement, {"start_on": start, "end_on": start + timedelta(days=60)})
    sign_agreement(world.cw_a, market.agreement, today)
    db.session.commit()
    assert market.agreement.status == AgreementStatus.SIGNED

    bad = runner.invoke(args=["agreements", "advance", "--date", "2026-13-01"])
    assert bad.exit_code != 0 and "date" in bad.output.lower()
    assert runner.invoke(args=["agreements", "advance"]).output.strip() == "activated 0, ended 0"
    result = runner.invoke(args=["agreements", "advance", "--date", start.isoformat()])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "activated 1, ended 0"
    db.session.expire_all()
    assert market.agreement.status == AgreementStatus.ACTIVE and market.claimed_post.status == PostStatus.ACTIVE
    assert runner.invoke(args=["agreements", "advance", "--date", start.isoformat()]).output.strip() == (
        "activated 0, ended 0"
    )
    later = (start + timedelta(days=61)).isoformat()
    assert runner.invoke(args=["agreements", "advance", "--date", later]).output.strip() == "activated 0, ended 1"
    db.session.expire_all()
    assert market.claimed_post.status == PostStatus.ENDED
    assert market.claimed_post.ended_on == start + timedelta(days=60)
