"""Three-party agreements (帮扶协议: 甲方 sponsor, 乙方 member, 丙方 union), their scans and suspensions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from assist.db_types import UTCDateTime, loaded_repr, utcnow
from assist.enums import AgreementStatus, enum_type
from assist.extensions import db
from assist.families.models import Family, Member
from assist.posts.models import Post
from assist.sponsors.models import Sponsor

_IN_FORCE_SQL = "status IN ('draft', 'signed', 'active')"


class Agreement(db.Model):
    __tablename__ = "agreements"
    __table_args__ = (
        CheckConstraint("end_on >= start_on", name="dates_in_order"),
        CheckConstraint("monthly_amount_fen > 0", name="amount_positive"),
        Index("ix_agreements_sponsor_status", "sponsor_id", "status"),
        Index("ix_agreements_status_dates", "status", "start_on", "end_on"),
        # one agreement per post and start date: a renewal is the next term, never a second copy of this one
        Index(
            "uq_agreements_post_start",
            "post_id",
            "start_on",
            unique=True,
            sqlite_where=text(_IN_FORCE_SQL),
            postgresql_where=text(_IN_FORCE_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: printed on the agreement, e.g. XG-2026-000123
    number: Mapped[str] = mapped_column(String(24), unique=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    sponsor_id: Mapped[int] = mapped_column(ForeignKey("sponsors.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"), index=True)
    status: Mapped[AgreementStatus] = mapped_column(enum_type(AgreementStatus), default=AgreementStatus.DRAFT)
    start_on: Mapped[date] = mapped_column()
    end_on: Mapped[date] = mapped_column()
    monthly_amount_fen: Mapped[int] = mapped_column()
    duties: Mapped[str] = mapped_column(Text, default="")
    hours_per_month: Mapped[int] = mapped_column(default=20)
    #: the previous term, when this agreement renews one
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id"))
    #: entered from a paper agreement signed before the system (original dates kept)
    from_paper: Mapped[bool] = mapped_column(default=False)
    signed_on: Mapped[date | None] = mapped_column()
    #: the parties exactly as signed (甲方 name and credit code, 乙方 the member, 丙方 the union); None until signed,
    #: then the PDF, pages and API show these and never the sponsor's, member's or union's later names
    party_a_name: Mapped[str | None] = mapped_column(String(100))
    party_a_credit_code: Mapped[str | None] = mapped_column(String(18))
    party_b_name: Mapped[str | None] = mapped_column(String(40))
    party_c_name: Mapped[str | None] = mapped_column(String(60))
    #: early termination: the last day and why
    terminated_on: Mapped[date | None] = mapped_column()
    termination_reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    post: Mapped[Post] = relationship()
    sponsor: Mapped[Sponsor] = relationship()
    member: Mapped[Member] = relationship()
    family: Mapped[Family] = relationship()
    previous: Mapped[Agreement | None] = relationship(remote_side=[id])
    scan: Mapped[AgreementScan | None] = relationship(back_populates="agreement", uselist=False)
    suspensions: Mapped[list[Suspension]] = relationship(back_populates="agreement", order_by="Suspension.start_on")

    @property
    def last_day(self) -> date:
        """The last day the agreement runs: the termination date when terminated early, else the end date."""
        return self.terminated_on or self.end_on

    def __repr__(self) -> str:
        return loaded_repr(self, "number", "status")


class AgreementScan(db.Model):
    """The signed paper, scanned (PDF, JPEG or PNG), kept with the agreement."""

    __tablename__ = "agreement_scans"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), unique=True)
    filename: Mapped[str] = mapped_column(String(120))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    agreement: Mapped[Agreement] = relationship(back_populates="scan")


class Suspension(db.Model):
    """A period the post is suspended (暂停): no stipend accrues from ``start_on`` up to ``end_on`` (open while None)."""

    __tablename__ = "suspensions"
    __table_args__ = (CheckConstraint("end_on IS NULL OR end_on >= start_on", name="dates_in_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    start_on: Mapped[date] = mapped_column()
    #: the last day of the suspension; None while it lasts
    end_on: Mapped[date | None] = mapped_column()
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agreement: Mapped[Agreement] = relationship(back_populates="suspensions")
