"""Job runs are recorded; one scheduler holds the lease; one run of a job at a time; the admin's "run now"."""

import time
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from assist.enums import RunStatus
from assist.extensions import db
from assist.schedule import operations as schedule
from assist.schedule.models import JobRun
from jobs import runner
from tests.conftest import csrf_token


def _runs(job_id=None):
    """The recorded runs, read in a transaction that ends at once (SQLite: a reader must not keep the write lock)."""
    db.session.expire_all()
    stmt = select(JobRun).order_by(JobRun.id)
    if job_id:
        stmt = stmt.where(JobRun.job_id == job_id)
    runs = list(db.session.scalars(stmt))
    db.session.expunge_all()
    db.session.rollback()
    return runs


def test_only_one_scheduler_holds_the_lease(app):
    now = datetime.now(UTC)
    assert schedule.hold_lease("host:1", now)
    assert not schedule.hold_lease("host:2", now + timedelta(seconds=10))
    assert schedule.hold_lease("host:1", now + timedelta(seconds=20))  # renewing
    # the holder stops renewing: once the lease lapses the standby takes over, and the old holder is out
    lapsed = now + timedelta(seconds=20 + schedule.LEASE_SECONDS + 1)
    assert schedule.hold_lease("host:2", lapsed)
    assert not schedule.hold_lease("host:1", lapsed + timedelta(seconds=1))


def test_a_run_is_recorded_with_its_counts(app, world):
    db.session.commit()
    db.session.remove()
    counts = runner.run_job(app, "exit-candidates", "jobs.tasks:exit_candidates")
    assert counts == {"flagged": 0}
    (run,) = _runs("exit-candidates")
    assert run.status == RunStatus.SUCCEEDED and run.counts == {"flagged": 0}
    assert run.started_at <= run.finished_at and run.trigger == "schedule"


def _broken(app):
    raise RuntimeError("the bank is closed")


def test_a_failing_job_is_recorded_with_its_error(app):
    assert runner.run_job(app, "broken", "tests.test_job_runs:_broken") is None
    (run,) = _runs("broken")
    assert run.status == RunStatus.FAILED and "the bank is closed" in run.error


def test_one_run_of_a_job_at_a_time(app):
    first = schedule.start_run("exit-candidates")
    assert first is not None
    assert schedule.start_run("exit-candidates") is None
    schedule.finish_run(first.id, {"flagged": 0})
    assert schedule.start_run("exit-candidates") is not None


def test_a_scheduler_without_the_lease_runs_nothing(app, world):
    from assist.schedule.operations import runner_name

    db.session.commit()
    assert schedule.hold_lease("elsewhere:1")  # another live scheduler
    db.session.remove()
    runner._scheduled("exit-candidates", "jobs.tasks:exit_candidates", app)
    assert _runs() == []
    assert runner_name() != "elsewhere:1"


def test_run_now_from_the_admin_page_is_picked_up_by_the_scheduler(app, client, auth, world):
    auth.login("admin")
    page = client.get("/admin/jobs")
    assert page.status_code == 200 and "stipend-generation" in page.get_data(as_text=True)
    token = csrf_token(client, "/admin/jobs")
    assert client.post("/admin/jobs/exit-candidates/run", data={"csrf_token": token}).status_code == 302
    # already waiting: a message, nothing new
    assert client.post("/admin/jobs/exit-candidates/run", data={"csrf_token": token}).status_code == 302
    assert client.post("/admin/jobs/no-such-job/run", data={"csrf_token": token}).status_code == 404
    (run,) = _runs()
    assert run.status == RunStatus.REQUESTED and run.trigger == "manual"
    db.session.commit()
    db.session.remove()
    runner._requests(app)
    (run,) = _runs()
    assert run.status == RunStatus.SUCCEEDED and run.counts == {"flagged": 0}


def test_the_real_scheduler_records_a_run(app, world):
    db.session.commit()
    db.session.remove()
    scheduler = runner.build_scheduler(app, BackgroundScheduler)
    soon = datetime.now(scheduler.timezone) + timedelta(seconds=1)
    for job in scheduler.get_jobs():
        later = soon + timedelta(days=1)
        scheduler.reschedule_job(job.id, trigger="date", run_date=soon if job.id == "stipend-generation" else later)
    scheduler.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(r.status == RunStatus.SUCCEEDED for r in _runs()):
        time.sleep(0.2)
        scheduler.wakeup()  # its timed wait never ends under a faked clock (libfaketime): see test_scheduler.py
    scheduler.shutdown()
    (run,) = _runs("stipend-generation")
    assert run.status == RunStatus.SUCCEEDED and run.counts == {"months": 0, "created": 0, "existing": 0}
