"""Report pages and downloads: load and authorise → validate → call the operation → render or send the file."""

from flask import Blueprint, Response, render_template, request
from flask_login import current_user

from assist.errors import ValidationFailed
from assist.permissions import get_sponsor_or_404
from assist.reports import exports, operations

bp = Blueprint("reports", __name__, url_prefix="/reports")

MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
}
WRITERS = {"xlsx": exports.to_xlsx, "csv": exports.to_csv, "pdf": exports.to_pdf}


def _file(data: bytes, fmt: str, filename: str) -> Response:
    response = Response(data, mimetype=MEDIA[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _month_arg() -> str:
    return (request.args.get("month") or "").strip()[:20] or operations.last_finished_month()


@bp.route("/monthly")
def monthly():
    month = _month_arg()
    try:
        report = operations.monthly_report(month, current_user)
    except ValidationFailed as exc:
        return render_template("reports/monthly.html", month=month, report=None, error=exc.fields["month"]), 422
    return render_template("reports/monthly.html", month=month, report=report, error=None)


def _download(fmt: str):
    """The monthly report as a file (the page's download buttons)."""
    month = _month_arg()
    try:
        report = operations.monthly_report(month, current_user)
    except ValidationFailed as exc:
        return render_template("reports/monthly.html", month=month, report=None, error=exc.fields["month"]), 422
    return _file(WRITERS[fmt](report), fmt, f"monthly-report-{month}.{fmt}")


@bp.route("/monthly.xlsx")
def monthly_xlsx():
    return _download("xlsx")


@bp.route("/monthly.csv")
def monthly_csv():
    return _download("csv")


@bp.route("/monthly.pdf")
def monthly_pdf():
    return _download("pdf")


@bp.route("/statement/<int:sponsor_id>")
def statement(sponsor_id: int):
    """A sponsor's monthly statement (PDF): the sponsor its own, the admin any."""
    sponsor = get_sponsor_or_404(sponsor_id)
    month = _month_arg()
    report, lines = operations.sponsor_statement(sponsor, month)
    return _file(exports.statement_pdf(report, lines), "pdf", f"statement-{sponsor.id}-{month}.pdf")


@bp.route("/certificate/<int:sponsor_id>")
def certificate(sponsor_id: int):
    """A sponsor's thank-you certificate for a year it paid stipends in (PDF)."""
    sponsor = get_sponsor_or_404(sponsor_id)
    year = operations.parse_year(request.args.get("year") or operations.last_year())
    figures = operations.year_figures(sponsor, year)
    return _file(exports.certificate_pdf(figures), "pdf", f"certificate-{sponsor.id}-{year}.pdf")


@bp.route("/certificates")
def certificates():
    """Every sponsor that paid stipends in a year, with its certificate."""
    raw = (request.args.get("year") or "").strip()[:10] or str(operations.last_year())
    try:
        year = operations.parse_year(raw)
    except ValidationFailed as exc:
        return render_template("reports/certificates.html", year=raw, sponsors=[], error=exc.fields["year"]), 422
    sponsors = operations.sponsors_paid_in(year)
    return render_template("reports/certificates.html", year=year, sponsors=sponsors, error=None)
