"""The monthly payout report; the same operation as the report page."""

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from assist.api.schemas import ErrorSchema, Month
from assist.reports import operations

blp = Blueprint("api_reports", __name__, description="Reports (报表)")


class MonthlyArgs(Schema):
    month = Month(required=True, metadata={"description": "YYYY-MM"})


class Money(Schema):
    records = fields.Integer()
    amount_fen = fields.Integer()
    paid_fen = fields.Integer()
    unpaid_fen = fields.Integer()


class SponsorLine(Money):
    sponsor_id = fields.Integer()
    name = fields.String()


class AreaLine(Money):
    area_code = fields.String()
    name = fields.String()


class ColourLine(Money):
    colour = fields.String(allow_none=True, metadata={"description": "red | yellow | green; null: not assessed"})


class SupplementaryLine(Schema):
    id = fields.Integer()
    month = fields.String(metadata={"description": "YYYY-MM: the month worked"})
    sponsor_id = fields.Integer()
    agreement_number = fields.String()
    amount_fen = fields.Integer()
    status = fields.String(metadata={"description": "unpaid | paid | failed"})


class MonthlyReportOut(Schema):
    month = fields.String()
    totals = fields.Nested(Money)
    by_sponsor = fields.List(fields.Nested(SponsorLine))
    by_area = fields.List(fields.Nested(AreaLine), metadata={"description": "rolled up to district/town level"})
    by_colour = fields.List(fields.Nested(ColourLine))
    supplementary = fields.List(
        fields.Nested(SupplementaryLine),
        metadata={
            "description": "late months (补发) of earlier, approved batches that this batch pays (in the totals)"
        },
    )


def _money(line) -> dict:
    return {
        "records": line.records,
        "amount_fen": line.amount_fen,
        "paid_fen": line.paid_fen,
        "unpaid_fen": line.unpaid_fen,
    }


@blp.route("/reports/monthly")
class MonthlyReport(MethodView):
    @blp.arguments(MonthlyArgs, location="query")
    @blp.response(200, MonthlyReportOut)
    @blp.alt_response(422, schema=ErrorSchema, description="The month is missing or not YYYY-MM")
    def get(self, args):
        """A month's batch: its payout by sponsor, by district/town and by family colour, with totals (integer fen);
        the supplementary records (补发) it pays for earlier months are counted in and listed with their month."""
        report = operations.monthly_report(args["month"], current_user)
        return {
            "month": report.month,
            "totals": report.totals,
            "by_sponsor": [{"sponsor_id": x.key, "name": x.name, **_money(x)} for x in report.by_sponsor],
            "by_area": [{"area_code": x.code, "name": x.name, **_money(x)} for x in report.by_area],
            "by_colour": [{"colour": x.key, **_money(x)} for x in report.by_colour],
            "supplementary": [
                {
                    "id": x.id,
                    "month": x.month,
                    "sponsor_id": x.sponsor_id,
                    "agreement_number": x.agreement_number,
                    "amount_fen": x.amount_fen,
                    "status": x.status.value,
                }
                for x in report.supplementary
            ],
        }
