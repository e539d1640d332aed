"""Virtual posts (虚拟岗位), their history of transitions, and the admin's matching proposals with their offers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assist.areas.models import Area
from assist.db_types import UTCDateTime, loaded_repr, utcnow
from assist.enums import MatchRunStatus, OfferStatus, PostStatus, enum_type
from assist.extensions import db
from assist.families.models import Family, Member
from assist.sponsors.models import Sponsor

#: states in which a post still occupies its member (one such post per person)
LIVE_STATES = (PostStatus.DRAFT, PostStatus.OPEN, PostStatus.CLAIMED, PostStatus.ACTIVE, PostStatus.SUSPENDED)
_LIVE_SQL = "status IN ('draft', 'open', 'claimed', 'active', 'suspended')"


class Post(db.Model):
    __tablename__ = "posts"
    __table_args__ = (
        # at most one live post per person
        Index(
            "uq_posts_live_member",
            "member_id",
            unique=True,
            sqlite_where=text(_LIVE_SQL),
            postgresql_where=text(_LIVE_SQL),
        ),
        # the market: open posts by colour rank and waiting time
        Index("ix_posts_market", "status", "colour_rank", "published_at", "id"),
        Index("ix_posts_area_status", "area_id", "status"),
        Index("ix_posts_sponsor_status", "sponsor_id", "status"),
        Index("ix_posts_claim_expiry", "status", "claim_expires_at"),
        CheckConstraint("monthly_amount_fen > 0", name="amount_positive"),
        CheckConstraint("hours_per_month BETWEEN 1 AND 200", name="hours_range"),
        CheckConstraint("term_months BETWEEN 1 AND 60", name="term_range"),
        CheckConstraint("colour_rank BETWEEN 0 AND 3", name="colour_rank_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    #: the family's area, kept here so scope and the market filter without a join
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    status: Mapped[PostStatus] = mapped_column(enum_type(PostStatus), default=PostStatus.DRAFT)
    title: Mapped[str] = mapped_column(String(100))
    #: duties within the member's capability (e.g. community watch by phone, handicraft at home)
    duties: Mapped[str] = mapped_column(Text, default="")
    hours_per_month: Mapped[int] = mapped_column(default=20)
    monthly_amount_fen: Mapped[int] = mapped_column()
    term_months: Mapped[int] = mapped_column(default=12)
    #: 0 red, 1 yellow, 2 green, 3 not assessed: the family's colour when published, refreshed on reassessment
    colour_rank: Mapped[int] = mapped_column(default=3)
    #: when the post first reached the market; waiting time counts from here
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the sponsor holding the claim or carrying the post
    sponsor_id: Mapped[int | None] = mapped_column(ForeignKey("sponsors.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: an unsigned claim returns to the market after this moment
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_on: Mapped[date | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    family: Mapped[Family] = relationship()
    member: Mapped[Member] = relationship()
    area: Mapped[Area] = relationship()
    sponsor: Mapped[Sponsor | None] = relationship()
    events: Mapped[list[PostEvent]] = relationship(back_populates="post", order_by="PostEvent.id")

    def __repr__(self) -> str:
        return loaded_repr(self, "id", "status")


class PostEvent(db.Model):
    """One transition of a post: who moved it from which state to which, when, and why."""

    __tablename__ = "post_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[PostStatus | None] = mapped_column(enum_type(PostStatus, "post_event_from"))
    to_status: Mapped[PostStatus] = mapped_column(enum_type(PostStatus, "post_event_to"))
    #: the sponsor concerned (claimant, withdrawer), if any
    sponsor_id: Mapped[int | None] = mapped_column(ForeignKey("sponsors.id"))
    #: the date the change takes effect (suspension and end dates may differ from the moment of recording)
    effective_on: Mapped[date | None] = mapped_column()
    note: Mapped[str] = mapped_column(String(200), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(60), default="system")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    post: Mapped[Post] = relationship(back_populates="events")


class MatchRun(db.Model):
    """A bulk matching proposal (批量匹配方案) the admin reviews before sending its offers."""

    __tablename__ = "match_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[MatchRunStatus] = mapped_column(enum_type(MatchRunStatus), default=MatchRunStatus.PROPOSED)
    posts_considered: Mapped[int] = mapped_column(default=0)
    sponsors_considered: Mapped[int] = mapped_column(default=0)
    #: total priority of the proposal, and of the greedy baseline computed beside it
    objective: Mapped[int] = mapped_column(default=0)
    greedy_objective: Mapped[int] = mapped_column(default=0)
    solver: Mapped[str] = mapped_column(String(40), default="")
    seconds: Mapped[float] = mapped_column(default=0.0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    offers: Mapped[list[Offer]] = relationship(back_populates="run", order_by="Offer.id")


class Offer(db.Model):
    """One proposed pairing of an open post with a sponsor; once sent the sponsor accepts (→ claimed) or declines."""

    __tablename__ = "offers"
    __table_args__ = (
        Index("ix_offers_sponsor_status", "sponsor_id", "status"),
        Index("ix_offers_post_status", "post_id", "status"),
        # one sent offer per post at a time: two proposals sent at the same moment cannot both offer a post
        Index(
            "uq_offers_post_sent",
            "post_id",
            unique=True,
            sqlite_where=text("status = 'sent'"),
            postgresql_where=text("status = 'sent'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("match_runs.id", ondelete="CASCADE"), index=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    sponsor_id: Mapped[int] = mapped_column(ForeignKey("sponsors.id"))
    status: Mapped[OfferStatus] = mapped_column(enum_type(OfferStatus), default=OfferStatus.PROPOSED)
    #: the pairing's priority and its parts, so the proposal explains itself
    points: Mapped[int] = mapped_column(default=0)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    #: a sent offer lapses unanswered after this moment
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decline_reason: Mapped[str] = mapped_column(String(200), default="")

    run: Mapped[MatchRun] = relationship(back_populates="offers")
    post: Mapped[Post] = relationship()
    sponsor: Mapped[Sponsor] = relationship()
