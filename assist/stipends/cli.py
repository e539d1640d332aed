"""``assist stipends ...``: generating a month's stipend records from the command line."""

import click
from flask.cli import with_appcontext

from assist.errors import DomainError
from assist.extensions import db


@click.group("stipends")
def stipends_group():
    """Monthly stipends (每月帮扶待遇)."""


@stipends_group.command("generate")
@click.option("--month", help="YYYY-MM; without it, last month and every missed month before it")
@with_appcontext
def generate_command(month):
    """Generate a month's stipend records; prints ``created N, existing M``. Safe to repeat."""
    from assist.stipends.operations import generate_due, generate_month

    try:
        results = [generate_month(month)] if month else generate_due()
    except DomainError as error:
        raise click.ClickException(error.message) from None
    db.session.commit()
    for result in results:
        note = ""
        if result.supplementary:
            note = f" (batch approved: {result.created} supplementary in the batch of {result.paid_in})"
        elif result.frozen:
            note = " (batch approved: frozen)"
        prefix = f"{result.month}: " if not month else ""
        click.echo(f"{prefix}created {result.created}, existing {result.existing}{note}")
