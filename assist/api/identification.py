"""Worker imports and the candidate queue; the same operations as the pages."""

import flask_smorest
from flask.views import MethodView
from flask_login import current_user
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy.orm import selectinload
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict, FileStorage

from assist.api import ArgumentsParser, schemas
from assist.enums import CandidateStatus, ImportSource
from assist.extensions import db
from assist.identification import operations, reader
from assist.identification.models import Candidate, WorkerImport
from assist.identification.routes import start_import
from assist.identification.screening import reason_text
from assist.permissions import get_import_or_404


class UploadParser(ArgumentsParser):
    """The ``files`` location reads the whole multipart body: the file and the form fields beside it."""

    def load_files(self, req, schema):
        return MultiDictProxy(CombinedMultiDict([req.files, req.form]), schema)


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = UploadParser()


blp = Blueprint("api_identification", __name__, description="Active identification: worker imports and candidates")


class Upload(fields.Field):
    """An uploaded file (multipart)."""

    def __init__(self, **kwargs):
        super().__init__(metadata={"type": "string", "format": "binary"}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage):
            raise ValidationError("Send a file (multipart/form-data).")
        return value


class ImportUpload(Schema):
    file = Upload(required=True)
    source = fields.String(load_default="other", validate=validate.OneOf([s.value for s in ImportSource]))


class ImportOut(Schema):
    id = fields.Integer()
    filename = fields.String()
    source = fields.String()
    status = fields.String(
        metadata={"description": "mapping (columns to be mapped on the page), queued, running, done, failed"}
    )
    progress = fields.Integer(metadata={"description": "percent"})
    total_rows = fields.Integer()
    rows = fields.Integer()
    imported = fields.Integer()
    rejected = fields.Integer()
    candidates = fields.Integer()
    linked = fields.Integer()
    error = fields.String()
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)


class ImportPage(Schema):
    items = fields.List(fields.Nested(ImportOut))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=25, validate=validate.Range(1, 100))


class CandidateArgs(PageArgs):
    status = fields.String(
        load_default="open", validate=validate.OneOf(["open", "all", *[s.value for s in CandidateStatus]])
    )
    source = fields.String(validate=validate.OneOf([s.value for s in ImportSource]))
    area_code = schemas.Text(20)


class ReasonOut(Schema):
    rule = fields.String()
    points = fields.Integer()
    text = fields.String()


class CandidateOut(Schema):
    id = fields.Integer()
    name = fields.String()
    id_number = fields.String(metadata={"description": "masked"})
    area_code = fields.String()
    source = fields.String()
    score = fields.Integer()
    reasons = fields.List(fields.Nested(ReasonOut))
    status = fields.String()
    assigned_to = fields.String(allow_none=True)
    visited_on = fields.Date(allow_none=True)
    family_id = fields.Integer(allow_none=True)
    import_id = fields.Integer()
    row_number = fields.Integer()


class CandidatePage(Schema):
    items = fields.List(fields.Nested(CandidateOut))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


def import_out(imp: WorkerImport) -> dict:
    out = {
        c: getattr(imp, c)
        for c in (
            "id",
            "filename",
            "progress",
            "total_rows",
            "rows",
            "imported",
            "rejected",
            "candidates",
            "linked",
            "error",
            "created_at",
            "finished_at",
        )
    }
    out.update(source=imp.source.value, status=imp.status.value)
    return out


def candidate_out(c: Candidate) -> dict:
    p = c.person
    return {
        "id": c.id,
        "name": p.name,
        "id_number": p.id_masked,
        "area_code": c.area.code,
        "source": c.source.value,
        "score": c.score,
        "reasons": [{"rule": rule, "points": points, "text": reason_text(rule)} for rule, points in p.reasons],
        "status": c.status.value,
        "assigned_to": c.assigned_to.username if c.assigned_to else None,
        "visited_on": c.visited_on,
        "family_id": c.family_id,
        "import_id": p.import_id,
        "row_number": p.row_number,
    }


@blp.route("/imports")
class Imports(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, ImportPage)
    def get(self, args):
        """Imports the caller may see (an admin: all; a caseworker: their own), newest first."""
        stmt = operations.import_query(current_user).order_by(WorkerImport.id.desc())
        page = db.paginate(stmt, page=args["page"], per_page=args["per_page"], error_out=False)
        return {
            "items": [import_out(i) for i in page.items],
            "page": page.page,
            "per_page": page.per_page,
            "total": page.total,
        }

    @blp.arguments(ImportUpload, location="files")
    @blp.response(202, ImportOut)
    @blp.alt_response(200, schema=ImportOut, description="The same file was imported before; nothing has changed")
    def post(self, args):
        """Upload a worker file (CSV or XLSX, multipart ``file`` and ``source``); it is imported in the background.

        Follow it with GET /imports/{id}. A file that is not in the standard template waits in status ``mapping``
        until its columns are mapped on the import page."""
        content = args["file"].read(reader.MAX_BYTES + 1)
        imp, created = operations.create_import(current_user, content, args["file"].filename, args["source"])
        db.session.commit()
        if not created:
            return import_out(imp), 200
        if imp.status.value == "queued":
            start_import(imp.id)
            db.session.refresh(imp)
        return import_out(imp), 202


@blp.route("/imports/<int:import_id>")
class ImportById(MethodView):
    @blp.response(200, ImportOut)
    def get(self, import_id):
        """An import's status, progress and counts."""
        return import_out(get_import_or_404(import_id))


@blp.route("/candidates")
class Candidates(MethodView):
    @blp.arguments(CandidateArgs, location="query")
    @blp.response(200, CandidatePage)
    def get(self, args):
        """Candidates in the caller's areas, highest score first (default: those still in the queue)."""
        stmt = operations.candidate_query(
            current_user,
            status=None if args["status"] == "all" else args["status"],
            source=args.get("source"),
            area_code=args.get("area_code"),
        ).options(selectinload(Candidate.person), selectinload(Candidate.area), selectinload(Candidate.assigned_to))
        page = db.paginate(stmt, page=args["page"], per_page=args["per_page"], error_out=False)
        return {
            "items": [candidate_out(c) for c in page.items],
            "page": page.page,
            "per_page": page.per_page,
            "total": page.total,
        }
