"""The schedule is one declarative list, run by APScheduler in its own process; jobs are safe to run twice."""

import time
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from assist.db_types import local_today
from assist.extensions import db
from assist.families import operations as families
from jobs import JOBS, tasks
from jobs.runner import build_scheduler


def test_every_job_in_the_list_is_scheduled_in_shanghai_time(app):
    scheduler = build_scheduler(app, BackgroundScheduler)
    # the list's jobs, beside the lease heartbeat and the poll for the admin's "run now" requests
    assert {j.id for j in scheduler.get_jobs()} == {j.id for j in JOBS} | {"_lease", "_requests"}
    assert str(scheduler.timezone) == "Asia/Shanghai"
    assert scheduler._job_defaults == {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}


def test_the_web_app_never_starts_a_scheduler(app):
    import wsgi  # noqa: F401  (importing the WSGI module must not start anything)

    assert not any(type(v).__name__.endswith("Scheduler") for v in app.extensions.values())


def test_exit_candidates_job_flags_once(app, world):
    from assist.assessments.operations import months_back

    for m in months_back(local_today(), 6):
        families.record_income(world.cw_a, world.family_a, m, 500_000)
    db.session.commit()
    db.session.remove()
    assert tasks.exit_candidates(app) == {"flagged": 1}
    assert tasks.exit_candidates(app) == {"flagged": 0}


def test_a_job_runs_through_the_real_scheduler(app, world, caplog):
    db.session.commit()
    db.session.remove()
    scheduler = build_scheduler(app, BackgroundScheduler)
    soon = datetime.now(scheduler.timezone) + timedelta(seconds=1)
    for job in scheduler.get_jobs():
        # the same job entries, triggered a second from now instead of on their calendar
        scheduler.reschedule_job(
            job.id, trigger="date", run_date=soon if job.id == "database-statistics" else soon + timedelta(days=1)
        )
    with caplog.at_level("INFO", logger="assist.scheduler"):
        scheduler.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "job database-statistics done" not in caplog.text:
            time.sleep(0.1)
            # the scheduler sleeps until its next job on a timed wait; a faked clock (libfaketime) shifts the
            # deadline of such waits out of reach, so nudge it to look at the time again (it runs what is due)
            scheduler.wakeup()
        scheduler.shutdown()
    assert "job database-statistics done: {'ran': " in caplog.text


# posts and agreements (issue 3, demo/CLI/jobs part)


def test_claim_expiry_job_returns_a_lapsed_claim_once(app, world):
    from assist.db_types import utcnow
    from assist.enums import PostStatus
    from assist.posts.models import Post
    from tests import factories

    market = factories.build_market(world)
    post_id = market.claimed_post.id
    db.session.get(Post, post_id).claim_expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    db.session.remove()
    assert tasks.claim_expiry(app) == {"expired": 1}
    assert tasks.claim_expiry(app) == {"expired": 0}
    assert db.session.get(Post, post_id).status == PostStatus.OPEN


def test_agreement_advance_job_starts_and_ends_due_agreements_once(app, world):
    from assist.agreements.models import Agreement
    from assist.agreements.operations import sign_agreement, update_agreement
    from assist.db_types import local_today
    from assist.enums import AgreementStatus, PostStatus
    from assist.posts.models import Post
    from tests import factories

    market = factories.build_market(world)
    today = local_today()
    # signed three days ago for a two-day term that started the day before yesterday: due to start and to end
    update_agreement(
        world.cw_a, market.agreement, {"start_on": today - timedelta(days=2), "end_on": today - timedelta(days=1)}
    )
    sign_agreement(world.cw_a, market.agreement, today - timedelta(days=3), today=today - timedelta(days=3))
    db.session.commit()
    assert market.agreement.status == AgreementStatus.SIGNED
    agreement_id, post_id = market.agreement.id, market.claimed_post.id
    db.session.remove()
    assert tasks.agreement_advance(app) == {"activated": 1, "ended": 1}
    assert tasks.agreement_advance(app) == {"activated": 0, "ended": 0}
    assert db.session.get(Agreement, agreement_id).status == AgreementStatus.ENDED
    post = db.session.get(Post, post_id)
    assert post.status == PostStatus.ENDED and [e.action for e in post.events][-2:] == ["activate", "end"]
