"""Monthly stipends (每月帮扶待遇): one record per agreement and month, grouped into the month's batch."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assist.agreements.models import Agreement
from assist.db_types import UTCDateTime, utcnow
from assist.enums import BatchStatus, Colour, StipendKind, StipendStatus, enum_type
from assist.extensions import db


class StipendBatch(db.Model):
    """A month's records: draft → approved by the admin (frozen) → closed when every record is settled."""

    __tablename__ = "stipend_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: YYYY-MM
    month: Mapped[str] = mapped_column(String(7), unique=True)
    status: Mapped[BatchStatus] = mapped_column(enum_type(BatchStatus), default=BatchStatus.DRAFT)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def frozen(self) -> bool:
        return self.status != BatchStatus.DRAFT


def _own_month(context) -> str:
    """A record is paid in its own month's batch unless told otherwise."""
    return context.get_current_parameters()["month"]


class StipendRecord(db.Model):
    """What one agreement earns in one month, prorated by the days it was active (in arrears)."""

    __tablename__ = "stipend_records"
    __table_args__ = (
        # exactly once by construction: one regular record per agreement and month (adjustments are extra rows)
        Index(
            "uq_stipend_records_agreement_month",
            # month first: a month's records are counted from the index alone, and its probes find one row
            "month",
            "agreement_id",
            unique=True,
            sqlite_where=text("kind = 'regular'"),
            postgresql_where=text("kind = 'regular'"),
        ),
        Index("ix_stipend_records_corrects", "corrects_id"),
        # the monthly report sums a batch by sponsor, area and colour from these indexes alone (migrations 0010, 0014)
        Index("ix_stipend_records_paid_in_sponsor", "paid_in", "sponsor_id", "status", "amount_fen"),
        Index("ix_stipend_records_paid_in_area", "paid_in", "area_id", "status", "amount_fen"),
        Index("ix_stipend_records_paid_in_colour", "paid_in", "colour", "status", "amount_fen"),
        Index("ix_stipend_records_sponsor_status", "sponsor_id", "status", "paid_in"),
        # the few supplementary records (补发) a batch pays, found without reading its other records (migration 0014)
        Index(
            "ix_stipend_records_supplementary",
            "paid_in",
            "month",
            sqlite_where=text("paid_in <> month"),
            postgresql_where=text("paid_in <> month"),
        ),
        CheckConstraint("days >= 1 AND days <= days_in_month", name="days_in_range"),
        CheckConstraint("days_in_month BETWEEN 28 AND 31", name="days_in_month_range"),
        CheckConstraint("amount_fen >= 0 AND amount_fen <= monthly_amount_fen", name="amount_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    #: YYYY-MM: the month worked (paid in arrears the month after); for an adjustment, the batch it is paid in
    month: Mapped[str] = mapped_column(String(7))
    #: YYYY-MM: the batch that pays it — its own month, or for a supplementary record (补发: a month whose batch was
    #: already approved when the agreement was signed or entered) the first batch still open after it
    paid_in: Mapped[str] = mapped_column(String(7), default=_own_month)
    #: regular (generated) or adjustment (an explicit correction of an approved record, paid in a later batch)
    kind: Mapped[StipendKind] = mapped_column(enum_type(StipendKind), default=StipendKind.REGULAR)
    #: the record an adjustment corrects, and why
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("stipend_records.id"))
    reason: Mapped[str] = mapped_column(String(200), default="")
    # copied from the agreement and family when generated, so reports and scope need no join and a frozen batch
    # never changes when the agreement is edited later
    sponsor_id: Mapped[int] = mapped_column(ForeignKey("sponsors.id"))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id"))
    colour: Mapped[Colour | None] = mapped_column(enum_type(Colour))
    #: days the agreement was active in the month (suspensions excluded) and the month's length
    days: Mapped[int] = mapped_column()
    days_in_month: Mapped[int] = mapped_column()
    monthly_amount_fen: Mapped[int] = mapped_column()
    #: monthly amount × days / days in month, rounded half up to the fen
    amount_fen: Mapped[int] = mapped_column()
    status: Mapped[StipendStatus] = mapped_column(enum_type(StipendStatus), default=StipendStatus.UNPAID)
    paid_on: Mapped[date | None] = mapped_column()
    #: the bank transfer's reference
    reference: Mapped[str] = mapped_column(String(60), default="")
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: when a bank statement line matched this payment
    reconciled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: why the last attempt failed, and how many attempts there have been (a reissue starts the next one)
    failure_reason: Mapped[str] = mapped_column(String(200), default="")
    attempts: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    agreement: Mapped[Agreement] = relationship()
    corrects: Mapped[StipendRecord | None] = relationship(remote_side=[id])

    @property
    def supplementary(self) -> bool:
        """A late month (补发), paid in a later batch than the month worked."""
        return self.paid_in != self.month

    @property
    def payment_code(self) -> str:
        """The code the sponsor writes in the transfer's memo (摘要), so a bank statement line finds this record."""
        return f"ST{self.id}"
