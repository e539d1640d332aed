"""Importing and screening without HTTP: counts, rejects at the right rows, idempotence, resuming, linking to family
files, and the candidate queue's operations."""

import os
import signal
import subprocess
import sys
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select, text, update

from assist.audit.models import AuditEntry
from assist.db_types import local_today
from assist.enums import CandidateStatus, ImportStatus
from assist.errors import Conflict, ValidationFailed
from assist.extensions import db
from assist.families.models import Family, Member
from assist.identification import operations, samples
from assist.identification.models import Candidate, ColumnMapping, ImportedPerson, ImportReject, WorkerImport
from tests.conftest import ROOT
from tests.identification.helpers import AREA_A, AREA_B, csv_file, import_file, new_id, queued_import_file, row


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_clean_file_is_imported_screened_and_queued(app, world):
    rows = [row(income="600", size="2"), row(income="9000", size="2"), row(ability="丧失", income="9000")]
    imp = import_file(world.admin, csv_file(rows))
    assert imp.status == ImportStatus.DONE
    assert (imp.rows, imp.imported, imp.rejected, imp.candidates) == (3, 3, 0, 1)
    assert imp.total_rows == 3 and imp.progress == 100
    people = db.session.scalars(select(ImportedPerson).order_by(ImportedPerson.row_number)).all()
    assert [p.row_number for p in people] == [2, 3, 4]
    assert people[0].reasons == [["low_income", 40]] and people[0].score == 40
    assert people[1].reasons == [] and people[1].score == 0
    assert people[2].reasons == [["lost_work_ability", 30]]  # 30 < 40: not a candidate
    queue = db.session.scalars(select(Candidate)).all()
    assert {c.person.row_number for c in queue} == {2}


def test_id_numbers_are_never_stored_in_clear(app, world):
    rows = [row(), row()]
    import_file(world.admin, csv_file(rows))
    dump = repr(db.session.execute(text("SELECT * FROM imported_persons")).all())
    dump += repr(db.session.execute(text("SELECT * FROM candidates")).all())
    for r in rows:
        assert r[1] not in dump
    person = db.session.scalars(select(ImportedPerson)).first()
    from assist import crypto

    assert crypto.decrypt(person.id_cipher) in {r[1] for r in rows}


def test_the_rejects_point_at_the_right_rows(app, world):
    rows, spoilt = samples.with_bad_rows(samples.worker_rows(20, areas=(AREA_A,), extras=False))
    imp = import_file(world.admin, samples.to_csv(rows, headers=samples.STANDARD_HEADERS))
    rejects = {r.row_number: r for r in db.session.scalars(select(ImportReject))}
    assert set(rejects) == set(spoilt)
    for number, field in spoilt.items():
        assert field in {p["field"] for p in rejects[number].problems}, number
        assert rejects[number].raw == [str(v) for v in rows[number - 2]]
    assert imp.rejected == len(spoilt) and imp.imported == 20 - len(spoilt)
    assert _count(ImportedPerson) == imp.imported


def test_the_rejects_report_lists_each_row_and_neutralises_formulas(app, world):
    from openpyxl import load_workbook

    rows, spoilt = samples.with_bad_rows(samples.worker_rows(20, areas=(AREA_A,), extras=False))
    imp = import_file(world.admin, samples.to_xlsx(rows, headers=samples.STANDARD_HEADERS), "w.xlsx")
    with app.test_request_context():
        content = operations.rejects_workbook(imp)
    sheet = load_workbook(__import__("io").BytesIO(content)).active
    lines = list(sheet.iter_rows(values_only=True))
    assert [line[0] for line in lines[1:]] == sorted(spoilt)
    assert lines[0][3:13] == tuple(samples.STANDARD_HEADERS)
    formula_row = next(line for line in lines[1:] if str(line[3]).startswith("'="))
    assert formula_row[3].startswith("'=HYPERLINK")
    assert all(not str(cell).startswith(("=", "+", "-", "@")) for line in lines for cell in line if cell is not None)


def test_a_second_import_of_the_same_file_changes_nothing(app, world):
    content = csv_file([row(), row(id_number="bad")])
    first = import_file(world.admin, content)
    before = (_count(ImportedPerson), _count(ImportReject), _count(Candidate), _count(WorkerImport))
    again, created = operations.create_import(world.admin, content, "renamed.csv", "other")
    db.session.commit()
    assert not created and again.id == first.id
    assert (_count(ImportedPerson), _count(ImportReject), _count(Candidate), _count(WorkerImport)) == before


def test_someone_elses_file_is_a_conflict_not_a_leak(app, world):
    content = csv_file([row()])
    import_file(world.cw_a, content)
    with pytest.raises(Conflict):
        operations.create_import(world.cw_b, content, "x.csv", "other")


def test_the_original_file_is_kept(app, world):
    content = csv_file([row()])
    imp = import_file(world.admin, content, "原始名单.csv")
    assert imp.content == content and imp.filename == "原始名单.csv" and imp.size == len(content)


def test_a_caseworker_imports_only_into_their_areas(app, world):
    imp = import_file(world.cw_a, csv_file([row(area=AREA_A), row(area=AREA_B)]))
    assert (imp.imported, imp.rejected) == (1, 1)
    reject = db.session.scalars(select(ImportReject)).one()
    assert reject.problems[0]["code"] == "area_outside" and reject.row_number == 3


def test_duplicates_inside_the_file_are_rejected_with_the_first_row(app, world):
    same = new_id()
    imp = import_file(world.admin, csv_file([row(id_number=same), row(), row(id_number=same)]))
    reject = db.session.scalars(select(ImportReject)).one()
    assert reject.row_number == 4 and reject.problems[0]["params"] == {"row": 2}
    assert imp.imported == 2


def test_an_interrupted_import_resumes_without_duplicates(app, world, monkeypatch):
    rows = [row(income=str(100 + i)) for i in range(23)]
    rows[10][1] = "bad"
    imp, _ = operations.create_import(world.admin, csv_file(rows), "w.csv", "other")
    db.session.commit()
    real = operations._write_batch
    calls = []

    def dies_on_the_third_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the process is stopped in the middle of a batch
        return real(*args, **kwargs)

    monkeypatch.setattr(operations, "_write_batch", dies_on_the_third_batch)
    with pytest.raises(KeyboardInterrupt):
        operations.run_import(imp.id, batch=5)
    db.session.rollback()
    half = db.session.get(WorkerImport, imp.id)
    db.session.refresh(half)
    assert half.status == ImportStatus.RUNNING and half.rows == 10 and half.processed_row == 11
    monkeypatch.setattr(operations, "_write_batch", real)
    # the same worker (or one after the lease) picks it up again
    done = operations.run_import(imp.id, owner=half.owner, batch=5)
    assert done.status == ImportStatus.DONE
    assert (done.rows, done.imported, done.rejected) == (23, 22, 1)
    assert _count(ImportedPerson) == 22 and _count(Candidate) == 22
    numbers = db.session.scalars(select(ImportedPerson.row_number)).all()
    assert len(numbers) == len(set(numbers))


def test_a_running_import_is_not_taken_from_a_live_worker(app, world):
    imp, _ = operations.create_import(world.admin, csv_file([row()]), "w.csv", "other")
    db.session.commit()
    assert operations.claim(imp.id, "elsewhere:1")
    assert not operations.claim(imp.id, "another:2")
    assert operations.pending_imports() == []
    # a lease not renewed for longer than LEASE is taken over
    db.session.execute(update(WorkerImport).values(heartbeat_at=datetime(2020, 1, 1, tzinfo=UTC)))
    db.session.commit()
    assert operations.pending_imports() == [imp.id]
    assert operations.run_import(imp.id).status == ImportStatus.DONE


def test_a_killed_import_process_is_rerun_without_duplicates(app, world, database_url, tmp_path, runner):
    """A real process, killed with SIGKILL after two batches; `assist import workers` then finishes the job."""
    path, imp_id = queued_import_file(tmp_path)
    script = f"""
import sys, time
from assist import create_app
from assist.identification import operations
app = create_app("test", SQLALCHEMY_DATABASE_URI={database_url!r})
real = operations._write_batch
def slow(*args, **kwargs):
    real(*args, **kwargs)
    print("batch", flush=True)
    time.sleep(0.3)
operations._write_batch = slow
with app.app_context():
    operations.run_import({imp_id}, batch=40)
print("finished", flush=True)
"""
    worker = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ}
    )
    seen = 0
    while seen < 2:
        line = worker.stdout.readline()
        assert line, "the worker ended early"
        seen += line.startswith("batch")
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)
    db.session.expire_all()
    half = db.session.get(WorkerImport, imp_id)
    assert half.status == ImportStatus.RUNNING and 80 <= half.rows < 300
    result = runner.invoke(args=["import", "workers", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "rows 300, imported 300, rejected 0, candidates " + str(
        _count(ImportedPerson, ImportedPerson.score >= 40)
    )
    numbers = db.session.scalars(select(ImportedPerson.row_number)).all()
    assert len(numbers) == 300 == len(set(numbers))
    assert _count(Candidate) == len(set(db.session.scalars(select(Candidate.id_index)).all()))


def test_a_person_on_a_family_file_is_linked_not_duplicated(app, world):
    head = next(m for m in world.family_a.members if m.relation.value == "self")
    from assist import crypto

    id_number = crypto.decrypt(head.id_cipher)
    imp = import_file(
        world.admin,
        csv_file([row(name=head.name, id_number=id_number, income="9000", ability="丧失", phone="13911112222")]),
    )
    person = db.session.scalars(select(ImportedPerson)).one()
    assert person.family_id == world.family_a.id and person.member_id == head.id and person.differs
    assert imp.linked == 1
    candidate = db.session.scalars(select(Candidate)).one()
    assert candidate.family_id == world.family_a.id
    member, changes = operations.pending_changes(candidate)
    assert member.id == head.id
    assert changes == {
        "work_ability": ["full", "none"],
        "phone": ["13800000000", "13911112222"],
        "employer": ["", "平湖某厂"],
    }
    with pytest.raises(Conflict):
        operations.file_family(world.cw_a, candidate, {})
    operations.apply_changes(world.cw_a, candidate, ["work_ability"])
    db.session.commit()
    db.session.refresh(head)
    assert head.work_ability.value == "none" and world.family_a.phone == "13800000000"
    assert candidate.status == CandidateStatus.FILED
    actions = {(e.action, e.entity_type) for e in db.session.scalars(select(AuditEntry))}
    assert {("update", "member"), ("apply_changes", "candidate")} <= actions
    assert _count(Member) == 3 and _count(Family) == 2


def test_a_person_already_in_the_queue_is_refreshed_by_a_later_file(app, world):
    same = new_id()
    import_file(world.admin, csv_file([row(id_number=same, income="900")]))
    first = db.session.scalars(select(Candidate)).one()
    import_file(world.admin, csv_file([row(id_number=same, income="100", ability="丧失"), row()]))
    assert _count(Candidate) == 2
    db.session.refresh(first)
    assert first.score == 70 and first.person.income_fen == 10_000
    # once decided, the person may come back as a new entry
    operations.dismiss(world.admin, first, "核实后收入已恢复")
    db.session.commit()
    import_file(world.admin, csv_file([row(id_number=same, income="50")]))
    assert _count(Candidate, Candidate.id_index == first.id_index) == 2


def test_the_candidate_is_worked_from_assignment_to_a_family_file(app, world):
    import_file(world.cw_a, csv_file([row(name="钱多多", income="500", health="大病")]))
    c = db.session.scalars(select(Candidate)).one()
    with pytest.raises(Conflict):
        operations.file_family(world.cw_a, c, {})  # not visited yet
    operations.assign_to_self(world.cw_a, c)
    assert c.status == CandidateStatus.ASSIGNED and c.assigned_to_id == world.cw_a.id
    with pytest.raises(ValidationFailed):
        operations.record_visit(world.cw_a, c, date(2999, 1, 1), "")
    operations.record_visit(world.cw_a, c, local_today(), "走访核实：夫妻二人，妻子患尿毒症")
    data = {**operations.prefill(c), "hardship_category": "deep", "members": []}
    data.pop("area_id")
    data["area_code"] = AREA_A
    family = operations.file_family(world.cw_a, c, data)
    db.session.commit()
    assert c.status == CandidateStatus.FILED and c.family_id == family.id
    head = family.members[0]
    assert head.name == "钱多多" and head.id_masked == c.person.id_masked and head.health.value == "serious_illness"
    assert family.colour is not None
    actions = [
        e.action
        for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.entity_type == "candidate").order_by(AuditEntry.id)
        )
    ]
    assert actions == ["assign", "visit", "file"]
    with pytest.raises(Conflict):
        operations.dismiss(world.cw_a, c, "too late")


def test_dismissal_needs_a_reason(app, world):
    import_file(world.cw_a, csv_file([row()]))
    c = db.session.scalars(select(Candidate)).one()
    for reason in ("", "  ", "x" * 201):
        with pytest.raises(ValidationFailed):
            operations.dismiss(world.cw_a, c, reason)
    operations.dismiss(world.cw_a, c, "已享受低保，不符合条件")
    assert c.status == CandidateStatus.DISMISSED


def test_the_queue_is_scoped_sorted_and_counted(app, world):
    import_file(
        world.admin, csv_file([row(area=AREA_A, income="100", ability="丧失"), row(area=AREA_A), row(area=AREA_B)])
    )
    a_scores = [c.score for c in db.session.scalars(operations.candidate_query(world.cw_a))]
    assert a_scores == [70, 40]
    assert [c.area.code for c in db.session.scalars(operations.candidate_query(world.cw_b))] == [AREA_B]
    assert len(db.session.scalars(operations.candidate_query(world.cw_city)).all()) == 3
    assert operations.queue_counts(world.cw_a) == {("civil_affairs", "new"): 2}


def test_unmapped_files_wait_for_a_mapping_which_is_remembered(app, world):
    headers = ["Full name", "Citizen ID", "Community", "Income"]
    content = samples.to_csv([["孙悟空", new_id(), AREA_A, "300"]], headers=headers)
    imp, _ = operations.create_import(world.admin, content, "other.csv", "medical_insurance")
    assert imp.status == ImportStatus.MAPPING
    with pytest.raises(ValidationFailed) as info:
        operations.set_mapping(world.admin, imp, {"name": 0, "id_number": 0})
    assert set(info.value.fields) == {"id_number", "area_code"}
    operations.set_mapping(world.admin, imp, {"name": 0, "id_number": 1, "area_code": 2, "monthly_income_yuan": 3})
    db.session.commit()
    assert db.session.get(ColumnMapping, "medical_insurance").mapping["id_number"] == "Citizen ID"
    done = operations.run_import(imp.id)
    assert (done.imported, done.candidates) == (1, 1)
    # the next file from that source with those headers needs no mapping
    again = samples.to_csv([["猪八戒", new_id(), AREA_A, "5000"]], headers=headers)
    second, _ = operations.create_import(world.admin, again, "other2.csv", "medical_insurance")
    assert second.status == ImportStatus.QUEUED and second.mapping == {
        "name": 0,
        "id_number": 1,
        "area_code": 2,
        "monthly_income_yuan": 3,
    }


def test_a_failing_file_is_marked_failed_with_the_reason(app, world, monkeypatch):
    imp, _ = operations.create_import(world.admin, csv_file([row(), row()]), "w.csv", "other")
    db.session.commit()
    monkeypatch.setattr("assist.identification.reader.MAX_ROWS", 1)
    done = operations.run_import(imp.id)
    assert done.status == ImportStatus.FAILED and done.error


def test_the_sample_files_import_into_the_demo_city(app):
    from assist.demo import build_areas

    build_areas()
    db.session.commit()
    results = {}
    for name, content in samples.sample_files():
        imp = import_file(None, content, name)
        results[name] = (imp.status, imp.rows, imp.rejected)
    assert results["workers-clean.xlsx"] == (ImportStatus.DONE, 200, 0)
    assert results["workers-with-errors.csv"] == (ImportStatus.DONE, 60, 7)
    assert results["workers-gb18030.csv"] == (ImportStatus.DONE, 60, 0)
    assert db.session.get(WorkerImport, 3).encoding == "gb18030"


@pytest.mark.parametrize(("n", "batch", "writes"), [(10, 5, 3), (11, 5, 3), (4, 5, 1), (1, 1, 2)])
def test_batches_end_where_the_file_ends(app, world, monkeypatch, n, batch, writes):
    """Full batches, a short last one, or a file ending exactly at a batch's end (then one empty write, the import's
    last sign of life): every row is written once and progress reaches the last row."""
    rows = [row(income=str(100 + i)) for i in range(n)]
    imp, _ = operations.create_import(world.admin, csv_file(rows), "w.csv", "other")
    db.session.commit()
    real, sizes = operations._write_batch, []

    def counted(imp_id, source, owner, ctx, persons, rejects, last):
        sizes.append((len(persons) + len(rejects), last))
        return real(imp_id, source, owner, ctx, persons, rejects, last)

    monkeypatch.setattr(operations, "_write_batch", counted)
    done = operations.run_import(imp.id, batch=batch)
    assert done.status == ImportStatus.DONE and (done.rows, done.imported) == (n, n)
    assert done.processed_row == n + 1 and _count(ImportedPerson) == n == _count(Candidate)
    assert len(sizes) == writes and sum(s for s, _last in sizes) == n
    assert [last for _s, last in sizes] == sorted(last for _s, last in sizes)


def test_running_a_finished_import_again_creates_nothing(app, world):
    imp = import_file(world.admin, csv_file([row(), row(), row()]))
    before = (_count(ImportedPerson), _count(Candidate), _count(ImportReject))
    # as if the worker died after its last batch, before marking the import done
    db.session.execute(update(WorkerImport).values(status=ImportStatus.RUNNING, owner="gone:1"))
    db.session.commit()
    done = operations.run_import(imp.id, owner="gone:1", batch=2)
    assert done.status == ImportStatus.DONE and (done.rows, done.imported) == (3, 3)
    assert (_count(ImportedPerson), _count(Candidate), _count(ImportReject)) == before


def test_a_file_refused_midway_keeps_the_batches_before_it(app, world, monkeypatch):
    """The reading thread's error comes out where it happened in the file: the batches before it are written."""
    rows = [row(income=str(100 + i)) for i in range(12)]
    imp, _ = operations.create_import(world.admin, csv_file(rows), "w.csv", "other")
    db.session.commit()
    monkeypatch.setattr("assist.identification.reader.MAX_ROWS", 7)  # row 9 is one too many
    done = operations.run_import(imp.id, batch=3)
    assert done.status == ImportStatus.FAILED and "7" in done.error
    assert (done.rows, done.processed_row) == (6, 7)
    assert sorted(db.session.scalars(select(ImportedPerson.row_number))) == [2, 3, 4, 5, 6, 7]


def test_a_stopped_writer_stops_the_reading_thread(app, world, monkeypatch):
    import threading

    rows = [row(income=str(100 + i)) for i in range(40)]
    imp, _ = operations.create_import(world.admin, csv_file(rows), "w.csv", "other")
    db.session.commit()

    def dies(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(operations, "_write_batch", dies)
    with pytest.raises(KeyboardInterrupt):
        operations.run_import(imp.id, batch=2)
    db.session.rollback()
    assert not [t for t in threading.enumerate() if t.name == "import-reader"]


def test_an_id_number_repeated_in_a_later_batch_points_at_the_first_row(app, world):
    same = new_id()
    rows = [row(id_number=same), *[row() for _ in range(6)], row(id_number=same)]
    imp, _ = operations.create_import(world.admin, csv_file(rows), "w.csv", "other")
    db.session.commit()
    done = operations.run_import(imp.id, batch=3)
    assert (done.imported, done.rejected) == (7, 1)
    reject = db.session.scalars(select(ImportReject)).one()
    assert reject.row_number == 9 and reject.problems[-1]["params"] == {"row": 2}


def test_large_files_are_written_in_larger_batches():
    """A tenth of the file per batch, from BATCH rows (small files keep fine-grained progress) up to BATCH_MAX."""
    assert operations.batch_size(0) == operations.batch_size(500) == operations.BATCH
    assert operations.batch_size(60_000) == 6_000
    assert operations.batch_size(100_000) == operations.batch_size(200_000) == operations.BATCH_MAX
