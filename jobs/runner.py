"""Runs the schedule with APScheduler's BlockingScheduler: one instance per job, coalesced, with a misfire grace.

Every run is recorded (job_runs). Only the process holding the scheduler lease runs jobs, so an accidental second
scheduler stands by instead of running everything twice; the admin's "run now" requests are picked up here.
"""

import logging
from importlib import import_module

from flask import current_app

from jobs import JOBS

log = logging.getLogger("assist.scheduler")
HEARTBEAT_SECONDS = 30
POLL_SECONDS = 10


def _resolve(path: str):
    module, name = path.split(":")
    return getattr(import_module(module), name)


def _leader(app) -> bool:
    from assist.schedule.operations import hold_lease, runner_name

    with app.app_context():
        return hold_lease(runner_name())


def run_job(app, job_id: str, func_path: str, trigger: str = "schedule", run_id: int | None = None) -> dict | None:
    """Run one job and record it; None when another run of it is under way (or this process is not the leader)."""
    from assist.extensions import db
    from assist.schedule.operations import finish_run, start_run

    with app.app_context():
        started = start_run(job_id, trigger, run_id)
        if started is None:
            log.info("job %s skipped: already running", job_id)
            return None
        run_id = started.id
        db.session.remove()
    try:
        counts = _resolve(func_path)(app)
    except Exception as error:
        log.exception("job %s failed", job_id)
        with app.app_context():
            finish_run(run_id, error=error)
        return None
    with app.app_context():
        finish_run(run_id, counts if isinstance(counts, dict) else {"result": counts})
    log.info("job %s done: %s", job_id, counts)
    return counts


def _scheduled(job_id: str, func_path: str, app) -> None:
    if not _leader(app):
        log.info("job %s not run here: another scheduler holds the lease", job_id)
        return
    run_job(app, job_id, func_path)


def _heartbeat(app) -> None:
    if not _leader(app):
        log.info("standing by: another scheduler holds the lease")


def _requests(app) -> None:
    """Run what the admin asked for on the jobs page."""
    from assist.schedule.operations import requested_runs

    if not _leader(app):
        return
    funcs = {job.id: job.func for job in JOBS}
    with app.app_context():
        wanted = [(run.id, run.job_id) for run in requested_runs() if run.job_id in funcs]
    for run_id, job_id in wanted:
        run_job(app, job_id, funcs[job_id], "manual", run_id)


def build_scheduler(app, scheduler_cls=None):
    """A scheduler with every job of :data:`jobs.JOBS` added (not started), the lease heartbeat and request poll."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = (scheduler_cls or BlockingScheduler)(
        timezone=app.config["TIMEZONE"],
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    for job in JOBS:
        scheduler.add_job(
            _scheduled, job.trigger, id=job.id, name=job.description, args=(job.id, job.func, app), **job.args
        )
    scheduler.add_job(_heartbeat, "interval", seconds=HEARTBEAT_SECONDS, id="_lease", args=(app,))
    scheduler.add_job(_requests, "interval", seconds=POLL_SECONDS, id="_requests", args=(app,))
    return scheduler


def run_forever() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # APScheduler reports every run of the lease heartbeat and the request poll; our own lines say what each job did
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    app = current_app._get_current_object()
    scheduler = build_scheduler(app)
    log.info("scheduler started with %d jobs: %s", len(JOBS), ", ".join(j.id for j in JOBS))
    if not _leader(app):
        log.warning("another scheduler holds the lease: this one stands by and takes over if that one stops")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        from assist.schedule.operations import release_lease, runner_name

        with app.app_context():
            release_lease(runner_name())
        log.info("scheduler stopped")
