"""Three-party agreements (帮扶协议: 甲方 sponsor, 乙方 member, 丙方 union): drafting, reading, the PDF, signing and
termination; the same operations as the pages."""

from contextlib import contextmanager

from flask import make_response
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from assist.agreements import operations
from assist.agreements.models import Agreement
from assist.agreements.pdf import render_agreement
from assist.api import schemas
from assist.enums import Role
from assist.errors import DomainError
from assist.extensions import db
from assist.permissions import get_agreement_or_404, get_post_or_404

blp = Blueprint("api_agreements", __name__, description="Three-party agreements (帮扶协议)")

#: the model's names → the API's (CONTRACT.md names the dates start_date and end_date)
API_NAMES = {"start_on": "start_date", "end_on": "end_date"}


@contextmanager
def api_field_names():
    """Field errors of the operations under the names the API's caller used."""
    try:
        yield
    except DomainError as exc:
        exc.fields = {API_NAMES.get(k, k): v for k, v in exc.fields.items()}
        raise


def agreement_out(agreement: Agreement) -> dict:
    """An agreement as the caller may see it: a sponsor sees the member's name and contact only once it is signed,
    and never the family's file."""
    out = {
        f: getattr(agreement, f)
        for f in (
            "id",
            "number",
            "post_id",
            "sponsor_id",
            "monthly_amount_fen",
            "hours_per_month",
            "duties",
            "signed_on",
            "terminated_on",
            "termination_reason",
            "previous_id",
            "from_paper",
        )
    }
    named = operations.parties(agreement)  # as signed, once signed
    out.update(
        status=agreement.status.value,
        post_status=agreement.post.status.value,
        sponsor_name=named.a_name,
        sponsor_credit_code=named.a_credit_code,
        union_name=named.c_name,
        start_date=agreement.start_on,
        end_date=agreement.end_on,
        area_code=agreement.post.area.code,
    )
    staff = current_user.role != Role.SPONSOR
    if staff or operations.sponsor_may_see_member(agreement):
        out["member"] = {"name": named.b_name, "phone": agreement.family.phone}
    else:
        out["member"] = None
    if staff:
        out.update(member_id=agreement.member_id, family_id=agreement.family_id)
    return out


@blp.route("/agreements")
class Agreements(MethodView):
    @blp.arguments(schemas.AgreementIn)
    @blp.response(201, schemas.AgreementOut)
    def post(self, body):
        """Draft the agreement for a claimed post: start date, end date (default: the post's term), monthly amount,
        hours and duties (default: the post's)."""
        post = get_post_or_404(body.pop("post_id"))
        body["start_on"], body["end_on"] = body.pop("start_date"), body.pop("end_date", None)
        with api_field_names():
            agreement = operations.create_agreement(current_user, post, body)
        db.session.commit()
        return agreement_out(agreement)


@blp.route("/agreements/<int:agreement_id>")
class AgreementById(MethodView):
    @blp.response(200, schemas.AgreementOut)
    def get(self, agreement_id):
        """One agreement: staff in whose areas it lies, or its own sponsor."""
        return agreement_out(get_agreement_or_404(agreement_id))


@blp.route("/agreements/<int:agreement_id>/pdf")
class AgreementPdf(MethodView):
    @blp.response(
        200,
        {"type": "string", "format": "binary"},
        content_type="application/pdf",
        description="The agreement as a PDF in Chinese",
    )
    def get(self, agreement_id):
        """The agreement as a PDF (parties, post, term, amount, signature blocks), for staff and its sponsor."""
        agreement = get_agreement_or_404(agreement_id)
        response = make_response(render_agreement(agreement))
        response.headers["Content-Type"] = "application/pdf"
        response.headers["Content-Disposition"] = f'attachment; filename="{agreement.number}.pdf"'
        return response


@blp.route("/agreements/<int:agreement_id>/sign")
class SignAgreement(MethodView):
    @blp.arguments(schemas.SignIn)
    @blp.response(200, schemas.AgreementOut)
    def post(self, body, agreement_id):
        """Record the signing date; the post becomes active on the start date (at once when it has come)."""
        agreement = get_agreement_or_404(agreement_id)
        operations.sign_agreement(current_user, agreement, body["signed_on"])
        db.session.commit()
        return agreement_out(agreement)


@blp.route("/agreements/<int:agreement_id>/terminate")
class TerminateAgreement(MethodView):
    @blp.arguments(schemas.TerminateIn)
    @blp.response(200, schemas.AgreementOut)
    def post(self, body, agreement_id):
        """End a signed agreement early on ``end_date`` (its last day) for a reason; the post ends with it."""
        agreement = get_agreement_or_404(agreement_id)
        operations.terminate_agreement(current_user, agreement, body["end_date"], body["reason"])
        db.session.commit()
        return agreement_out(agreement)
