"""Runs the schedule with APScheduler's BlockingScheduler: one instance per job, coalesced, with a misfire grace."""

import logging
from importlib import import_module

from flask import current_app

from jobs import JOBS

log = logging.getLogger("assist.scheduler")


def _resolve(path: str):
    module, name = path.split(":")
    return getattr(import_module(module), name)


def _run(job_id: str, func_path: str, app) -> None:
    try:
        counts = _resolve(func_path)(app)
        log.info("job %s done: %s", job_id, counts)
    except Exception:
        log.exception("job %s failed", job_id)


def build_scheduler(app, scheduler_cls=None):
    """A scheduler with every job of :data:`jobs.JOBS` added (not started)."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = (scheduler_cls or BlockingScheduler)(
        timezone=app.config["TIMEZONE"],
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    for job in JOBS:
        scheduler.add_job(_run, job.trigger, id=job.id, name=job.description, args=(job.id, job.func, app), **job.args)
    return scheduler


def run_forever() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = current_app._get_current_object()
    scheduler = build_scheduler(app)
    log.info("scheduler started with %d jobs: %s", len(JOBS), ", ".join(j.id for j in JOBS))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler stopped")
