"""``assist report ...``: the monthly payout report written to a file."""

from pathlib import Path

import click
from flask.cli import with_appcontext

from assist.errors import DomainError


@click.group("report")
def report_group():
    """Reports (报表)."""


@report_group.command("monthly")
@click.option("--month", required=True, help="YYYY-MM")
@click.option("--format", "fmt", required=True, type=click.Choice(["xlsx", "csv", "pdf"]))
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path))
@with_appcontext
def monthly_command(month, fmt, out):
    """Write a month's payout report (every area, as the union sees it) as XLSX, CSV or PDF."""
    from assist.reports import exports, operations

    try:
        report = operations.monthly_report(month, None)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    writer = {"xlsx": exports.to_xlsx, "csv": exports.to_csv, "pdf": exports.to_pdf}[fmt]
    out.write_bytes(writer(report))
    totals = report.totals
    click.echo(f"wrote {out}: {totals['records']} records, {exports.yuan_text(totals['amount_fen'])} yuan")
