"""Recording job runs and holding the scheduler lease.

An accidental second ``assist scheduler`` does no harm: only the holder of the lease runs jobs (the other waits as a
standby and takes over when the lease lapses), and a partial unique index allows one running run per job whatever
process tries to start it. The admin's "run now" only records a request; the scheduler process picks it up.
"""

import os
import socket
import traceback
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from assist import audit
from assist.bulk import dialect_insert
from assist.db_types import utcnow
from assist.enums import RunStatus
from assist.errors import Conflict, ValidationFailed
from assist.extensions import db
from assist.schedule.models import JobRun, SchedulerLease

LEASE = "scheduler"
LEASE_SECONDS = 90
#: a run still "running" this long after its start is taken to have died with its process
STALE_AFTER = timedelta(hours=6)


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:80]


def hold_lease(holder: str, now: datetime | None = None, seconds: int = LEASE_SECONDS) -> bool:
    """Take or renew the lease for ``holder``; False while another live process holds it. Commits."""
    now = now or utcnow()
    db.session.execute(
        dialect_insert(SchedulerLease)
        .values(name=LEASE, holder=holder, expires_at=now - timedelta(seconds=1), renewed_at=now)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    result = db.session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == LEASE, or_(SchedulerLease.holder == holder, SchedulerLease.expires_at < now))
        .values(holder=holder, expires_at=now + timedelta(seconds=seconds), renewed_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def release_lease(holder: str) -> None:
    db.session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == LEASE, SchedulerLease.holder == holder)
        .values(expires_at=utcnow() - timedelta(seconds=1))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def start_run(job_id: str, trigger: str = "schedule", run_id: int | None = None) -> JobRun | None:
    """Mark a run as started (a fresh one, or the admin's request); None when the job is already running. Commits."""
    now = utcnow()
    _clear_stale(job_id, now)
    try:
        if run_id is None:
            run = JobRun(
                job_id=job_id,
                status=RunStatus.RUNNING,
                trigger=trigger,
                requested_at=now,
                started_at=now,
                runner=runner_name(),
            )
            db.session.add(run)
            db.session.flush()
        else:
            result = db.session.execute(
                update(JobRun)
                .where(JobRun.id == run_id, JobRun.status == RunStatus.REQUESTED)
                .values(status=RunStatus.RUNNING, started_at=now, runner=runner_name())
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                db.session.rollback()
                return None
            run = db.session.get(JobRun, run_id)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    db.session.refresh(run)
    return run


def _clear_stale(job_id: str, now: datetime) -> None:
    db.session.execute(
        update(JobRun)
        .where(JobRun.job_id == job_id, JobRun.status == RunStatus.RUNNING, JobRun.started_at < now - STALE_AFTER)
        .values(status=RunStatus.FAILED, finished_at=now, error="abandoned: its process stopped without finishing")
        .execution_options(synchronize_session=False)
    )


def finish_run(run_id: int, counts: dict | None = None, error: BaseException | None = None) -> None:
    """Record how a run ended (in a fresh transaction: the job's own may have been rolled back). Commits."""
    db.session.rollback()
    values = {"finished_at": utcnow(), "counts": counts or {}}
    if error is None:
        values["status"] = RunStatus.SUCCEEDED
    else:
        values["status"] = RunStatus.FAILED
        values["error"] = "".join(traceback.format_exception(error))[-4000:]
    db.session.execute(update(JobRun).where(JobRun.id == run_id).values(**values))
    db.session.commit()


def request_run(actor, job_id: str, known: set[str]) -> JobRun:
    """The admin asks for a job to run now; the scheduler process runs it within a few seconds."""
    if job_id not in known:
        raise ValidationFailed(str(_l("No such job.")), {"job": str(_l("No such job."))})
    pending = db.session.scalar(
        select(JobRun.id).where(JobRun.job_id == job_id, JobRun.status.in_([RunStatus.REQUESTED, RunStatus.RUNNING]))
    )
    if pending:
        raise Conflict(str(_l("This job is already waiting to run or running.")))
    run = JobRun(job_id=job_id, status=RunStatus.REQUESTED, trigger="manual", requested_by_id=actor.id)
    db.session.add(run)
    db.session.flush()
    audit.record(actor, "run_now", "job", job_id, summary=job_id)
    return run


def requested_runs() -> list[JobRun]:
    return list(db.session.scalars(select(JobRun).where(JobRun.status == RunStatus.REQUESTED).order_by(JobRun.id)))


def last_runs(job_ids: list[str]) -> dict[str, JobRun]:
    """The latest run of each job."""
    latest = {}
    for job_id in job_ids:
        run = db.session.scalar(
            select(JobRun)
            .where(JobRun.job_id == job_id)
            .order_by(JobRun.requested_at.desc(), JobRun.id.desc())
            .limit(1)
        )
        if run:
            latest[job_id] = run
    return latest
