"""The `assist` command line."""

import hashlib

from sqlalchemy import func, select, text

from assist.assessments.models import ColourChange
from assist.auth.models import User
from assist.enums import Colour, ProfileType
from assist.extensions import db
from assist.families.models import Family, Income, Member


def test_create_user_reads_the_password_from_stdin(runner, world):
    result = runner.invoke(
        args=["create-user", "cw_new", "--role", "caseworker", "--area", "330482001"],
        input="a long password\nignored\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "cw_new"))
    assert [a.code for a in user.areas] == ["330482001"]
    from assist.auth.operations import check_password

    assert check_password(user, "a long password")


def test_create_user_refuses_bad_input_clearly(runner, world):
    result = runner.invoke(args=["create-user", "cw_x", "--role", "caseworker"], input="a long password\n")
    assert result.exit_code != 0 and "area" in result.output
    result = runner.invoke(args=["create-user", "admin", "--role", "admin"], input="a long password\n")
    assert result.exit_code != 0
    result = runner.invoke(args=["create-user", "short", "--role", "admin"], input="short\n")
    assert result.exit_code != 0 and "password" in result.output


def _fingerprint() -> str:
    rows = db.session.execute(
        text("SELECT f.id, f.head_name, f.area_id, f.colour, f.score, f.primary_type FROM families f ORDER BY f.id")
    ).all()
    incomes = db.session.execute(
        text("SELECT family_id, month, amount_fen FROM incomes ORDER BY family_id, month")
    ).all()
    members = db.session.execute(text("SELECT family_id, name, id_index, birth_date FROM members ORDER BY id")).all()
    return hashlib.sha256(repr((rows, incomes, members)).encode()).hexdigest()


def test_demo_data_is_realistic_and_prints_logins(runner):
    result = runner.invoke(args=["demo-data", "--families", "300", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "admin" in result.output and "cw01" in result.output and "demo-pass-2026" in result.output
    assert db.session.scalar(select(func.count(Family.id))) == 300
    colours = {c for (c,) in db.session.execute(select(Family.colour).distinct())}
    assert colours == set(Colour)
    types = {t for (t,) in db.session.execute(select(Family.primary_type).distinct())}
    assert types == set(ProfileType), types
    assert db.session.scalar(select(func.count(Member.id))) > 300
    assert db.session.scalar(select(func.count(Income.id))) >= 300 * 12
    assert db.session.scalar(select(func.count(ColourChange.id))) > 300  # intake colours plus real changes
    assert db.session.scalar(select(func.count(User.id)).where(User.role == "caseworker")) == 10
    # into a non-empty database it refuses (or, with --if-empty, quietly does nothing)
    assert runner.invoke(args=["demo-data", "--families", "10"]).exit_code != 0
    assert runner.invoke(args=["demo-data", "--if-empty"]).exit_code == 0


def test_demo_data_is_deterministic(database, tmp_path):
    """The same seed into a fresh database gives the same city, twice."""
    import shutil

    from assist import create_app
    from tests.conftest import POSTGRES, _truncate_postgres

    prints = []
    for run in range(2):
        if POSTGRES:
            _truncate_postgres(database)
            url = database
        else:
            path = tmp_path / f"demo{run}.db"
            shutil.copy(database, path)
            url = f"sqlite:///{path}"
        app = create_app("test", SQLALCHEMY_DATABASE_URI=url)
        with app.app_context():
            assert app.test_cli_runner().invoke(args=["demo-data", "--families", "120", "--seed", "11"]).exit_code == 0
            prints.append(_fingerprint())
            db.session.remove()
            db.engine.dispose()
    assert prints[0] == prints[1]
