"""The pages and the API through the client: upload, mapping, progress, downloads, the queue and its decisions."""

import io
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import func, select

from assist.db_types import local_today
from assist.enums import CandidateStatus, ImportStatus
from assist.extensions import db
from assist.identification import samples
from assist.identification.models import Candidate, ImportedPerson, ImportReject, WorkerImport
from tests.conftest import PASSWORD, csrf_token, own_request_contexts
from tests.identification.helpers import AREA_A, AREA_B, csv_file, import_file, new_id, row


def _upload(client, content: bytes, filename="workers.csv", source="civil_affairs"):
    token = csrf_token(client, "/identification/imports/new")
    return client.post(
        "/identification/imports/new",
        data={"csrf_token": token, "source": source, "file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def _token(client, username: str) -> dict:
    answer = client.post("/api/v1/tokens", json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {answer.get_json()['token']}"}


def test_upload_runs_the_import_and_shows_the_rejects(client, auth, world):
    auth.login("cw_a")
    rows, spoilt = samples.with_bad_rows(samples.worker_rows(20, areas=(AREA_A,), extras=False))
    response = _upload(client, samples.to_csv(rows, headers=samples.STANDARD_HEADERS))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    imp = db.session.scalars(select(WorkerImport)).one()
    assert imp.status == ImportStatus.DONE and imp.rejected == len(spoilt)
    assert 'data-progress="100"' in page and "rejects.xlsx" in page
    for number in spoilt:
        assert f"<td>{number}</td>" in page
    download = client.get(f"/identification/imports/{imp.id}/rejects.xlsx")
    assert download.status_code == 200 and download.mimetype.endswith("spreadsheetml.sheet")
    lines = list(load_workbook(io.BytesIO(download.data)).active.iter_rows(values_only=True))
    assert [line[0] for line in lines[1:]] == sorted(spoilt)
    original = client.get(f"/identification/imports/{imp.id}/original")
    assert original.data == samples.to_csv(rows, headers=samples.STANDARD_HEADERS)


def test_a_refused_file_is_explained_beside_the_field_and_changes_nothing(client, auth, world):
    auth.login("cw_a")
    for content, name in ((b"", "empty.csv"), (b"\x00\x01binary" * 100, "photo.csv"), (b"PK\x03\x04junk", "x.xlsx")):
        response = _upload(client, content, name)
        assert response.status_code == 422
        assert "invalid-feedback" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(WorkerImport.id))) == 0
    token = csrf_token(client, "/identification/imports/new")
    assert client.post("/identification/imports/new", data={"csrf_token": token}).status_code == 422


def test_the_same_file_twice_says_so(client, auth, world):
    auth.login("cw_a")
    content = csv_file([row()])
    _upload(client, content)
    again = _upload(client, content, "copy.csv")
    assert again.status_code == 302
    assert db.session.scalar(select(func.count(WorkerImport.id))) == 1
    assert db.session.scalar(select(func.count(ImportedPerson.id))) == 1


def test_an_unknown_layout_is_mapped_on_the_page(client, auth, world):
    auth.login("cw_a")
    content = samples.to_csv([["孙悟空", new_id(), AREA_A, "300"]], headers=["名字", "证件号", "社区", "收入"])
    response = _upload(client, content, source="union_roster")
    assert response.status_code == 302 and response.headers["Location"].endswith("/mapping")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "证件号" in page
    token = csrf_token(client, response.headers["Location"])
    bad = client.post(response.headers["Location"], data={"csrf_token": token, "map_name": "0"})
    assert bad.status_code == 422 and "is-invalid" in bad.get_data(as_text=True)
    data = {
        "csrf_token": token,
        "map_name": "0",
        "map_id_number": "1",
        "map_area_code": "2",
        "map_monthly_income_yuan": "3",
    }
    done = client.post(response.headers["Location"], data=data)
    assert done.status_code == 302
    imp = db.session.scalars(select(WorkerImport)).one()
    assert imp.status == ImportStatus.DONE and imp.candidates == 1


def test_imports_are_seen_by_their_uploader_and_the_admin(client, auth, world):
    imp = import_file(world.cw_a, csv_file([row()]))
    auth.login("cw_b")
    assert client.get(f"/identification/imports/{imp.id}").status_code == 404
    assert client.get(f"/identification/imports/{imp.id}/rejects.xlsx").status_code == 404
    assert "workers.csv" not in client.get("/identification/imports").get_data(as_text=True)
    auth.logout()
    auth.login("admin")
    assert client.get(f"/identification/imports/{imp.id}").status_code == 200
    assert "workers.csv" in client.get("/identification/imports").get_data(as_text=True)


def test_the_queue_page_is_scoped_with_counts(client, auth, world):
    import_file(world.admin, csv_file([row(name="甲某", area=AREA_A), row(name="乙某", area=AREA_B)]))
    auth.login("cw_a")
    page = client.get("/identification/candidates").get_data(as_text=True)
    assert "甲某" in page and "乙某" not in page and 'id="queue-counts"' in page
    other = db.session.scalar(select(Candidate).join(Candidate.person).where(ImportedPerson.name == "乙某"))
    assert client.get(f"/identification/candidates/{other.id}").status_code == 404
    assert client.get("/identification/candidates?status=nope&source=nope").status_code == 200


def test_a_candidate_is_worked_on_the_pages_to_a_family_file(client, auth, world):
    import_file(world.cw_a, csv_file([row(name="何大勇", income="300", ability="丧失")]))
    c = db.session.scalars(select(Candidate)).one()
    auth.login("cw_a")
    url = f"/identification/candidates/{c.id}"
    token = csrf_token(client, url)
    assert client.post(url + "/assign", data={"csrf_token": token}).status_code == 302
    bad = client.post(url + "/visit", data={"csrf_token": token, "visited_on": "2999-01-01"})
    assert bad.status_code == 422 and "is-invalid" in bad.get_data(as_text=True)
    visit = {"csrf_token": token, "visited_on": local_today().isoformat(), "visit_notes": "核实属实"}
    assert client.post(url + "/visit", data=visit).status_code == 302
    form = client.get(url + "/file").get_data(as_text=True)
    assert 'value="何大勇"' in form and "head_id_number" not in form
    area_id = db.session.scalar(select(ImportedPerson.area_id))
    response = client.post(
        url + "/file",
        data={
            "csrf_token": token,
            "head_name": "何大勇",
            "head_work_ability": "none",
            "head_health": "healthy",
            "area_id": str(area_id),
            "hardship_category": "deep",
            "archive_type": "new",
            "identity_status": "employed",
            "housing": "adequate",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    db.session.refresh(c)
    assert c.status == CandidateStatus.FILED and response.headers["Location"] == f"/families/{c.family_id}"


def test_dismissing_needs_a_reason_on_the_page(client, auth, world):
    import_file(world.cw_a, csv_file([row()]))
    c = db.session.scalars(select(Candidate)).one()
    auth.login("cw_a")
    url = f"/identification/candidates/{c.id}"
    token = csrf_token(client, url)
    assert client.post(url + "/dismiss", data={"csrf_token": token, "reason": ""}).status_code == 422
    assert client.post(url + "/dismiss", data={"csrf_token": token, "reason": "已迁出本市"}).status_code == 302
    db.session.refresh(c)
    assert c.status == CandidateStatus.DISMISSED and c.dismissal_reason == "已迁出本市"


def test_the_template_download_is_the_standard_header(client, auth, world):
    auth.login("cw_a")
    response = client.get("/identification/template.xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).active
    header = next(sheet.iter_rows(values_only=True))
    assert list(header[:10]) == samples.STANDARD_HEADERS


def test_admin_changes_the_screening_rules_on_the_settings_page(client, auth, world):
    from assist.settings.operations import get_settings

    auth.login("admin")
    page = client.get("/admin/settings").get_data(as_text=True)
    assert 'name="screening_threshold"' in page and 'value="40"' in page
    token = csrf_token(client, "/admin/settings")
    bad = client.post(
        "/admin/settings",
        data={
            "csrf_token": token,
            "min_living_line_fen": "1200",
            "red_threshold": "60",
            "yellow_threshold": "30",
            "accident_months": "6",
            "exit_months": "6",
            "review_red": "30",
            "review_yellow": "90",
            "review_green": "180",
            "screening_threshold": "0",
            **{
                f"weight_{n}": "5"
                for n in (
                    "income",
                    "work_ability",
                    "illness",
                    "medical_burden",
                    "education_burden",
                    "accident",
                    "dependants",
                    "single_parent",
                    "debt",
                    "housing",
                )
            },
        },
    )
    assert bad.status_code == 422
    good = client.post(
        "/admin/settings",
        data={
            "csrf_token": token,
            "min_living_line_fen": "1200",
            "red_threshold": "60",
            "yellow_threshold": "30",
            "accident_months": "6",
            "exit_months": "6",
            "review_red": "30",
            "review_yellow": "90",
            "review_green": "180",
            "screening_threshold": "55",
            "screening_medical_fen": "30000",
            # the virtual-post settings on the same page (issue 3)
            "post_amount_min_fen": "100.00",
            "post_amount_default_fen": "500.00",
            "post_amount_max_fen": "3000.00",
            "post_term_months": "12",
            "family_post_limit": "1",
            "claim_days": "14",
            "offer_days": "7",
            "union_name": "平湖市总工会",
            "payment_due_day": "15",
            **{
                f"weight_{n}": "5"
                for n in (
                    "income",
                    "work_ability",
                    "illness",
                    "medical_burden",
                    "education_burden",
                    "accident",
                    "dependants",
                    "single_parent",
                    "debt",
                    "housing",
                )
            },
        },
    )
    assert good.status_code == 302
    db.session.expire_all()
    assert get_settings()["screening"]["threshold"] == 55 and get_settings()["screening"]["medical_fen"] == 3_000_000


# --- the API --------------------------------------------------------------------------------------------------------


def test_api_upload_status_and_candidates(client, world):
    headers = _token(client, "cw_a")
    content = csv_file([row(income="100"), row(id_number="nope")])
    answer = client.post(
        "/api/v1/imports",
        data={"file": (io.BytesIO(content), "w.csv"), "source": "medical_insurance"},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert answer.status_code == 202, answer.get_json()
    body = answer.get_json()
    status = client.get(f"/api/v1/imports/{body['id']}", headers=headers).get_json()
    assert status["status"] == "done" and status["progress"] == 100
    assert (status["rows"], status["imported"], status["rejected"], status["candidates"]) == (2, 1, 1, 1)
    again = client.post(
        "/api/v1/imports",
        data={"file": (io.BytesIO(content), "w.csv")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert again.status_code == 200 and again.get_json()["id"] == body["id"]
    page = client.get("/api/v1/candidates?per_page=1", headers=headers).get_json()
    assert page["total"] == 1 and page["items"][0]["source"] == "medical_insurance"
    assert page["items"][0]["reasons"][0]["rule"] == "low_income" and "*" in page["items"][0]["id_number"]
    other = _token(client, "cw_b")
    assert client.get(f"/api/v1/imports/{body['id']}", headers=other).status_code == 404
    assert client.get("/api/v1/candidates", headers=other).get_json()["total"] == 0


def test_api_refusals_are_in_the_error_shape(client, world):
    headers = _token(client, "cw_a")
    for data in (
        {},
        {"file": "not a file"},
        {"file": (io.BytesIO(b""), "e.csv")},
        {"file": (io.BytesIO(b"a,b\r\n1,2\r\n"), "x.csv"), "source": "nope"},
    ):
        answer = client.post("/api/v1/imports", data=data, headers=headers, content_type="multipart/form-data")
        assert answer.status_code == 422, (data, answer.get_json())
        assert set(answer.get_json()["error"]) == {"code", "message", "fields"}
    assert client.post("/api/v1/imports", json={"file": "x"}, headers=headers).status_code == 422


JUNK = st.one_of(
    st.binary(max_size=2000),
    st.text(max_size=500).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.builds(
        lambda rows: samples.to_csv(rows, headers=samples.STANDARD_HEADERS),
        st.lists(st.lists(st.text(max_size=30), min_size=0, max_size=12), min_size=1, max_size=4),
    ),
    st.sampled_from([b"PK\x03\x04" + b"\x00" * 100, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "姓名\r\n".encode("gb18030")]),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(content=JUNK, source=st.sampled_from(["civil_affairs", "other", "", "x" * 50]), name=st.text(max_size=300))
def test_junk_uploads_never_cause_a_server_error(app, world, content, source, name):
    with own_request_contexts():
        client = app.test_client()
        headers = _token(client, "cw_a")
        answer = client.post(
            "/api/v1/imports",
            data={"file": (io.BytesIO(content), name or "f"), "source": source},
            headers=headers,
            content_type="multipart/form-data",
        )
    # 400: a NUL anywhere in the request is refused before any view (assist.security)
    assert answer.status_code in (200, 202, 400, 409, 422), answer.get_data(as_text=True)[:500]
    if answer.status_code >= 400:
        assert set(answer.get_json()["error"]) == {"code", "message", "fields"}


def test_the_import_runs_in_a_thread_and_the_status_follows_it(app, client, world, auth):
    app.config["IMPORT_BACKGROUND"] = "thread"
    content = samples.to_csv(samples.worker_rows(60, areas=(AREA_A,), extras=False), headers=samples.STANDARD_HEADERS)
    db.session.commit()
    with own_request_contexts():
        answer = client.post(
            "/api/v1/imports",
            data={"file": (io.BytesIO(content), "t.csv")},
            headers=_token(client, "admin"),
            content_type="multipart/form-data",
        )
        assert answer.status_code == 202
        url = f"/api/v1/imports/{answer.get_json()['id']}"
        headers = _token(client, "admin")
        for _ in range(200):
            status = client.get(url, headers=headers).get_json()
            if status["status"] in ("done", "failed"):
                break
            time.sleep(0.05)
    assert status["status"] == "done" and status["imported"] == 60


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig"])
def test_cli_imports_prints_the_counts_and_writes_the_rejects(runner, world, tmp_path, encoding):
    path = tmp_path / "名单.csv"
    path.write_bytes(csv_file([row(), row(id_number="3.30482E+17"), row(income="9000")], encoding=encoding))
    result = runner.invoke(args=["import", "workers", str(path), "--source", "civil_affairs"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "rows 3, imported 2, rejected 1, candidates 1"
    report = tmp_path / "名单.rejects.xlsx"
    lines = list(load_workbook(report).active.iter_rows(values_only=True))
    assert lines[1][0] == 3
    again = runner.invoke(args=["import", "workers", str(path)])
    assert again.output.splitlines()[0] == "rows 3, imported 2, rejected 1, candidates 1"
    assert db.session.scalar(select(func.count(ImportReject.id))) == 1


def test_cli_refuses_bad_files_clearly(runner, world, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    result = runner.invoke(args=["import", "workers", str(path)])
    assert result.exit_code != 0 and "Error" in result.output
    other = tmp_path / "other.csv"
    other.write_bytes(samples.to_csv([["a", "b"]], headers=["x", "y"]))
    result = runner.invoke(args=["import", "workers", str(other)])
    assert result.exit_code != 0 and "区域代码" in result.output


def test_the_scheduler_job_works_queued_and_abandoned_imports(app, world):
    from assist.identification import operations
    from jobs import JOBS
    from jobs.tasks import worker_imports

    assert "worker-imports" in {j.id for j in JOBS}
    queued, _ = operations.create_import(world.admin, csv_file([row()]), "q.csv", "other")
    abandoned, _ = operations.create_import(world.admin, csv_file([row(), row()]), "a.csv", "other")
    db.session.commit()
    operations.claim(abandoned.id, "gone-host:99999999")
    db.session.execute(WorkerImport.__table__.update().where(WorkerImport.id == abandoned.id).values(heartbeat_at=None))
    db.session.commit()
    assert worker_imports(app) == {"imports": 2}
    db.session.expire_all()
    assert {i.status for i in db.session.scalars(select(WorkerImport))} == {ImportStatus.DONE}
