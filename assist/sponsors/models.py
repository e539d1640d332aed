"""Sponsors (爱心单位): companies that claim virtual posts and pay their stipends."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assist.areas.models import Area
from assist.db_types import UTCDateTime, loaded_repr, utcnow
from assist.enums import SponsorChangeStatus, SponsorStatus, enum_type
from assist.extensions import db

sponsor_areas = Table(
    "sponsor_areas",
    db.metadata,
    Column("sponsor_id", ForeignKey("sponsors.id", ondelete="CASCADE"), primary_key=True),
    Column("area_id", ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True),
)


class Sponsor(db.Model):
    __tablename__ = "sponsors"
    __table_args__ = (
        CheckConstraint("pledge_posts >= 0", name="pledge_posts_not_negative"),
        CheckConstraint("pledge_budget_fen >= 0", name="pledge_budget_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    #: 统一社会信用代码, 18 characters, GB 32100 checksum
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    contact_name: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(120), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[SponsorStatus] = mapped_column(enum_type(SponsorStatus), default=SponsorStatus.PENDING, index=True)
    #: the pledge: how many posts and how much a month in total the sponsor intends to carry
    pledge_posts: Mapped[int] = mapped_column(default=1)
    pledge_budget_fen: Mapped[int] = mapped_column(default=0)
    #: why the union rejected or suspended the registration
    status_reason: Mapped[str] = mapped_column(String(200), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    #: preferred areas (意向区域): the market ranks posts there first
    areas: Mapped[list[Area]] = relationship(secondary=sponsor_areas, order_by=Area.code)

    @property
    def approved(self) -> bool:
        return self.status == SponsorStatus.APPROVED

    def __repr__(self) -> str:
        return loaded_repr(self, "id", "name")


class SponsorChange(db.Model):
    """A change of an approved sponsor's legal identity (name, credit code) its own user asked for: the approved
    identity stays in force until the union approves the change (then it is applied) or rejects it (with a reason)."""

    __tablename__ = "sponsor_changes"
    __table_args__ = (
        # one change at a time awaits the union's decision for a sponsor
        Index(
            "uq_sponsor_changes_pending",
            "sponsor_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sponsor_id: Mapped[int] = mapped_column(ForeignKey("sponsors.id", ondelete="CASCADE"), index=True)
    #: the identity asked for, and the one in force when it was asked
    name: Mapped[str] = mapped_column(String(100))
    credit_code: Mapped[str] = mapped_column(String(18))
    old_name: Mapped[str] = mapped_column(String(100))
    old_credit_code: Mapped[str] = mapped_column(String(18))
    status: Mapped[SponsorChangeStatus] = mapped_column(
        enum_type(SponsorChangeStatus), default=SponsorChangeStatus.PENDING
    )
    #: why the union rejected it
    reason: Mapped[str] = mapped_column(String(200), default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    sponsor: Mapped[Sponsor] = relationship()

    def __repr__(self) -> str:
        return loaded_repr(self, "id", "status")
