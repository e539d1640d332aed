"""The ``assist`` command line (also ``flask --app wsgi ...``)."""

import sys

import click
from flask.cli import FlaskGroup, with_appcontext


def init_commands(app) -> None:
    app.cli.add_command(create_user_command)
    app.cli.add_command(demo_data_command)
    app.cli.add_command(families_group)
    app.cli.add_command(setup_command)
    app.cli.add_command(scheduler_command)
    # posts and agreements (issue 3, demo/CLI/jobs part)
    app.cli.add_command(posts_group)
    app.cli.add_command(agreements_group)
    from assist.stipends.cli import stipends_group

    app.cli.add_command(stipends_group)
    # identification (issue 5)
    from assist.identification.cli import import_group

    app.cli.add_command(import_group)
    # reports (issue 4)
    from assist.reports.cli import report_group

    app.cli.add_command(report_group)


@click.command("create-user")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["admin", "caseworker", "sponsor", "provider"]))
@click.option("--area", "areas", multiple=True, help="area code (repeat for several)")
@click.option("--sponsor", "sponsor_id", type=int, help="the sponsor this user speaks for")
@click.option("--display-name", default="")
@with_appcontext
def create_user_command(name, role, areas, sponsor_id, display_name):
    """Create a user; the password is read from the first line of standard input."""
    from assist.auth.operations import create_user
    from assist.errors import DomainError
    from assist.extensions import db

    password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = create_user(
            None, name, password, role, display_name=display_name, area_codes=list(areas), sponsor_id=sponsor_id
        )
    except DomainError as exc:
        db.session.rollback()
        details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
        raise click.ClickException(f"{exc.message} {details}".strip()) from None
    db.session.commit()
    click.echo(f"created {user.role.value} {user.username} (id {user.id})")


@click.command("demo-data")
@click.option("--families", default=1600, show_default=True, type=click.IntRange(0, 1_000_000))
@click.option("--seed", default=2026, show_default=True, type=int)
@click.option("--if-empty", is_flag=True, help="do nothing when the database already has families")
@with_appcontext
def demo_data_command(families, seed, if_empty):
    """Build the deterministic demo city (Pinghu-like areas, staff, families) and print the logins."""
    from sqlalchemy import func, select

    from assist.demo import build_demo
    from assist.extensions import db
    from assist.families.models import Family

    if db.session.scalar(select(func.count(Family.id))):
        if if_empty:
            click.echo("The database already has families; demo data not loaded.")
            return
        raise click.ClickException("The database already has families; demo data goes into an empty database.")
    logins = build_demo(families=families, seed=seed)
    db.session.commit()
    from assist.maintenance import refresh_statistics

    refresh_statistics(full=True)
    click.echo(f"Demo data: {families} families (seed {seed}).")
    print_logins(logins)


def print_logins(logins) -> None:
    click.echo("Demo logins (user / password):")
    for username, password, what in logins:
        click.echo(f"  {username:<12} {password:<16} {what}")


@click.command("setup")
@click.option("--demo/--no-demo", default=True, help="load demo data into an empty database")
@with_appcontext
def setup_command(demo):
    """Upgrade the database and, when it is empty, load the demo data (what ``make run`` does first)."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from assist.demo import DEMO_PASSWORD
    from assist.extensions import db
    from assist.families.models import Family
    from assist.maintenance import refresh_statistics

    upgrade()
    if not demo:
        return
    if db.session.scalar(select(func.count(Family.id))):
        click.echo("Database ready (existing data kept). Demo logins, if the demo was loaded before:")
        print_logins(
            [
                ("admin", DEMO_PASSWORD, "admin"),
                ("caseworker", DEMO_PASSWORD, "caseworker, whole city"),
                ("cw01", DEMO_PASSWORD, "caseworker, 当湖街道"),
            ]
        )
        return
    from assist.demo import build_demo

    click.echo("Loading demo data…")
    logins = build_demo()
    db.session.commit()
    refresh_statistics(full=True)
    print_logins(logins)


@click.group("families")
def families_group():
    """Family files."""


@families_group.command("flag-exits")
@with_appcontext
def flag_exits_command():
    """Flag families above the line for the configured number of months (脱困 candidates)."""
    from assist.assessments.operations import flag_exit_candidates
    from assist.extensions import db

    n = flag_exit_candidates()
    db.session.commit()
    click.echo(f"flagged {n}")


@families_group.command("reassess")
@with_appcontext
def reassess_command():
    """Reassess every active family now (a batch review)."""
    from assist.assessments.operations import reassess_all
    from assist.extensions import db

    n = reassess_all()
    db.session.commit()
    click.echo(f"reassessed {n}")


@click.command("scheduler")
@with_appcontext
def scheduler_command():
    """Run the scheduler in the foreground (its own process; the web app never starts one)."""
    from jobs.runner import run_forever

    run_forever()


# posts and agreements (issue 3, demo/CLI/jobs part) -----------------------------------------------------------------


@click.group("posts")
def posts_group():
    """Virtual posts (虚拟岗位)."""


@posts_group.command("expire-claims")
@with_appcontext
def expire_claims_command():
    """Return unsigned claims past their reservation to the market (and lapse unanswered offers)."""
    from assist.extensions import db
    from assist.posts.operations import expire_claims

    n = expire_claims()
    db.session.commit()
    click.echo(f"expired {n}")


@click.group("agreements")
def agreements_group():
    """Three-party agreements (帮扶协议)."""


@agreements_group.command("advance")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), help="the day to advance to (default today)")
@with_appcontext
def advance_command(day):
    """Start signed agreements whose start date came and end those whose last day passed, with their posts."""
    from assist.agreements.operations import advance
    from assist.extensions import db

    counts = advance(day.date() if day else None)
    db.session.commit()
    click.echo(f"activated {counts['activated']}, ended {counts['ended']}")


def _create_app():
    from assist import create_app

    return create_app()


@click.group(
    cls=FlaskGroup, create_app=_create_app, add_default_commands=True, add_version_option=False, load_dotenv=False
)
def cli():
    """assist: virtual-post assistance for difficult-worker families."""


# Configuration is the environment alone (README): no .env file, not even one named with -e/--env-file (or
# FLASK_ENV_FILE). Flask would load it after config.py had read DATABASE_URL, so half of it applied: a production
# .env sent `assist db upgrade` to the development SQLite file.
cli.params = [param for param in cli.params if param.name != "env_file"]


def main() -> None:
    cli(prog_name="assist")


if __name__ == "__main__":
    main()
