"""Assessments (精准分类) and the colour history (三色动态管理)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assist.auth.models import User
from assist.db_types import UTCDateTime, utcnow
from assist.enums import AssessmentKind, Colour, ProfileType, enum_type
from assist.extensions import db


class Assessment(db.Model):
    __tablename__ = "assessments"
    __table_args__ = (Index("ix_assessments_family_at", "family_id", "assessed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id", ondelete="CASCADE"))
    kind: Mapped[AssessmentKind] = mapped_column(enum_type(AssessmentKind))
    score: Mapped[int] = mapped_column()
    colour: Mapped[Colour] = mapped_column(enum_type(Colour))
    primary_type: Mapped[ProfileType] = mapped_column(enum_type(ProfileType))
    #: every type that applies, primary first
    types: Mapped[list[str]] = mapped_column(JSON)
    #: [{"name", "points", "detail"}], the explanation shown to the caseworker
    factors: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    #: the hard trigger that forced red, if any
    hard_trigger: Mapped[str | None] = mapped_column(String(40))
    #: the figures the score was computed from, and the settings in force
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(500), default="")
    assessed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    assessed_by: Mapped[User | None] = relationship()


class ColourChange(db.Model):
    """One change of a family's colour; history is only ever added to."""

    __tablename__ = "colour_changes"
    __table_args__ = (
        Index("ix_colour_changes_family_at", "family_id", "at"),
        Index("ix_colour_changes_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id", ondelete="CASCADE"))
    from_colour: Mapped[Colour | None] = mapped_column(enum_type(Colour, "from_colour"))
    to_colour: Mapped[Colour] = mapped_column(enum_type(Colour, "to_colour"))
    reason: Mapped[str] = mapped_column(String(255))
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    by: Mapped[User | None] = relationship()
