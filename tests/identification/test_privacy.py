"""Import originals and rejected rows hold full ID numbers: encrypted at rest, every download logged, and the
originals deleted when their retention period ends."""

from datetime import date, timedelta

from sqlalchemy import func, select, text

from assist.audit.models import AuditEntry
from assist.extensions import db
from assist.identification import operations
from assist.identification.models import Candidate, ImportReject, WorkerImport, WorkerImportFile
from tests.identification.helpers import AREA_B, csv_file, import_file, new_id, row


def _import_with_a_reject(world):
    """cw_a's import: one good row, and one rejected (an area outside cw_a's) with a valid full ID number."""
    good, rejected = new_id(), new_id()
    imp = import_file(world.cw_a, csv_file([row(id_number=good), row(name="吴芳", id_number=rejected, area=AREA_B)]))
    assert (imp.imported, imp.rejected) == (1, 1)
    return imp, good, rejected


def test_originals_and_rejected_rows_are_encrypted_at_rest(app, world):
    imp, good, rejected = _import_with_a_reject(world)
    stored_file = db.session.execute(text("SELECT content FROM worker_import_files")).scalar_one()
    stored_file = bytes(stored_file)
    assert good.encode() not in stored_file and rejected.encode() not in stored_file
    stored_rows = " ".join(str(v) for row_ in db.session.execute(text("SELECT * FROM import_rejects")) for v in row_)
    assert rejected not in stored_rows and "吴芳" not in stored_rows
    # and read back as they were
    assert good.encode() in imp.content and rejected.encode() in imp.content
    assert rejected in db.session.scalars(select(ImportReject)).one().raw


def _audited(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_every_download_showing_full_numbers_is_logged(client, auth, world):
    imp, _good, rejected = _import_with_a_reject(world)
    auth.login("cw_a")
    original = client.get(f"/identification/imports/{imp.id}/original")
    assert original.status_code == 200 and rejected.encode() in original.data
    rejects = client.get(f"/identification/imports/{imp.id}/rejects.xlsx")
    assert rejects.status_code == 200
    client.get(f"/identification/imports/{imp.id}/rejects.xlsx")
    downloads = _audited("download_original")
    assert [(e.actor_id, e.entity_type, e.entity_id) for e in downloads] == [
        (world.cw_a.id, "worker_import", str(imp.id))
    ]
    assert len(_audited("download_rejects")) == 2
    # someone outside the import sees nothing, and nothing is logged for them
    auth.logout()
    auth.login("cw_b")
    assert client.get(f"/identification/imports/{imp.id}/original").status_code == 404
    assert len(_audited("download_original")) == 1


def test_originals_are_deleted_when_their_retention_period_ends(client, auth, app, world):
    from jobs import tasks

    imp, _good, rejected = _import_with_a_reject(world)
    finished = imp.finished_at
    days = app.config["IMPORT_ORIGINAL_DAYS"]
    assert days == 30
    assert operations.delete_old_originals(now=finished + timedelta(days=days) - timedelta(minutes=1)) == 0
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(WorkerImportFile)) == 1
    assert operations.delete_old_originals(now=finished + timedelta(days=days, minutes=1)) == 1
    db.session.commit()
    db.session.expire_all()
    imp = db.session.get(WorkerImport, imp.id)
    assert imp.content is None and imp.file is None
    assert db.session.scalars(select(ImportReject)).one().raw == []
    # the counts and reasons stay; running again changes nothing (the scheduler's job, on today's date, too)
    assert (imp.imported, imp.rejected) == (1, 1)
    assert db.session.scalars(select(ImportReject)).one().problems[0]["code"] == "area_outside"
    assert operations.delete_old_originals(now=finished + timedelta(days=days + 1)) == 0
    db.session.commit()
    assert tasks.delete_import_originals(app) == {"deleted": 0}
    auth.login("cw_a")
    page = client.get(f"/identification/imports/{imp.id}").get_data(as_text=True)
    assert 'id="original-link"' not in page and 'id="original-deleted"' in page
    gone = client.get(f"/identification/imports/{imp.id}/original")
    assert gone.status_code == 302 and gone.headers["Location"].endswith(f"/identification/imports/{imp.id}")
    assert _audited("download_original") == []
    rejects = client.get(f"/identification/imports/{imp.id}/rejects.xlsx")
    assert rejects.status_code == 200 and rejected.encode() not in rejects.data


def test_an_import_still_running_keeps_its_original(app, world):
    content = csv_file([row()])
    imp, _created = operations.create_import(world.cw_a, content, "queued.csv", "other")
    db.session.commit()
    assert operations.delete_old_originals(now=imp.created_at + timedelta(days=400)) == 0
    assert imp.content == content


def test_the_candidate_queue_and_import_screens_show_no_birth_date_beside_a_mask(client, auth, world):
    from tests.api.test_api import token_for
    from tests.families.test_privacy import _rebuildable

    numbers = [new_id(born) for born in (date(1958, 10, 17), date(1992, 12, 3))]
    imp = import_file(world.cw_a, csv_file([row(id_number=numbers[0]), row(name="吴芳", id_number=numbers[1])]))
    candidate_id = db.session.scalar(select(Candidate.id).order_by(Candidate.id))
    shown = {}
    headers = token_for(client, "cw_a")
    for url in ("/api/v1/candidates?status=all", f"/api/v1/imports/{imp.id}"):
        shown[url] = client.get(url, headers=headers).get_data(as_text=True)
    auth.login("cw_a")
    for url in (
        "/identification/candidates?status=all",
        f"/identification/candidates/{candidate_id}",
        f"/identification/imports/{imp.id}",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        shown[url] = response.get_data(as_text=True)
    assert numbers[0][:6] + "********" + numbers[0][-4:] in shown[f"/identification/candidates/{candidate_id}"]
    for url, body in shown.items():
        assert _rebuildable(body, numbers) == [], url
    stored = db.session.execute(text("SELECT * FROM imported_persons")).all()
    assert _rebuildable(" ".join(str(v) for r in stored for v in r), numbers) == []


def test_an_upload_never_mapped_fails_and_loses_its_file_after_the_retention_period(app, world):
    content = "工号,名字,证件\n1,周建国,x\n".encode()
    imp, _created = operations.create_import(world.cw_a, content, "other-layout.csv", "other")
    db.session.commit()
    assert imp.status.value == "mapping"
    days = app.config["IMPORT_ORIGINAL_DAYS"]
    assert operations.delete_old_originals(now=imp.created_at + timedelta(days=days - 1)) == 0
    assert operations.delete_old_originals(now=imp.created_at + timedelta(days=days + 1)) == 1
    db.session.commit()
    db.session.expire_all()
    imp = db.session.get(WorkerImport, imp.id)
    assert imp.status.value == "failed" and imp.content is None and str(days) in imp.error
    assert operations.delete_old_originals(now=imp.created_at + timedelta(days=days + 2)) == 0
