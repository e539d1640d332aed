"""The scheduler's own records: each job run, and the lease that lets only one scheduler process work at a time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from assist.db_types import UTCDateTime, utcnow
from assist.enums import RunStatus, enum_type
from assist.extensions import db


class JobRun(db.Model):
    """One run of a scheduled job (or one the admin asked for): when, how it ended, its counts or its error."""

    __tablename__ = "job_runs"
    __table_args__ = (
        # one run of a job at a time, whichever process started it
        Index(
            "uq_job_runs_running",
            "job_id",
            unique=True,
            sqlite_where=text("status = 'running'"),
            postgresql_where=text("status = 'running'"),
        ),
        Index("ix_job_runs_job_started", "job_id", "started_at"),
        Index("ix_job_runs_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[RunStatus] = mapped_column(enum_type(RunStatus))
    #: "schedule" or "manual" (the admin's "run now")
    trigger: Mapped[str] = mapped_column(String(10), default="schedule")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
    #: the scheduler process that ran it (host:pid)
    runner: Mapped[str] = mapped_column(String(80), default="")

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class SchedulerLease(db.Model):
    """Held by the one scheduler process allowed to run jobs; renewed by a heartbeat, taken over when it lapses."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(80))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    renewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
