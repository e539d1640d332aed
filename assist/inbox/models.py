"""Reminders and notices that reach people in the app (and by e-mail when SMTP is configured)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from assist.db_types import UTCDateTime, utcnow
from assist.extensions import db


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        # a reminder reaches each person once per subject and occasion, however often the job runs
        UniqueConstraint("user_id", "key", name="uq_notifications_user_key"),
        Index("ix_notifications_user_unread", "user_id", "read_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: review_due, agreement_ending, payment_unpaid, ...
    kind: Mapped[str] = mapped_column(String(30))
    #: what and when it is about, e.g. "review_due:family:12:2026-11-30"
    key: Mapped[str] = mapped_column(String(120))
    #: the figures the message is written from, in the reader's language when shown
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    #: a path inside the app
    link: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
