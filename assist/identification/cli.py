"""``assist import workers FILE``: import a worker file in the standard template from the command line."""

from pathlib import Path

import click
from flask.cli import with_appcontext

from assist.enums import ImportSource


@click.group("import")
def import_group():
    """Import data files."""


@import_group.command("workers")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--source",
    type=click.Choice([s.value for s in ImportSource]),
    default=ImportSource.OTHER.value,
    show_default=True,
    help="where the data comes from",
)
@with_appcontext
def workers_command(file: Path, source: str):
    """Import and screen a worker file (CSV or XLSX in the standard template).

    Prints ``rows N, imported N, rejected N, candidates N``. Rejected rows are written next to the file as
    FILE.rejects.xlsx (its path is printed on standard error). Importing the same file again changes nothing; a killed
    import run again resumes where it stopped.
    """
    from assist.enums import ImportStatus
    from assist.errors import DomainError
    from assist.extensions import db
    from assist.identification import columns, operations, reader

    if file.stat().st_size > reader.MAX_BYTES:
        raise click.ClickException(f"{file} is larger than {reader.MAX_BYTES // 2**20} MB; split it.")
    try:
        imp, _created = operations.create_import(None, file.read_bytes(), file.name, source)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    if imp.status == ImportStatus.MAPPING:
        missing = ", ".join(f"{columns.BY_FIELD[f].zh} ({f})" for f in columns.REQUIRED if f not in (imp.mapping or {}))
        raise click.ClickException(
            f"the file is not in the standard template (missing columns: {missing or 'see the import page'}); "
            f"map its columns on the import page, import No. {imp.id}"
        )
    if not imp.finished:
        done = operations.run_import(imp.id)
        if done is None:
            raise click.ClickException(f"import No. {imp.id} is being worked by another process ({imp.owner})")
        imp = done
    if imp.status == ImportStatus.FAILED:
        raise click.ClickException(imp.error or "the import failed")
    click.echo(f"rows {imp.rows}, imported {imp.imported}, rejected {imp.rejected}, candidates {imp.candidates}")
    if imp.rejected:
        target = file.with_name(file.stem + ".rejects.xlsx")
        target.write_bytes(operations.rejects_workbook(imp))
        click.echo(f"rejected rows written to {target}", err=True)
