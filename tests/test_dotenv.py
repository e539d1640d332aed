"""Configuration is read one way, from the environment (README, Configuration): a ``.env`` file in the working
directory is not read by the ``assist`` command (issue 10, item 13). Before, Flask's CLI loaded it after config.py had
read DATABASE_URL, so a production ``.env`` half applied and sent ``assist db upgrade`` to the development SQLite file.

The commands run in a subprocess in a temporary directory, as an operator would run them."""

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _assist(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """``assist ARGS`` in ``cwd`` with the environment given (nothing of this process's configuration).

    config.py runs from a copy in ``cwd/code``, so the development defaults (instance/assist.db, instance/keys.json)
    are made there rather than in the repository's instance folder."""
    code = cwd / "code"
    if not code.exists():
        code.mkdir()
        shutil.copy(ROOT / "config.py", code / "config.py")
        (code / "migrations").symlink_to(ROOT / "migrations")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ASSIST_", "DATABASE_URL", "FLASK_", "SECRET_"))}
    clean.update(PYTHONPATH=f"{code}{os.pathsep}{ROOT}", **env)
    return subprocess.run(
        [sys.executable, "-c", "from assist.cli import main; main()", *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_a_dotenv_file_is_not_read(tmp_path):
    """A production .env (ASSIST_ENV and DATABASE_URL, the keys forgotten) in the working directory, nothing in the
    environment: `assist db upgrade` runs with the development defaults, as the README says, and never touches the
    .env's database. (Read, it half applied: production mode from the .env, the database from the defaults.)"""
    dotenv_db = tmp_path / "from_dotenv.db"
    (tmp_path / ".env").write_text(f"ASSIST_ENV=production\nDATABASE_URL=sqlite:///{dotenv_db}\n")
    result = _assist(tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "production" not in result.stderr + result.stdout
    assert {"alembic_version", "families"} <= _tables(tmp_path / "code" / "instance" / "assist.db")
    assert not dotenv_db.exists()


def test_db_upgrade_goes_where_the_environment_says(tmp_path):
    """DATABASE_URL set in the environment is the database `assist db upgrade` builds, whatever a .env says."""
    env_db, dotenv_db = tmp_path / "from_environment.db", tmp_path / "from_dotenv.db"
    (tmp_path / ".env").write_text(f"DATABASE_URL=sqlite:///{dotenv_db}\nASSIST_ENV=production\n")
    result = _assist(tmp_path, "db", "upgrade", ASSIST_ENV="test", DATABASE_URL=f"sqlite:///{env_db}")
    assert result.returncode == 0, result.stderr
    assert {"alembic_version", "families", "stipend_records"} <= _tables(env_db)
    assert not dotenv_db.exists()


def test_an_env_file_cannot_be_named_either(tmp_path):
    """Flask's -e/--env-file would load a file the same half way: the command does not take it."""
    (tmp_path / "prod.env").write_text(f"DATABASE_URL=sqlite:///{tmp_path / 'named.db'}\n")
    result = _assist(tmp_path, "-e", "prod.env", "db", "upgrade", ASSIST_ENV="test")
    assert result.returncode == 2 and "-e" in result.stderr
    result = _assist(tmp_path, "db", "upgrade", ASSIST_ENV="test", FLASK_ENV_FILE="prod.env")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "named.db").exists()
