"""Users, their areas, API tokens and the login-attempt record used for throttling."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Column, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assist.areas.models import Area
from assist.db_types import UTCDateTime, loaded_repr, utcnow
from assist.enums import Role, enum_type
from assist.extensions import db

user_areas = Table(
    "user_areas",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("area_id", ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(60), default="")
    #: where reminders are e-mailed when SMTP is configured (optional)
    email: Mapped[str] = mapped_column(String(120), default="", server_default="")
    #: argon2id hash
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    #: the sponsor (爱心单位) a sponsor user speaks for
    #: added after both tables exist (use_alter): sponsors.decided_by_id points back at users
    sponsor_id: Mapped[int | None] = mapped_column(ForeignKey("sponsors.id", use_alter=True), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: raised by logout, a password change and deactivation; a session carries the value it was opened with
    #: (``get_id``), so raising it ends every session of the user at once, in every process
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")

    areas: Mapped[list[Area]] = relationship(secondary=user_areas, order_by=Area.code)

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def name(self) -> str:
        return self.display_name or self.username

    def get_id(self) -> str:
        """What a session keeps: the user and the generation it was opened in (``id.generation``)."""
        return f"{self.id}.{self.session_generation}"

    def __repr__(self) -> str:
        return loaded_repr(self, "username", "role")


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: SHA-256 of the token; the token itself is shown once and never stored
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class LoginAttempt(db.Model):
    """One login try, or an anonymous registration told that a user name is taken; recent failures throttle the
    name from that address, and the address (kept in the database, so all processes agree)."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60))
    #: the client's address (an IPv6 address by its /64 network)
    address: Mapped[str] = mapped_column(String(64), default="")
    #: "login", or "register": a registration answered that the user name is taken
    kind: Mapped[str] = mapped_column(String(10), default="login", server_default="login")
    success: Mapped[bool] = mapped_column(default=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
