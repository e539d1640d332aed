"""instance/, the SQLite file and the keys are for their owner alone, whatever the umask."""

import os
import stat

import pytest

from assist import create_app
from assist.extensions import db
from config import instance_keys


@pytest.fixture
def loose_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_sqlite_file_and_its_directory_are_the_owners_alone(tmp_path, loose_umask):
    path = tmp_path / "instance" / "assist.db"
    app = create_app("test", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    assert _mode(path.parent) == 0o700
    assert _mode(path) == 0o600
    with app.app_context():
        db.session.execute(db.text("CREATE TABLE t (x INTEGER)"))
        db.session.commit()
        db.engine.dispose()
    assert _mode(path) == 0o600  # SQLite opened the file made for it, keeping its mode


def test_a_readable_sqlite_file_left_by_an_earlier_version_is_tightened(tmp_path, loose_umask):
    path = tmp_path / "old.db"
    path.write_bytes(b"")
    path.chmod(0o644)
    create_app("test", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    assert _mode(path) == 0o600


def test_the_keys_file_and_its_directory_are_the_owners_alone(tmp_path, loose_umask):
    path = tmp_path / "instance" / "keys.json"
    keys = instance_keys(path)
    assert _mode(path.parent) == 0o700 and _mode(path) == 0o600
    assert instance_keys(path) == keys
