"""The area tree: city → district/town → community."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assist.db_types import loaded_repr
from assist.extensions import db


class Area(db.Model):
    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: administrative code, e.g. 330482 (平湖市), 330482001 (当湖街道)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    #: materialised path of ids, "/1/4/17/", so a subtree is one prefix match
    path: Mapped[str] = mapped_column(String(255), index=True, default="/")
    depth: Mapped[int] = mapped_column(default=0)

    parent: Mapped[Area | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Area]] = relationship(back_populates="parent", order_by="Area.code")

    def __repr__(self) -> str:
        return loaded_repr(self, "code", "name")
