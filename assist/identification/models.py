"""Imports of worker data, the people they brought in, their rejected rows, saved column mappings, and candidates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assist import crypto
from assist.areas.models import Area
from assist.auth.models import User
from assist.db_types import UTCDateTime, utcnow
from assist.enums import (
    CandidateStatus,
    Health,
    IdentityStatus,
    ImportSource,
    ImportStatus,
    WorkAbility,
    enum_type,
)
from assist.extensions import db

#: candidate states still in the queue
OPEN_STATUSES = (CandidateStatus.NEW, CandidateStatus.ASSIGNED, CandidateStatus.VERIFIED)
_OPEN_SQL = text("status IN ('new', 'assigned', 'verified')")


class WorkerImport(db.Model):
    """One uploaded file of worker data and the progress of its import (run in the background, resumable)."""

    __tablename__ = "worker_imports"
    __table_args__ = (
        #: the same file imported twice changes nothing: it is found by its hash
        UniqueConstraint("sha256", name="uq_worker_imports_sha256"),
        Index("ix_worker_imports_status", "status", "heartbeat_at"),
        Index("ix_worker_imports_created_by", "created_by_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[ImportSource] = mapped_column(enum_type(ImportSource))
    filename: Mapped[str] = mapped_column(String(255))
    #: the original file, kept with the record in a table of its own: the progress written after each batch then
    #: does not rewrite it (SQLite rewrites a whole row, a file of 10 MB included, on every UPDATE); encrypted, and
    #: deleted some days after the import finished (IMPORT_ORIGINAL_DAYS)
    file: Mapped[WorkerImportFile | None] = relationship(cascade="all, delete-orphan", passive_deletes=True)
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    #: csv or xlsx, and the text encoding a CSV was read in
    file_format: Mapped[str] = mapped_column(String(8))
    encoding: Mapped[str] = mapped_column(String(20), default="")
    #: the file's header row, and the column index of each field read from it
    headers: Mapped[list[str]] = mapped_column(JSON)
    mapping: Mapped[dict[str, int] | None] = mapped_column(JSON)
    status: Mapped[ImportStatus] = mapped_column(enum_type(ImportStatus))
    #: data rows in the file (estimated until the import is done)
    total_rows: Mapped[int] = mapped_column(default=0)
    #: the last spreadsheet row whose outcome is committed; a resumed import starts after it
    processed_row: Mapped[int] = mapped_column(default=1)
    rows: Mapped[int] = mapped_column(default=0)
    imported: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    candidates: Mapped[int] = mapped_column(default=0)
    #: people found on an existing family file
    linked: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    #: the process working on it (host:pid) and its last sign of life: a stale lease is taken over
    owner: Mapped[str] = mapped_column(String(80), default="")
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User | None] = relationship()

    @property
    def progress(self) -> int:
        """Percent done, for the progress bar."""
        if self.status == ImportStatus.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(99, self.rows * 100 // self.total_rows)

    @property
    def finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)

    @property
    def content(self) -> bytes | None:
        """The original file as uploaded (decrypted); None once the retention period deleted it."""
        return crypto.decrypt_bytes(self.file.content) if self.file is not None else None

    @content.setter
    def content(self, value: bytes) -> None:
        self.file = WorkerImportFile(content=crypto.encrypt_bytes(value))


class WorkerImportFile(db.Model):
    """The uploaded file of an import, as it was, encrypted (Fernet under ASSIST_FIELD_KEY): it holds full ID numbers."""

    __tablename__ = "worker_import_files"

    import_id: Mapped[int] = mapped_column(ForeignKey("worker_imports.id", ondelete="CASCADE"), primary_key=True)
    #: deferred: whether an import still has its file is asked without reading the file
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)


class ImportedPerson(db.Model):
    """One good row of an import: the person's normalised data, screening result and any family file found."""

    __tablename__ = "imported_persons"
    __table_args__ = (
        #: a row is stored once, however often a killed import is resumed
        UniqueConstraint("import_id", "row_number", name="uq_imported_persons_import_row"),
        Index("ix_imported_persons_id_index", "id_index"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("worker_imports.id", ondelete="CASCADE"))
    #: the row in the spreadsheet (the header is row 1)
    row_number: Mapped[int] = mapped_column()
    name: Mapped[str] = mapped_column(String(40))
    #: encrypted ID number (Fernet) and its keyed blind index; never stored in clear
    id_cipher: Mapped[str] = mapped_column(Text)
    id_index: Mapped[str] = mapped_column(String(64))
    id_masked: Mapped[str] = mapped_column(String(18))
    #: the year only: the mask plus the birth date would be the whole number
    birth_year: Mapped[int] = mapped_column()
    male: Mapped[bool] = mapped_column()
    phone: Mapped[str] = mapped_column(String(20), default="")
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    employer: Mapped[str] = mapped_column(String(100), default="")
    household_size: Mapped[int] = mapped_column(default=1)
    #: household income per month; None when the file does not say
    income_fen: Mapped[int | None] = mapped_column()
    #: medical spending per year
    medical_fen: Mapped[int | None] = mapped_column()
    health: Mapped[Health] = mapped_column(enum_type(Health))
    work_ability: Mapped[WorkAbility] = mapped_column(enum_type(WorkAbility))
    identity_status: Mapped[IdentityStatus | None] = mapped_column(enum_type(IdentityStatus))
    dependants: Mapped[int | None] = mapped_column()
    accident_on: Mapped[date | None] = mapped_column()
    #: the row's own 数据来源 column
    row_source: Mapped[str] = mapped_column(String(40), default="")
    score: Mapped[int] = mapped_column()
    #: [[rule, points], ...]: why the score is what it is
    reasons: Mapped[list[list[Any]]] = mapped_column(JSON)
    #: the current member (and family file) with the same ID number, found by the blind index
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    family_id: Mapped[int | None] = mapped_column(ForeignKey("families.id", ondelete="SET NULL"))
    #: the row differs from the linked file (a reviewed change is offered)
    differs: Mapped[bool] = mapped_column(default=False)

    area: Mapped[Area] = relationship()
    worker_import: Mapped[WorkerImport] = relationship()


class ImportReject(db.Model):
    """A row that could not be imported: where, and why, with the row as it was."""

    __tablename__ = "import_rejects"
    __table_args__ = (UniqueConstraint("import_id", "row_number", name="uq_import_rejects_import_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("worker_imports.id", ondelete="CASCADE"))
    row_number: Mapped[int] = mapped_column()
    #: [{"column", "field", "code", "params"}]: codes, so each reader sees the reasons in their own language
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    #: the row's cells as text (each cut to the cell limit), as encrypted JSON: a rejected row may hold a full ID
    #: number; emptied with the import's original file when its retention period ends
    raw_cipher: Mapped[str] = mapped_column(Text, default="")

    @property
    def raw(self) -> list[str]:
        """The row's cells (decrypted); empty once deleted."""
        return orjson.loads(crypto.decrypt(self.raw_cipher)) if self.raw_cipher else []


class ColumnMapping(db.Model):
    """The column mapping last used for a source, offered again for its next file."""

    __tablename__ = "column_mappings"

    source: Mapped[ImportSource] = mapped_column(enum_type(ImportSource), primary_key=True)
    #: field → header text
    mapping: Mapped[dict[str, str]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Candidate(db.Model):
    """A person screening flagged (or whose data differs from their file), worked by a caseworker of the area."""

    __tablename__ = "candidates"
    __table_args__ = (
        #: one open queue entry per person; a later import refreshes it
        Index("uq_candidates_open_person", "id_index", unique=True, sqlite_where=_OPEN_SQL, postgresql_where=_OPEN_SQL),
        Index("ix_candidates_area_status_score", "area_id", "status", "score", "id"),
        Index("ix_candidates_status_score", "status", "score", "id"),
        # the foreign key's own index: removing imported rows checks each against the candidates that point at it
        Index("ix_candidates_person_id", "person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the latest imported row for this person
    person_id: Mapped[int] = mapped_column(ForeignKey("imported_persons.id"))
    id_index: Mapped[str] = mapped_column(String(64))
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    source: Mapped[ImportSource] = mapped_column(enum_type(ImportSource))
    score: Mapped[int] = mapped_column()
    status: Mapped[CandidateStatus] = mapped_column(enum_type(CandidateStatus), default=CandidateStatus.NEW)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: the verification visit (核实走访)
    visited_on: Mapped[date | None] = mapped_column()
    visit_notes: Mapped[str] = mapped_column(Text, default="")
    dismissal_reason: Mapped[str] = mapped_column(String(200), default="")
    #: the family file the person is on: found at import, or created from the candidate
    family_id: Mapped[int | None] = mapped_column(ForeignKey("families.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    person: Mapped[ImportedPerson] = relationship()
    area: Mapped[Area] = relationship()
    assigned_to: Mapped[User | None] = relationship()

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES
