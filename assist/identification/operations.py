"""Operations of active identification (主动识别): importing worker files, screening them, and the candidate queue.

Imports run in batches, each committed with the import's progress, so a killed import resumes after its last
committed row and never writes a row twice. Everything else follows the house rule: operations change objects, flush
and write the audit log; the caller commits once.
"""

import hashlib
import logging
import os
import re
import socket
from datetime import date, timedelta
from types import SimpleNamespace

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from assist import audit, crypto
from assist.areas.models import Area
from assist.auth.models import User
from assist.bulk import insert_values
from assist.db_types import local_today, utcnow
from assist.enums import CandidateStatus, ImportSource, ImportStatus, Relation, Role
from assist.errors import Conflict, NotFound, ValidationFailed
from assist.extensions import db
from assist.families.models import Family, Member
from assist.identification import checking, columns, reader
from assist.identification.models import (
    OPEN_STATUSES,
    Candidate,
    ColumnMapping,
    ImportedPerson,
    ImportReject,
    WorkerImport,
    WorkerImportFile,
)
from assist.permissions import area_ids_in_scope, area_in_scope, scope_filter
from assist.settings.operations import get_settings

log = logging.getLogger("assist.identification")

#: rows per committed batch: progress moves in these steps, and a killed import repeats at most one of them
BATCH = 2_000
#: a large file's batches are a tenth of it, up to this: each commit of SQLite rewrites the index pages its rows
#: touched, and larger batches touch each page fewer times (100,000 rows are written in two thirds of the time)
BATCH_MAX = 10_000
#: an import whose worker has given no sign of life for this long is taken over
LEASE = timedelta(seconds=90)
_CONTROL = re.compile(r"[\x00-\x1f\x7f/\\]")


# --- who sees what --------------------------------------------------------------------------------------------------


def import_query(user):
    """The imports a user may see: an admin all of them, a caseworker their own."""
    stmt = select(WorkerImport)
    if user.role != Role.ADMIN:
        stmt = stmt.where(WorkerImport.created_by_id == user.id)
    return stmt


def can_see_import(user, imp: WorkerImport) -> bool:
    return user is None or user.role == Role.ADMIN or imp.created_by_id == user.id


# --- uploading ------------------------------------------------------------------------------------------------------


def _clean_filename(filename: str | None) -> str:
    name = _CONTROL.sub("", (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip()
    return name[:255] or "upload"


def _source(value) -> ImportSource:
    try:
        return ImportSource(value)
    except ValueError:
        raise ValidationFailed(
            str(_l("Please correct the marked fields.")), {"source": str(_l("Choose one of the listed values."))}
        ) from None


def resolve_mapping(headers: list[str], source: ImportSource) -> dict[str, int]:
    """The columns the standard template's headers name, completed by the mapping saved for this source."""
    mapping = columns.standard_mapping(headers)
    if columns.is_complete(mapping):
        return mapping
    saved = db.session.get(ColumnMapping, source)
    if saved is not None:
        # what the user mapped last time wins over header look-alikes
        mapping = {**mapping, **columns.mapping_from_saved(headers, saved.mapping)}
    return mapping


def create_import(actor, content: bytes, filename: str | None, source) -> tuple[WorkerImport, bool]:
    """Record an uploaded file (kept whole) and queue it, or ask for a column mapping first.

    Returns (import, created). The same file uploaded again returns the first import and changes nothing.
    """
    source = _source(source)
    digest = hashlib.sha256(content or b"").hexdigest()
    existing = db.session.scalar(select(WorkerImport).where(WorkerImport.sha256 == digest))
    if existing is not None:
        return _already_imported(actor, existing), False
    sheet = reader.inspect(content)
    mapping = resolve_mapping(sheet.headers, source)
    complete = columns.is_complete(mapping)
    imp = WorkerImport(
        source=source,
        filename=_clean_filename(filename),
        content=content,
        size=len(content),
        sha256=digest,
        file_format=sheet.file_format,
        encoding=sheet.encoding,
        headers=sheet.headers,
        mapping=mapping if complete else None,
        status=ImportStatus.QUEUED if complete else ImportStatus.MAPPING,
        total_rows=sheet.estimated_rows,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(imp)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        # someone uploaded the same file a moment ago
        existing = db.session.scalar(select(WorkerImport).where(WorkerImport.sha256 == digest))
        return _already_imported(actor, existing), False
    audit.record(
        actor,
        "create",
        "worker_import",
        imp.id,
        after={"filename": imp.filename, "source": source.value, "size": imp.size, "sha256": digest},
        summary=imp.filename,
    )
    return imp, True


def _already_imported(actor, existing: WorkerImport) -> WorkerImport:
    if not can_see_import(actor, existing):
        raise Conflict(
            str(_l("This file was already imported by someone else (import No. %(id)s).", id=existing.id)),
            {"file": str(_l("This file was already imported by someone else (import No. %(id)s).", id=existing.id))},
        )
    return existing


def set_mapping(actor, imp: WorkerImport, chosen: dict[str, int | None]) -> WorkerImport:
    """Map the file's columns to the fields (column indexes), remember it for the source, and queue the import."""
    if imp.status != ImportStatus.MAPPING:
        raise Conflict(str(_l("This import's columns are already mapped.")))
    errors: dict[str, str] = {}
    mapping: dict[str, int] = {}
    used: dict[int, str] = {}
    for field, index in chosen.items():
        if field not in columns.BY_FIELD or index is None:
            continue
        if not isinstance(index, int) or not 0 <= index < len(imp.headers):
            errors[field] = str(_l("Choose one of the file's columns."))
        elif index in used:
            errors[field] = str(_l("This column is already chosen for another field."))
        else:
            used[index] = field
            mapping[field] = index
    for field in columns.REQUIRED:
        if field not in mapping and field not in errors:
            errors[field] = str(_l("This field is required."))
    if errors:
        raise ValidationFailed(str(_l("Please correct the marked fields.")), errors)
    imp.mapping = mapping
    imp.status = ImportStatus.QUEUED
    saved = db.session.get(ColumnMapping, imp.source)
    remembered = {field: imp.headers[index] for field, index in mapping.items()}
    if saved is None:
        db.session.add(ColumnMapping(source=imp.source, mapping=remembered, updated_by_id=getattr(actor, "id", None)))
    else:
        saved.mapping = remembered
        saved.updated_by_id = getattr(actor, "id", None)
    db.session.flush()
    audit.record(actor, "map_columns", "worker_import", imp.id, after=remembered, summary=imp.filename)
    return imp


# --- running an import ----------------------------------------------------------------------------------------------


class LostLease(RuntimeError):
    """Another worker has taken the import over; this one stops without writing."""


def worker_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


def _owner_is_dead(owner: str) -> bool:
    """True when ``owner`` was a process on this host that no longer runs (a killed import can be resumed at once)."""
    host, _sep, pid = owner.rpartition(":")
    if host != socket.gethostname()[:60] or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def claim(import_id: int, owner: str) -> bool:
    """Take the import to work on it (commits): a queued one, or a running one whose worker is gone."""
    row = db.session.execute(
        select(WorkerImport.status, WorkerImport.owner, WorkerImport.heartbeat_at).where(WorkerImport.id == import_id)
    ).one_or_none()
    db.session.rollback()
    if row is None:
        return False
    status, previous, heartbeat = row
    now = utcnow()
    if status == ImportStatus.RUNNING:
        stale = heartbeat is None or heartbeat < now - LEASE
        if not (stale or previous == owner or _owner_is_dead(previous)):
            return False
    elif status != ImportStatus.QUEUED:
        return False
    # compare and set: of two workers claiming at once, one changes the row
    result = db.session.execute(
        update(WorkerImport)
        .where(WorkerImport.id == import_id, WorkerImport.status == status, WorkerImport.owner == previous)
        .values(
            status=ImportStatus.RUNNING,
            owner=owner,
            heartbeat_at=now,
            started_at=func.coalesce(WorkerImport.started_at, now),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def pending_imports() -> list[int]:
    """Imports waiting for a worker: queued, or running with a worker that is gone."""
    stale = utcnow() - LEASE
    rows = db.session.execute(
        select(WorkerImport.id, WorkerImport.status, WorkerImport.owner, WorkerImport.heartbeat_at)
        .where(WorkerImport.status.in_([ImportStatus.QUEUED, ImportStatus.RUNNING]))
        .order_by(WorkerImport.id)
    ).all()
    return [
        r.id
        for r in rows
        if r.status == ImportStatus.QUEUED
        or r.heartbeat_at is None
        or r.heartbeat_at < stale
        or _owner_is_dead(r.owner)
    ]


def run_import(import_id: int, owner: str | None = None, batch: int | None = None) -> WorkerImport | None:
    """Claim the import and work it to the end (committing each batch); None when another worker has it."""
    from flask import current_app

    owner = owner or worker_name()
    if not claim(import_id, owner):
        return None
    imp = db.session.get(WorkerImport, import_id)
    batch = batch or current_app.config.get("IMPORT_BATCH") or batch_size(imp.total_rows)
    try:
        _work(imp, owner, batch)
    except LostLease:
        db.session.rollback()
        return None
    except reader.FileRefused as exc:
        db.session.rollback()
        _finish(import_id, owner, ImportStatus.FAILED, exc.message)
    except Exception:
        db.session.rollback()
        log.exception("import %s failed", import_id)
        _finish(
            import_id,
            owner,
            ImportStatus.FAILED,
            str(_l("The import stopped on an internal error; it has been logged.")),
        )
    db.session.expire_all()
    return db.session.get(WorkerImport, import_id)


def batch_size(rows: int) -> int:
    """Rows per batch for a file of about ``rows`` rows: progress in steps of a tenth, from BATCH to BATCH_MAX."""
    return min(BATCH_MAX, max(BATCH, rows // 10))


def _finish(import_id: int, owner: str, status: ImportStatus, error: str = "", **counts) -> None:
    db.session.execute(
        update(WorkerImport)
        .where(WorkerImport.id == import_id, WorkerImport.owner == owner)
        .values(status=status, error=error[:2000], finished_at=utcnow(), heartbeat_at=utcnow(), **counts)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _context(imp: WorkerImport) -> columns.RowContext:
    from flask import current_app

    settings = get_settings()
    actor = db.session.get(User, imp.created_by_id) if imp.created_by_id else None
    scope = None if actor is None or actor.role == Role.ADMIN else area_ids_in_scope(actor)
    seen = {}
    if imp.processed_row > 1:
        # resuming: the ID numbers already imported from this file still count as seen
        seen = dict(
            db.session.execute(
                select(ImportedPerson.id_index, ImportedPerson.row_number).where(ImportedPerson.import_id == imp.id)
            ).all()
        )
    return columns.RowContext(
        headers=imp.headers,
        mapping={k: int(v) for k, v in (imp.mapping or {}).items()},
        areas=dict(db.session.execute(select(Area.code, Area.id)).all()),
        scope=scope,
        rules=settings["screening"],
        line_fen=settings["min_living_line_fen"],
        today=local_today(),
        seen=seen,
        # the rows are checked in a thread without the app context
        field_key=current_app.config["ASSIST_FIELD_KEY"],
        index_key=current_app.config["ASSIST_INDEX_KEY"],
        dates_as_text=db.session.get_bind().dialect.name == "sqlite",
    )


def _work(imp: WorkerImport, owner: str, batch: int) -> None:
    from flask import current_app

    ctx = _context(imp)
    source = (imp.content, imp.file_format, imp.encoding, imp.processed_row)
    imp_id, source_name, after = imp.id, imp.source.value, imp.processed_row
    rows_left = imp.total_rows - (after - 1)
    db.session.commit()  # no transaction held open while the file is read
    last = after
    processes = current_app.config.get("IMPORT_PROCESSES", True)
    with checking.read_ahead(source, ctx, batch, imp_id, rows_left, processes) as checked:
        for last, persons, rejects in checked:
            _write_batch(imp_id, source_name, owner, ctx, persons, rejects, last)
    if last == after or checked.full_last:
        # a last sign of life when no short batch closed the file (a lost lease is noticed here at the latest)
        _write_batch(imp_id, source_name, owner, ctx, [], [], last)
    done = db.session.get(WorkerImport, imp_id)
    db.session.refresh(done)
    _finish(imp_id, owner, ImportStatus.DONE, total_rows=done.rows)


#: the tables as a batch writes them: JSON already encoded, enums as their values (no per-value type processing)
_meta = MetaData()
_person_types = {
    "import_id": Integer,
    "row_number": Integer,
    "name": String,
    "id_cipher": Text,
    "id_index": String,
    "id_masked": String,
    "birth_year": Integer,
    "male": Boolean,
    "phone": String,
    "area_id": Integer,
    "employer": String,
    "household_size": Integer,
    "income_fen": Integer,
    "medical_fen": Integer,
    "health": String,
    "work_ability": String,
    "identity_status": String,
    "dependants": Integer,
    "accident_on": Date,
    "row_source": String,
    "score": Integer,
    "reasons": Text,
    "member_id": Integer,
    "family_id": Integer,
    "differs": Boolean,
}
_person_rows = Table("imported_persons", _meta, *(Column(k, _person_types[k]) for k in checking.PERSON_KEYS))
#: the same on SQLite, where the checked rows bring their dates as text and the driver binds booleans as 1 and 0
_person_rows_sqlite = Table(
    "imported_persons",
    MetaData(),
    *(
        Column(k, {Date: String, Boolean: Integer}.get(_person_types[k], _person_types[k]))
        for k in checking.PERSON_KEYS
    ),
)
_reject_rows = Table(
    "import_rejects",
    _meta,
    Column("import_id", Integer),
    Column("row_number", Integer),
    Column("problems", Text),
    Column("raw_cipher", Text),
)


def _linked_members(indexes: list[str]) -> dict:
    """Current members with these blind indexes, with what a difference check reads of them and their file."""
    if not indexes:
        return {}
    if db.session.get_bind().dialect.name == "postgresql":
        # one index probe per value, in index order: PostgreSQL would otherwise scan every member for a batch's
        # thousands of values (measured: 10,000 values against 300,000 members, 200 ms scanned, 70 ms probed)
        values = func.unnest(bindparam("among", sorted(indexes), type_=ARRAY(String))).table_valued("i")
        values = values.render_derived(name="wanted")
        found = select(Member).where(Member.id_index == values.c.i, Member.is_current.is_(True)).offset(0)
        found = found.lateral("found")
        member = aliased(Member, found)
        stmt = select(member).select_from(values).join(found, true())
    else:
        member = Member
        stmt = select(Member).where(Member.id_index.in_(indexes), Member.is_current.is_(True))
    rows = db.session.execute(
        stmt.with_only_columns(
            member.id_index,
            member.id,
            member.family_id,
            member.relation,
            member.name,
            member.health,
            member.work_ability,
            Family.phone,
            Family.employer,
        ).join(Family, Family.id == member.family_id)
    ).all()
    return {r.id_index: r for r in rows}


#: what an import row may change on a family file: (field, where it lives, applies to the household head only)
CHANGEABLE = (
    ("name", "member", False),
    ("health", "member", False),
    ("work_ability", "member", False),
    ("phone", "family", True),
    ("employer", "family", True),
)


def _link(person: tuple, member) -> tuple:
    """A checked person's tuple with the member (and family file) found for them, and whether the file differs."""
    if member is None:
        return person
    differs = bool(differences(dict(zip(checking.PERSON_KEYS, person, strict=True)), member))
    return (*person[: -len(checking.LINK_KEYS)], member.id, member.family_id, differs)


def differences(new: dict, member) -> dict[str, list]:
    """Field → [on file, in the import] where the imported row says something else than the family file."""
    out = {}
    for field, _where, head_only in CHANGEABLE:
        if head_only and member.relation != Relation.SELF:
            continue
        old = getattr(member, field)
        old = old.value if hasattr(old, "value") else old
        value = new.get(field)
        value = value.value if hasattr(value, "value") else value
        if value not in (None, "") and value != old:
            out[field] = [old, value]
    return out


def _write_batch(imp_id: int, source: str, owner: str, ctx, persons: list[tuple], rejects: list[tuple], last: int):
    """Write one batch and the import's progress in one transaction (a killed import repeats at most this batch).

    ``persons`` and ``rejects`` come from checking.checked_batches: tuples of PERSON_KEYS and REJECT_KEYS.
    """
    threshold = ctx.rules["threshold"]
    connection = db.session.connection()
    at = checking.ID_INDEX
    linked = _linked_members([p[at] for p in persons])
    linked_count = 0
    if linked:
        persons = [_link(p, linked.get(p[at])) for p in persons]
        linked_count = sum(p[at] in linked for p in persons)
    score = checking.SCORE
    flagged = sum(p[score] >= threshold for p in persons)
    table = _person_rows_sqlite if ctx.dates_as_text else _person_rows
    insert_values(connection, table, checking.PERSON_KEYS, persons)
    insert_values(connection, _reject_rows, checking.REJECT_KEYS, rejects)
    if persons:
        row = checking.ROW
        _queue_candidates(imp_id, source, persons[0][row], persons[-1][row], threshold)
    result = db.session.execute(
        update(WorkerImport)
        .where(WorkerImport.id == imp_id, WorkerImport.owner == owner, WorkerImport.status == ImportStatus.RUNNING)
        .values(
            processed_row=last,
            rows=WorkerImport.rows + len(persons) + len(rejects),
            imported=WorkerImport.imported + len(persons),
            rejected=WorkerImport.rejected + len(rejects),
            candidates=WorkerImport.candidates + flagged,
            linked=WorkerImport.linked + linked_count,
            heartbeat_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise LostLease(imp_id)
    db.session.commit()


_CANDIDATE_COLUMNS = (
    "person_id",
    "id_index",
    "area_id",
    "source",
    "score",
    "status",
    "family_id",
    "visit_notes",
    "dismissal_reason",
    "created_at",
    "updated_at",
)


def _queue_candidates(imp_id: int, source: str, lo: int, hi: int, threshold: int) -> None:
    """Put the batch's flagged people in the queue: a person already waiting there is refreshed with the newer row,
    everyone else gets a new entry (one UPDATE … FROM and one INSERT … SELECT over the batch's rows, in the database).
    """
    p, c = ImportedPerson.__table__, Candidate.__table__
    flagged = (p.c.import_id == imp_id, p.c.row_number.between(lo, hi), (p.c.score >= threshold) | p.c.differs)
    # the partial unique index's own condition, word for word, so the planners use that index for id_index
    waiting = text("candidates.status IN ('new', 'assigned', 'verified')")
    now = utcnow()
    db.session.execute(
        update(c)
        .where(c.c.id_index == p.c.id_index, waiting, *flagged)
        .values(person_id=p.c.id, score=p.c.score, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    new = select(
        p.c.id,
        p.c.id_index,
        p.c.area_id,
        literal(source, c.c.source.type),
        p.c.score,
        literal(CandidateStatus.NEW.value, c.c.status.type),
        p.c.family_id,
        literal("", c.c.visit_notes.type),
        literal("", c.c.dismissal_reason.type),
        literal(now, c.c.created_at.type),
        literal(now, c.c.updated_at.type),
    ).where(*flagged, ~exists().where(c.c.id_index == p.c.id_index, waiting))
    db.session.execute(insert(c).from_select(_CANDIDATE_COLUMNS, new.order_by(p.c.row_number)))


# --- the rejects report and the template ----------------------------------------------------------------------------


def neutralise(value) -> str:
    """A cell that a spreadsheet would run as a formula (= + - @ first) made plain text."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def rejects_workbook(imp: WorkerImport) -> bytes:
    """The rejected rows as a spreadsheet: row, column and reason first, then the row as it was, to fix and re-upload."""
    import io

    from flask_babel import gettext as _
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Rejected rows"))
    sheet.append([_("Row"), _("Column"), _("Reason"), *[neutralise(h) for h in imp.headers]])
    rejects = db.session.scalars(
        select(ImportReject).where(ImportReject.import_id == imp.id).order_by(ImportReject.row_number)
    )
    for reject in rejects:
        sheet.append(
            [
                reject.row_number,
                neutralise("、".join(dict.fromkeys(p.get("column") or p.get("field", "") for p in reject.problems))),
                neutralise("；".join(columns.problem_text(p) for p in reject.problems)),
                *[neutralise(v) for v in reject.raw],
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def download_original(actor, imp: WorkerImport) -> bytes:
    """The import's original file, to download: it holds full ID numbers, so every download is in the audit log."""
    content = imp.content
    if content is None:
        raise NotFound(
            str(_l("The original file was deleted %(days)s days after the import finished.", days=original_days()))
        )
    audit.record(actor, "download_original", "worker_import", imp.id, summary=imp.filename)
    return content


def download_rejects(actor, imp: WorkerImport) -> bytes:
    """The rejected rows as a spreadsheet, to download: the rows as they were may hold full ID numbers, so every
    download is in the audit log."""
    audit.record(actor, "download_rejects", "worker_import", imp.id, summary=imp.filename)
    return rejects_workbook(imp)


def original_days() -> int:
    """Days an import's original file (and its rejected rows as they were) is kept after the import finished."""
    from flask import current_app

    return int(current_app.config["IMPORT_ORIGINAL_DAYS"])


def delete_old_originals(now=None) -> int:
    """Delete the original files of imports finished more than IMPORT_ORIGINAL_DAYS ago, and the rejected rows as
    they were (both copies of the file's full ID numbers); the counts, reasons and imported people stay. An upload
    left waiting for its column mapping that long fails and loses its file too. Returns the number of files deleted;
    run twice, the second run finds nothing."""
    now = now or utcnow()
    cutoff = now - timedelta(days=original_days())
    # an upload whose columns were never mapped is not needed either: it ends as failed, saying why
    unmapped = list(
        db.session.scalars(
            select(WorkerImport.id).where(WorkerImport.status == ImportStatus.MAPPING, WorkerImport.created_at < cutoff)
        )
    )
    db.session.execute(
        update(WorkerImport)
        .where(WorkerImport.id.in_(unmapped))
        .values(
            status=ImportStatus.FAILED,
            finished_at=now,
            error=str(
                _l("The columns were not mapped within %(days)s days; the file was deleted.", days=original_days())
            ),
        )
        .execution_options(synchronize_session=False)
    )
    old = select(WorkerImport.id).where((WorkerImport.finished_at < cutoff) | WorkerImport.id.in_(unmapped))
    files = db.session.execute(
        delete(WorkerImportFile).where(WorkerImportFile.import_id.in_(old)).execution_options(synchronize_session=False)
    ).rowcount
    db.session.execute(
        update(ImportReject)
        .where(ImportReject.import_id.in_(old), ImportReject.raw_cipher != "")
        .values(raw_cipher="")
        .execution_options(synchronize_session=False)
    )
    return files


def template_workbook() -> bytes:
    """The standard worker import template: the header row (ID numbers formatted as text) and a sheet of notes."""
    import io

    from flask_babel import gettext as _
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("Workers")
    sheet.append([c.zh for c in columns.COLUMNS])
    for index, column in enumerate(columns.COLUMNS, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.cell(row=1, column=index).font = Font(bold=True)
        sheet.column_dimensions[letter].width = 18 if column.field != "id_number" else 22
        # text, so Excel keeps all 18 characters of an ID number (and leading zeros of codes)
        sheet.column_dimensions[letter].number_format = "@"
    notes = book.create_sheet(_("Notes"))
    notes.append([_("Column"), _("Also accepted"), _("Required"), _("What to enter")])
    hints = {
        "id_number": _("18 characters, entered as text"),
        "area_code": _("the community's area code"),
        "household_size": _("people in the household (default 1)"),
        "monthly_income_yuan": _("household income per month, in yuan"),
        "health": columns.CHOICE_HINTS["health"],
        "work_ability": columns.CHOICE_HINTS["work_ability"],
        "medical_yuan": _("optional: medical spending in the last year, in yuan"),
        "accident_on": _("optional: date of an accident or disaster, like 2025-03-01"),
        "employment": _("optional: ") + columns.CHOICE_HINTS["employment"],
        "dependants": _("optional: people the worker supports"),
    }
    for column in columns.COLUMNS:
        notes.append([column.zh, column.en, _("yes") if column.required else "", hints.get(column.field, "")])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- the candidate queue --------------------------------------------------------------------------------------------


def candidate_query(user, *, status: str | None = "open", source: str | None = None, area_code: str | None = None):
    """The candidates in the user's areas, highest score first."""
    stmt = select(Candidate).where(scope_filter(Candidate.area_id, user))
    if status == "open":
        stmt = stmt.where(Candidate.status.in_(OPEN_STATUSES))
    elif status:
        stmt = stmt.where(Candidate.status == status)
    if source:
        stmt = stmt.where(Candidate.source == source)
    if area_code:
        area = db.session.scalar(select(Area).where(Area.code == area_code))
        if area is None:
            return stmt.where(False)
        stmt = stmt.where(Candidate.area_id.in_(select(Area.id).where(Area.path.startswith(area.path))))
    return stmt.order_by(Candidate.score.desc(), Candidate.id.asc())


def queue_counts(user) -> dict[tuple[str, str], int]:
    """(source, status) → candidates, in the user's areas."""
    rows = db.session.execute(
        select(Candidate.source, Candidate.status, func.count())
        .where(scope_filter(Candidate.area_id, user))
        .group_by(Candidate.source, Candidate.status)
    ).all()
    return {(s.value, st.value): n for s, st, n in rows}


def _snapshot(c: Candidate) -> dict:
    return audit.snapshot(
        c, ("status", "assigned_to_id", "visited_on", "visit_notes", "dismissal_reason", "family_id", "score")
    )


def _record(actor, action: str, c: Candidate, before: dict) -> None:
    b, a = audit.changed(before, _snapshot(c))
    audit.record(
        actor, action, "candidate", c.id, before=b, after=a, family_id=c.family_id, summary=c.person.name[:255]
    )


def _must_be_open(c: Candidate) -> None:
    if not c.is_open:
        raise Conflict(str(_l("This candidate has already been decided.")))


def assign_to_self(actor, c: Candidate) -> Candidate:
    """Take the candidate on (a caseworker assigns it to themselves)."""
    _must_be_open(c)
    before = _snapshot(c)
    c.assigned_to_id = actor.id
    if c.status == CandidateStatus.NEW:
        c.status = CandidateStatus.ASSIGNED
    db.session.flush()
    _record(actor, "assign", c, before)
    return c


def record_visit(actor, c: Candidate, visited_on, notes: str) -> Candidate:
    """Record the verification visit (核实走访): the candidate is then verified and can be filed or dismissed."""
    _must_be_open(c)
    errors = {}
    if not isinstance(visited_on, date):
        errors["visited_on"] = str(_l("Enter a date."))
    elif visited_on > local_today():
        errors["visited_on"] = str(_l("This date cannot be in the future."))
    elif visited_on.year < 1900:
        errors["visited_on"] = str(_l("Enter a date from 1900 on."))
    notes = (notes or "").strip() if isinstance(notes, str) else notes
    if not isinstance(notes, str) or len(notes) > 2000:
        errors["visit_notes"] = str(_l("At most %(n)s characters.", n=2000))
    if errors:
        raise ValidationFailed(str(_l("Please correct the marked fields.")), errors)
    before = _snapshot(c)
    c.visited_on, c.visit_notes = visited_on, notes
    c.assigned_to_id = c.assigned_to_id or actor.id
    c.status = CandidateStatus.VERIFIED
    db.session.flush()
    _record(actor, "visit", c, before)
    return c


def dismiss(actor, c: Candidate, reason: str) -> Candidate:
    """Take the candidate off the queue, with the reason."""
    _must_be_open(c)
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason or len(reason) > 200:
        message = str(_l("Give a reason (at most 200 characters)."))
        raise ValidationFailed(message, {"reason": message})
    before = _snapshot(c)
    c.status, c.dismissal_reason = CandidateStatus.DISMISSED, reason
    db.session.flush()
    _record(actor, "dismiss", c, before)
    return c


def linked_member(c: Candidate) -> Member | None:
    """The current family member this candidate is, if they are on a file."""
    person = c.person
    member = db.session.get(Member, person.member_id) if person.member_id else None
    if member is None or not member.is_current:
        member = db.session.scalar(
            select(Member).where(Member.id_index == person.id_index, Member.is_current.is_(True))
        )
    return member


def prefill(c: Candidate) -> dict:
    """The family form's fields from the candidate's imported row (the ID number is added by file_family)."""
    p = c.person
    return {
        "area_id": p.area_id,
        "head_name": p.name,
        "phone": p.phone,
        "employer": p.employer,
        "head_health": p.health.value,
        "head_work_ability": p.work_ability.value,
        "identity_status": p.identity_status.value if p.identity_status else "employed",
        "accident_on": p.accident_on,
        "hardship_category": "accident" if p.accident_on else "relative",
    }


def file_family(actor, c: Candidate, data: dict) -> Family:
    """Open the family file from a verified candidate (the ID number comes from the import, never retyped)."""
    from assist.families.operations import create_family

    _must_be_open(c)
    if c.status != CandidateStatus.VERIFIED:
        raise Conflict(str(_l("Record the verification visit before opening the file.")))
    member = linked_member(c)
    if member is not None:
        raise Conflict(
            str(
                _l(
                    "This person is already on family file No. %(id)s; review the differences instead.",
                    id=member.family_id,
                )
            )
        )
    before = _snapshot(c)
    family = create_family(actor, {**data, "head_id_number": crypto.decrypt(c.person.id_cipher)})
    c.family_id, c.status = family.id, CandidateStatus.FILED
    db.session.flush()
    _record(actor, "file", c, before)
    return family


def pending_changes(c: Candidate) -> tuple[Member | None, dict[str, list]]:
    """The linked member and what the imported row would change on their file."""
    member = linked_member(c)
    if member is None:
        return None, {}
    p = c.person
    new = {"name": p.name, "health": p.health, "work_ability": p.work_ability, "phone": p.phone, "employer": p.employer}
    view = {
        "relation": member.relation,
        "name": member.name,
        "health": member.health,
        "work_ability": member.work_ability,
        "phone": member.family.phone,
        "employer": member.family.employer,
    }

    return member, differences(new, SimpleNamespace(**view))


def apply_changes(actor, c: Candidate, fields: list[str]) -> Candidate:
    """Apply the chosen differences to the person's family file (each change audited there), then close the entry."""
    from assist.families.operations import update_family, update_member

    _must_be_open(c)
    member, changes = pending_changes(c)
    if member is None:
        raise Conflict(str(_l("This person is not on a family file; open one instead.")))
    if not area_in_scope(member.family.area, actor):
        raise Conflict(str(_l("The family file is in an area outside yours; ask the city union.")))
    chosen = [f for f in fields if f in changes]
    if not chosen:
        message = str(_l("Choose at least one change to apply."))
        raise ValidationFailed(message, {"fields": message})
    where = {field: place for field, place, _head in CHANGEABLE}
    member_changes = {f: changes[f][1] for f in chosen if where[f] == "member"}
    family_changes = {f: changes[f][1] for f in chosen if where[f] == "family"}
    if member_changes:
        update_member(actor, member, member_changes)
    if family_changes:
        update_family(actor, member.family, family_changes)
    before = _snapshot(c)
    c.family_id, c.status = member.family_id, CandidateStatus.FILED
    db.session.flush()
    _record(actor, "apply_changes", c, before)
    return c
