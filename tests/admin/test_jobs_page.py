"""The scheduled jobs page in plain words: the every-minute import check does not bury the other jobs' runs, and
counts read in the page's language."""

from datetime import timedelta

from assist.db_types import utcnow
from assist.enums import RunStatus
from assist.extensions import db
from assist.schedule.models import JobRun


def _runs(world):
    start = utcnow() - timedelta(hours=2)
    rows = [
        JobRun(
            job_id="stipend-generation",
            status=RunStatus.SUCCEEDED,
            requested_at=start,
            counts={"months": 1, "created": 12, "existing": 0},
        ),
    ]
    # two hours of the every-minute import check, of which one failed
    for minute in range(1, 120):
        failed = minute == 60
        rows.append(
            JobRun(
                job_id="worker-imports",
                status=RunStatus.FAILED if failed else RunStatus.SUCCEEDED,
                requested_at=start + timedelta(minutes=minute),
                counts={} if failed else {"imports": 0},
                error="OperationalError: database is locked" if failed else "",
            )
        )
    db.session.add_all(rows)
    db.session.commit()


def test_by_default_the_every_minute_check_shows_only_its_failures(client, auth, world):
    _runs(world)
    auth.login("admin")
    page = client.get("/admin/jobs").get_data(as_text=True)
    runs = page[page.index('id="job-runs"') :]
    assert "待遇生成" in runs
    assert runs.count("database is locked") == 1
    assert runs.count("处理的导入") == 0  # the 118 runs that found nothing are not listed
    assert "新生成记录: 12" in runs and "created:" not in runs
    every = client.get("/admin/jobs?job=all").get_data(as_text=True)
    assert every[every.index('id="job-runs"') :].count("处理的导入: 0") == 30  # a full page of them
    one = client.get("/admin/jobs?job=stipend-generation").get_data(as_text=True)
    assert "database is locked" not in one and "新生成记录: 12" in one
    assert client.get("/admin/jobs?job=no-such-job&page=abc").status_code == 200


def test_job_ids_are_not_shown_as_text(client, auth, world):
    auth.login("admin")
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert '<div class="small text-body-secondary">stipend-generation</div>' not in page
    assert 'title="stipend-generation"' in page
