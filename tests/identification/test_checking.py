"""Checking an import's rows in a process of its own (large files): the same rows, rejects and candidates as the
checking thread, errors where they happened, and no process left behind when the writer stops or is killed."""

import os
import pickle
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, func, select

from assist import crypto
from assist.enums import ImportStatus
from assist.extensions import db
from assist.identification import checking, columns, operations
from assist.identification.models import Candidate, ImportedPerson, ImportReject, WorkerImport
from tests.conftest import ROOT
from tests.identification.helpers import AREA_A, AREA_B, csv_file, new_id, queued_import_file, row


@pytest.fixture
def paths(monkeypatch):
    """Which way each import's rows were checked ("thread" or "process")."""
    used = []
    for cls, name in ((checking.ReadAhead, "thread"), (checking.CheckingProcess, "process")):
        real = cls.__enter__

        def entered(self, real=real, name=name):
            used.append((name, self))
            return real(self)

        monkeypatch.setattr(cls, "__enter__", entered)
    return used


def _mixed_file(world) -> bytes:
    """Good rows, bad ones, a duplicate in a later batch, and a person already on a family file."""
    head = next(m for m in world.family_a.members if m.relation.value == "self")
    same = new_id()
    rows = [row(income=str(100 + 37 * i), area=(AREA_A, AREA_B)[i % 2]) for i in range(30)]
    rows[3] = row(id_number=same)
    rows[7][1] = "330482197506010000"  # digits lost by Excel
    rows[12][6] = "12.345"  # three decimals
    rows[20] = row(id_number=same)  # the duplicate of row 5
    rows[25] = row(name=head.name, id_number=crypto.decrypt(head.id_cipher), ability="丧失", phone="13911112222")
    return csv_file(rows)


def _stored(imp_id: int) -> dict:
    """What an import stored, comparable between two runs (ID numbers decrypted: each encryption has its own IV)."""
    skip = {"id", "import_id", "id_cipher"}
    people = [
        ({c: v for c, v in vars(p).items() if c not in skip and not c.startswith("_")}, crypto.decrypt(p.id_cipher))
        for p in db.session.scalars(
            select(ImportedPerson).where(ImportedPerson.import_id == imp_id).order_by(ImportedPerson.row_number)
        )
    ]
    rejects = [
        # the rows as they were decrypted, like the ID numbers
        SimpleNamespace(row_number=r.row_number, problems=r.problems, raw=r.raw)
        for r in db.session.scalars(
            select(ImportReject).where(ImportReject.import_id == imp_id).order_by(ImportReject.row_number)
        )
    ]
    candidates = db.session.execute(
        select(ImportedPerson.row_number, Candidate.id_index, Candidate.area_id, Candidate.score, Candidate.family_id)
        .join(ImportedPerson, ImportedPerson.id == Candidate.person_id)
        .order_by(ImportedPerson.row_number)
    ).all()
    imp = db.session.get(WorkerImport, imp_id)
    counts = (imp.status, imp.rows, imp.imported, imp.rejected, imp.candidates, imp.linked, imp.processed_row)
    return {"people": people, "rejects": rejects, "candidates": candidates, "counts": counts}


def _forget_imports() -> None:
    db.session.execute(delete(Candidate))
    db.session.execute(delete(ImportReject))
    db.session.execute(delete(ImportedPerson))
    db.session.execute(delete(WorkerImport))
    db.session.commit()


def _run(app, content: bytes, processes: bool, batch: int = 7) -> WorkerImport:
    app.config["IMPORT_PROCESSES"] = processes
    imp, _ = operations.create_import(None, content, "w.csv", "other")
    db.session.commit()
    done = operations.run_import(imp.id, batch=batch)
    db.session.expire_all()
    return done


def test_the_checking_process_stores_what_the_thread_stores(app, world, monkeypatch, paths):
    monkeypatch.setattr(checking, "PROCESS_MIN_ROWS", 0)
    content = _mixed_file(world)
    by_thread = _stored(_run(app, content, processes=False).id)
    _forget_imports()
    by_process = _stored(_run(app, content, processes=True).id)
    assert [name for name, _reader in paths] == ["thread", "process"]
    assert by_process == by_thread
    assert by_thread["counts"] == (ImportStatus.DONE, 30, 27, 3, 27, 1, 31)
    assert [r.row_number for r in by_thread["rejects"]] == [9, 14, 22]
    assert by_thread["rejects"][2].problems[-1]["params"] == {"row": 5}
    assert sum(p["family_id"] is not None for p, _id in by_thread["people"]) == 1


@pytest.mark.parametrize("parts", [1, 2, 3])
def test_processes_sharing_a_file_find_the_duplicates_across_their_batches(app, world, monkeypatch, paths, parts):
    """Several checking processes each check every n-th batch: a duplicate of a row in another process's batch (good
    or bad itself) is still found, naming the first row, exactly as one thread finds it."""
    monkeypatch.setattr(checking, "PROCESS_MIN_ROWS", 0)
    monkeypatch.setattr(checking, "cores", lambda: 4)
    monkeypatch.setattr(checking, "MAX_CHECKERS", parts)
    ids = [new_id() for _ in range(9)]
    rows = [row(id_number=ids[i % 9], income=str(100 + i)) for i in range(40)]
    rows[12][6] = "12.345"  # bad, and a duplicate of row 5 as well
    rows[7][1] = ids[7][:-1]  # a short ID number: row 9 is rejected, and row 18 is the first with that number
    content = csv_file(rows)
    by_thread = _stored(_run(app, content, processes=False, batch=4).id)
    _forget_imports()
    by_process = _stored(_run(app, content, processes=True, batch=4).id)
    assert [name for name, _reader in paths] == ["thread", "process"]
    assert len(paths[1][1].processes) == parts
    assert by_process == by_thread
    assert [p["row_number"] for p, _id in by_thread["people"]] == [2, 3, 4, 5, 6, 7, 8, 10, 18]
    duplicate_of = {r.row_number: r.problems[-1]["params"].get("row") for r in by_thread["rejects"]}
    assert duplicate_of[14] == 5 and duplicate_of[41] == 5 and duplicate_of[27] == duplicate_of[36] == 18
    assert [p["code"] for p in next(r for r in by_thread["rejects"] if r.row_number == 14).problems][-1] == "duplicate"


def test_small_files_are_checked_in_a_thread_large_ones_in_a_process(app, world, monkeypatch, paths):
    monkeypatch.setattr(checking, "PROCESS_MIN_ROWS", 20)
    _run(app, csv_file([row() for _ in range(19)]), processes=True)
    _run(app, csv_file([row() for _ in range(20)]), processes=True)
    _run(app, csv_file([row() for _ in range(21)]), processes=False)
    assert [name for name, _reader in paths] == ["thread", "process", "thread"]


def test_a_row_the_checking_process_cannot_read_fails_the_import_after_the_batches_before_it(app, world, monkeypatch):
    monkeypatch.setattr(checking, "PROCESS_MIN_ROWS", 0)
    rows = [row(income=str(100 + i)) for i in range(12)]
    rows[7][4] = "x" * 200_000  # longer than the CSV reader's field limit: row 9 cannot be read
    done = _run(app, csv_file(rows), processes=True, batch=3)
    assert done.status == ImportStatus.FAILED and "9" in done.error
    assert (done.rows, done.processed_row) == (6, 7)
    assert sorted(db.session.scalars(select(ImportedPerson.row_number))) == [2, 3, 4, 5, 6, 7]


def test_a_failing_checking_process_fails_the_import(app, world, monkeypatch):
    monkeypatch.setattr(checking, "PROCESS_MIN_ROWS", 0)
    # the context's keys are sent to the process: an unusable one fails there, on the first row it encrypts
    real = operations._context

    def broken_key(imp):
        ctx = real(imp)
        ctx.field_key = "not a key"
        return ctx

    monkeypatch.setattr(operations, "_context", broken_key)
    done = _run(app, csv_file([row() for _ in range(5)]), processes=True)
    assert done.status == ImportStatus.FAILED and done.rows == 0
    assert db.session.scalar(select(func.count()).select_from(ImportedPerson)) == 0


def test_a_stopped_writer_ends_the_checking_process(app, world, monkeypatch, paths):
    monkeypatch.setattr(checking, "PROCESS_MIN_ROWS", 0)

    def dies(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(operations, "_write_batch", dies)
    with pytest.raises(KeyboardInterrupt):
        _run(app, csv_file([row(income=str(100 + i)) for i in range(40)]), processes=True, batch=2)
    db.session.rollback()
    (name, checker), *_ = paths
    assert name == "process" and checker.processes
    assert all(process.poll() is not None for process in checker.processes)


def test_the_row_context_travels_to_another_process_whole():
    ctx = columns.RowContext(
        headers=["姓名"],
        mapping={"name": 0},
        areas={AREA_A: 1},
        scope=frozenset({1}),
        rules={"threshold": 40},
        line_fen=100,
        today=None,
        seen={"abc": 2},
        field_key="k",
        index_key="i",
    )
    again = pickle.loads(pickle.dumps(ctx))
    assert again == ctx and again.plan and again.indexes == ctx.indexes
    assert [step[:3] for step in again.plan] == [step[:3] for step in ctx.plan]


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return any(line.split()[:2] == ["State:", "Z"] for line in fh)
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
def test_a_killed_writer_leaves_no_checking_process_and_is_rerun(app, world, database_url, tmp_path, runner):
    """The importing process is killed with SIGKILL mid-file: its checking process ends by itself, and
    `assist import workers` then finishes the job without duplicates."""
    path, imp_id = queued_import_file(tmp_path)
    script = f"""
import time
from assist import create_app
from assist.identification import checking, operations
checking.PROCESS_MIN_ROWS = 0
app = create_app("test", SQLALCHEMY_DATABASE_URI={database_url!r})
real_enter, real_write = checking.CheckingProcess.__enter__, operations._write_batch
def enter(self):
    real_enter(self)
    for process in self.processes:
        print("checker", process.pid, flush=True)
    return self
def slow(*args, **kwargs):
    real_write(*args, **kwargs)
    print("batch", flush=True)
    time.sleep(0.3)
checking.CheckingProcess.__enter__, operations._write_batch = enter, slow
with app.app_context():
    operations.run_import({imp_id}, batch=20)
print("finished", flush=True)
"""
    worker = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ}
    )
    checkers, seen = [], 0
    while seen < 2:
        line = worker.stdout.readline()
        assert line, "the worker ended early"
        if line.startswith("checker"):
            checkers.append(int(line.split()[1]))
        seen += line.startswith("batch")
    assert checkers and not any(_gone(pid) for pid in checkers)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)
    deadline = time.monotonic() + 20
    while not all(_gone(pid) for pid in checkers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(_gone(pid) for pid in checkers), "a checking process outlived its writer"
    result = runner.invoke(args=["import", "workers", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("rows 300, imported 300, rejected 0, candidates ")
    numbers = db.session.scalars(select(ImportedPerson.row_number)).all()
    assert len(numbers) == 300 == len(set(numbers))


def test_reader_refusals_cross_the_process_boundary_as_refusals(app, world, monkeypatch):
    """A refusal keeps its message (the import shows it), whatever checked the rows."""
    monkeypatch.setattr(checking, "PROCESS_MIN_ROWS", 0)
    rows = [row() for _ in range(3)]
    rows[1][4] = "y" * 200_000
    content = csv_file(rows)
    by_thread = _run(app, content, processes=False)
    by_thread = (by_thread.status, by_thread.error)
    _forget_imports()
    by_process = _run(app, content, processes=True)
    assert (by_process.status, by_process.error) == by_thread
    assert by_thread[0] == ImportStatus.FAILED and "131072" in by_thread[1]


def test_a_large_batch_size_starts_with_a_slice_so_the_writer_starts_early(app, world, monkeypatch):
    monkeypatch.setattr(checking, "SLICE", 3)
    real, sizes = operations._write_batch, []

    def counted(imp_id, source, owner, ctx, persons, rejects, last):
        sizes.append(len(persons) + len(rejects))
        return real(imp_id, source, owner, ctx, persons, rejects, last)

    monkeypatch.setattr(operations, "_write_batch", counted)
    done = _run(app, csv_file([row(income=str(100 + i)) for i in range(20)]), processes=False, batch=7)
    assert sizes == [3, 7, 7, 3] and (done.status, done.rows, done.processed_row) == (ImportStatus.DONE, 20, 21)
    sizes.clear()
    _run(app, csv_file([row(income=str(200 + i)) for i in range(5)]), processes=False, batch=2)
    assert sizes == [2, 2, 1]


@pytest.mark.parametrize(
    "available, file_format, expected",
    [(1, "csv", "thread"), (2, "csv", 1), (4, "csv", 3), (16, "csv", 4), (8, "xlsx", 1)],
)
def test_each_core_but_the_writers_checks_a_share_of_a_large_csv_file(monkeypatch, available, file_format, expected):
    monkeypatch.setattr(checking, "cores", lambda: available)
    reading = checking.read_ahead((b"", file_format, "utf-8", 1), None, 10, 1, rows=checking.PROCESS_MIN_ROWS)
    assert (reading.parts if isinstance(reading, checking.CheckingProcess) else "thread") == expected
