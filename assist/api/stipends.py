"""Stipends (待遇): the month's records in the caller's scope, batch approval and payment confirmation; the same
operations as the pages."""

from flask import abort
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from assist.api import schemas
from assist.errors import DomainError
from assist.extensions import db
from assist.permissions import get_stipend_or_404, stipend_scope
from assist.stipends import payments

blp = Blueprint("api_stipends", __name__, description="Monthly stipends (待遇), batches and payments")


class StipendListArgs(Schema):
    month = schemas.Month(required=True, metadata={"description": "YYYY-MM: the month worked (late records too)"})
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=100, validate=validate.Range(1, 500))


class StipendOut(Schema):
    id = fields.Integer()
    agreement_id = fields.Integer()
    month = fields.String()
    paid_in = fields.String(
        metadata={"description": "YYYY-MM: the batch that pays it (a later one for a supplementary record, 补发)"}
    )
    supplementary = fields.Boolean(metadata={"description": "a late month paid in a later batch (补发)"})
    kind = fields.String(metadata={"description": "regular | adjustment"})
    days = fields.Integer()
    amount_fen = fields.Integer()
    status = fields.String(metadata={"description": "unpaid | paid | failed"})
    paid_on = fields.Date(allow_none=True)
    reference = fields.String()
    payment_code = fields.String(metadata={"description": "for the transfer memo (摘要)"})
    overdue = fields.Boolean()


class StipendPage(Schema):
    items = fields.List(fields.Nested(StipendOut))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class BatchOut(Schema):
    month = fields.String()
    status = fields.String(metadata={"description": "draft | approved | closed"})


class PaymentIn(Schema):
    paid_on = schemas.SafeDate(required=True)
    reference = schemas.Text(60, min_length=1, required=True)


def stipend_out(r) -> dict:
    return {
        "id": r.id,
        "agreement_id": r.agreement_id,
        "month": r.month,
        "paid_in": r.paid_in,
        "supplementary": r.supplementary,
        "kind": r.kind.value,
        "days": r.days,
        "amount_fen": r.amount_fen,
        "status": r.status.value,
        "paid_on": r.paid_on,
        "reference": r.reference,
        "payment_code": r.payment_code,
        "overdue": payments.is_overdue(r),
    }


@blp.route("/stipends")
class Stipends(MethodView):
    @blp.arguments(StipendListArgs, location="query")
    @blp.response(200, StipendPage)
    def get(self, args):
        """A month's stipend records: all for the admin, a caseworker's areas, a sponsor's own."""
        stmt = payments.record_query(stipend_scope(), month=args["month"])
        page = db.paginate(stmt, page=args["page"], per_page=args["per_page"], error_out=False)
        return {
            "items": [stipend_out(r) for r in page.items],
            "page": page.page,
            "per_page": page.per_page,
            "total": page.total,
        }


@blp.route("/stipend-batches/<month>/approve")
class BatchApprove(MethodView):
    @blp.response(200, BatchOut)
    @blp.alt_response(409, schema=schemas.ErrorSchema, description="Already approved, or the month has not ended")
    def post(self, month):
        """Approve a month's batch for payment (admin); it is frozen from then on."""
        try:
            payments.get_batch(month)
        except DomainError:
            abort(404)
        batch = payments.approve_batch(current_user, month)
        db.session.commit()
        return {"month": batch.month, "status": batch.status.value}


@blp.route("/stipends/<int:stipend_id>/payment")
class Payment(MethodView):
    @blp.arguments(PaymentIn)
    @blp.response(200, StipendOut)
    @blp.alt_response(409, schema=schemas.ErrorSchema, description="Batch not approved yet, or already paid")
    def post(self, body, stipend_id):
        """Confirm the transfer for one record (its paying sponsor, or the admin): date and reference."""
        record = get_stipend_or_404(stipend_id)
        payments.confirm_payment(current_user, record, body["paid_on"], body["reference"])
        db.session.commit()
        return stipend_out(record)
