"""One file per household (一户一档): the family, its members and its monthly income and expenses."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assist.areas.models import Area
from assist.db_types import UTCDateTime, loaded_repr, utcnow
from assist.enums import (
    ArchiveType,
    Colour,
    FamilyStatus,
    HardshipCategory,
    Health,
    Housing,
    IdentityStatus,
    ProfileType,
    Relation,
    Schooling,
    WorkAbility,
    enum_type,
)
from assist.extensions import db


class Family(db.Model):
    __tablename__ = "families"
    __table_args__ = (
        # the list's common filters and its default sort
        # status sits inside each index: nearly every file is active, so a filter on it alone would walk them all
        Index("ix_families_area_colour_review", "area_id", "colour", "status", "next_review_on", "id"),
        Index("ix_families_colour_review", "colour", "status", "next_review_on", "id"),
        Index("ix_families_status_review", "status", "next_review_on", "id"),
        # prefix search by name: text_pattern_ops lets PostgreSQL answer LIKE 'x%' from the index in any collation
        Index("ix_families_head_name", "head_name", postgresql_ops={"head_name": "text_pattern_ops"}),
        CheckConstraint("debt_fen >= 0", name="debt_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    status: Mapped[FamilyStatus] = mapped_column(enum_type(FamilyStatus), default=FamilyStatus.ACTIVE)
    #: 困难类别
    hardship_category: Mapped[HardshipCategory] = mapped_column(enum_type(HardshipCategory))
    #: 档案类型: 存量, 增量, 返困
    archive_type: Mapped[ArchiveType] = mapped_column(enum_type(ArchiveType), default=ArchiveType.NEW)

    #: the household head (the worker), mirrored from the member whose relation is "self"
    head_name: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(20), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    employer: Mapped[str] = mapped_column(String(100), default="")
    employer_union: Mapped[str] = mapped_column(String(100), default="")
    identity_status: Mapped[IdentityStatus] = mapped_column(enum_type(IdentityStatus), default=IdentityStatus.EMPLOYED)

    # circumstances the assessment reads beside members and incomes
    #: date of a sudden accident or disaster (意外/灾害), if any
    accident_on: Mapped[date | None] = mapped_column()
    accident_note: Mapped[str] = mapped_column(String(200), default="")
    single_parent: Mapped[bool] = mapped_column(default=False)
    debt_fen: Mapped[int] = mapped_column(default=0)
    housing: Mapped[Housing] = mapped_column(enum_type(Housing), default=Housing.ADEQUATE)
    notes: Mapped[str] = mapped_column(Text, default="")

    #: consent to data processing: required before a post is published
    consent_on: Mapped[date | None] = mapped_column()
    consent_scope: Mapped[str] = mapped_column(String(200), default="")

    # the latest assessment, kept here for listing and filtering
    colour: Mapped[Colour | None] = mapped_column(enum_type(Colour))
    score: Mapped[int | None] = mapped_column()
    primary_type: Mapped[ProfileType | None] = mapped_column(enum_type(ProfileType))
    last_assessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_review_on: Mapped[date | None] = mapped_column()

    #: 脱困 flag raised after N months above the line; a caseworker confirms
    exit_flagged_on: Mapped[date | None] = mapped_column()
    exited_on: Mapped[date | None] = mapped_column()

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    area: Mapped[Area] = relationship()
    members: Mapped[list[Member]] = relationship(
        back_populates="family", order_by="Member.id", cascade="all, delete-orphan"
    )
    incomes: Mapped[list[Income]] = relationship(
        back_populates="family", order_by="Income.month.desc()", cascade="all, delete-orphan"
    )

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def has_consent(self) -> bool:
        return self.consent_on is not None

    def __repr__(self) -> str:
        return loaded_repr(self, "id", "head_name")


class Member(db.Model):
    __tablename__ = "members"
    __table_args__ = (
        # one person on at most one current family file
        Index(
            "uq_members_current_person",
            "id_index",
            unique=True,
            sqlite_where=text("is_current"),
            postgresql_where=text("is_current"),
        ),
        CheckConstraint("disability_grade IS NULL OR disability_grade BETWEEN 1 AND 4", name="disability_grade"),
        Index("ix_members_name", "name", postgresql_ops={"name": "text_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id", ondelete="CASCADE"), index=True)
    relation: Mapped[Relation] = mapped_column(enum_type(Relation))
    name: Mapped[str] = mapped_column(String(40))
    #: encrypted ID number (Fernet); never stored in clear
    id_cipher: Mapped[str] = mapped_column(Text)
    #: keyed blind index (HMAC-SHA256) of the normalised ID number
    id_index: Mapped[str] = mapped_column(String(64), index=True)
    #: 330482********123X
    id_masked: Mapped[str] = mapped_column(String(18))
    #: the year of birth, all the rules need (ages); the exact date stays inside the encrypted number, since the
    #: mask plus the birth date is the whole number (the 8 hidden characters are the date)
    birth_year: Mapped[int] = mapped_column()
    male: Mapped[bool] = mapped_column()
    health: Mapped[Health] = mapped_column(enum_type(Health), default=Health.HEALTHY)
    #: disability grade 1 (most severe) to 4
    disability_grade: Mapped[int | None] = mapped_column()
    illness: Mapped[str] = mapped_column(String(100), default="")
    work_ability: Mapped[WorkAbility] = mapped_column(enum_type(WorkAbility), default=WorkAbility.FULL)
    schooling: Mapped[Schooling] = mapped_column(enum_type(Schooling), default=Schooling.NONE)
    #: false once the family file is closed, so the person may be filed again
    is_current: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    family: Mapped[Family] = relationship(back_populates="members")

    def age_on(self, day: date) -> int:
        """The age reached in ``day``'s year (what the birth year tells; the exact date needs the logged reveal)."""
        return day.year - self.birth_year


class Income(db.Model):
    """A month's household income and its medical and education expenses."""

    __tablename__ = "incomes"
    __table_args__ = (
        UniqueConstraint("family_id", "month", name="uq_incomes_family_month"),
        # covering: assessments and the batch review sum a family's year from the index alone
        Index("ix_incomes_family_month_amounts", "family_id", "month", "amount_fen", "medical_fen", "education_fen"),
        CheckConstraint("amount_fen >= 0 AND medical_fen >= 0 AND education_fen >= 0", name="amounts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id", ondelete="CASCADE"))
    #: YYYY-MM
    month: Mapped[str] = mapped_column(String(7))
    amount_fen: Mapped[int] = mapped_column()
    medical_fen: Mapped[int] = mapped_column(default=0)
    education_fen: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    family: Mapped[Family] = relationship(back_populates="incomes")
