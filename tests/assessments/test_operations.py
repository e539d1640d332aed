"""Assessments, colour history, review cadence, exit (脱困) and return (返困), without HTTP."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from assist.assessments import operations
from assist.assessments.models import Assessment, ColourChange
from assist.db_types import local_today
from assist.enums import ArchiveType, AssessmentKind, Colour, FamilyStatus
from assist.errors import Conflict, ValidationFailed
from assist.extensions import db
from assist.families import operations as families
from assist.settings.operations import DEFAULTS, get_settings, update_settings
from tests import factories

TODAY = local_today()


def _months(n):
    return operations.months_back(TODAY, n)


def test_an_assessment_explains_every_factor_and_sets_colour_and_review(world):
    fam = world.family_a  # two healthy adults, no income recorded
    families.update_family(world.cw_a, fam, {"housing": "none", "debt_fen": 3_000_000})
    for m in _months(3):
        families.record_income(world.cw_a, fam, m, 100_000, medical_fen=50_000)
    a = operations.assess_family(world.cw_a, fam, "review", note="入户核查")
    db.session.commit()
    names = [f["name"] for f in a.factors]
    assert names == list(DEFAULTS["weights"])
    points = {f["name"]: f["points"] for f in a.factors}
    assert points["housing"] == 5 and points["debt"] == 5
    assert points["income"] == 24  # 500 yuan per head: (2×1200 − 500) / (2×1200) × 30 = 23.75 → 24
    assert a.score == sum(points.values())
    assert fam.colour == a.colour and fam.score == a.score
    assert fam.next_review_on == TODAY + timedelta(days=DEFAULTS["review_days"][a.colour.value])
    assert a.inputs["line_fen"] == 120_000 and a.assessed_by_id == world.cw_a.id


def test_hard_trigger_makes_red_and_history_records_the_change(world):
    fam = world.family_a
    start = fam.colour
    member = fam.members[1]
    families.update_member(world.cw_a, member, {"work_ability": "none", "health": "serious_illness"})
    families.record_income(world.cw_a, fam, _months(1)[0], 50_000)
    a = operations.assess_family(world.cw_a, fam, AssessmentKind.REVIEW)
    db.session.commit()
    assert a.hard_trigger == "income_no_work" and a.colour == Colour.RED
    history = operations.colour_history(fam)
    if start != Colour.RED:
        assert history[0].from_colour == start and history[0].to_colour == Colour.RED
        assert history[0].reason == "hard_trigger:income_no_work" and history[0].by_id == world.cw_a.id
    assert history[-1].from_colour is None  # the intake assessment opened the history


def test_no_history_row_when_the_colour_stays(world):
    fam = world.family_b
    before = db.session.scalar(select(func.count(ColourChange.id)).where(ColourChange.family_id == fam.id))
    operations.assess_family(world.cw_b, fam)
    operations.assess_family(world.cw_b, fam)
    db.session.commit()
    assert db.session.scalar(select(func.count(ColourChange.id)).where(ColourChange.family_id == fam.id)) == before
    assert db.session.scalar(select(func.count(Assessment.id)).where(Assessment.family_id == fam.id)) == 3


def test_settings_change_weights_thresholds_and_cadence(world):
    update_settings(world.admin, {"red_threshold": 10, "yellow_threshold": 5, "review_days": {"red": 7}})
    db.session.commit()
    a = operations.assess_family(world.cw_a, world.family_a)
    assert get_settings()["review_days"] == {"red": 7, "yellow": 90, "green": 180}
    if a.score >= 10:
        assert a.colour == Colour.RED and world.family_a.next_review_on == TODAY + timedelta(days=7)
    with pytest.raises(ValidationFailed) as info:
        update_settings(world.admin, {"yellow_threshold": 50, "red_threshold": 40})
    assert "yellow_threshold" in info.value.fields
    with pytest.raises(ValidationFailed):
        update_settings(world.admin, {"weights": {"income": 101}})


def test_closed_files_are_not_assessed(world):
    families.close_family(world.cw_b, world.family_b, "户主去世")
    with pytest.raises(Conflict):
        operations.assess_family(world.cw_b, world.family_b)


def test_bad_kind_or_note_is_refused(world):
    with pytest.raises(ValidationFailed):
        operations.assess_family(world.cw_a, world.family_a, "weekly")
    with pytest.raises(ValidationFailed):
        operations.assess_family(world.cw_a, world.family_a, note="x" * 501)


def test_exit_is_flagged_after_six_months_above_the_line_then_confirmed(world):
    fam = world.family_a  # two members: above the line means more than 2,400 yuan a month
    for m in _months(5):
        families.record_income(world.cw_a, fam, m, 300_000)
    db.session.commit()
    assert operations.flag_exit_candidates(TODAY) == 0
    families.record_income(world.cw_a, fam, _months(6)[-1], 240_000)  # exactly at the line is not above it
    db.session.commit()
    assert operations.flag_exit_candidates(TODAY) == 0
    families.record_income(world.cw_a, fam, _months(6)[-1], 240_001)
    db.session.commit()
    assert operations.flag_exit_candidates(TODAY) == 1
    db.session.refresh(fam)
    assert fam.exit_flagged_on == TODAY
    assert operations.flag_exit_candidates(TODAY) == 0  # safe to run twice
    with pytest.raises(Conflict):
        operations.confirm_exit(world.cw_b, world.family_b)  # not flagged
    operations.confirm_exit(world.cw_a, fam)
    db.session.commit()
    assert fam.status == FamilyStatus.EXITED and fam.exited_on == TODAY


def test_return_to_hardship_reactivates_and_reassesses(world):
    fam = world.family_a
    fam.exit_flagged_on = TODAY
    operations.confirm_exit(world.cw_a, fam)
    with pytest.raises(ValidationFailed):
        operations.return_to_hardship(world.cw_a, fam, "")
    a = operations.return_to_hardship(world.cw_a, fam, "户主突发大病")
    db.session.commit()
    assert fam.status == FamilyStatus.ACTIVE and fam.archive_type == ArchiveType.RETURNED
    assert fam.exit_flagged_on is None and fam.exited_on is None
    assert a.kind == AssessmentKind.REVIEW and a.note == "户主突发大病"
    with pytest.raises(Conflict):
        operations.return_to_hardship(world.cw_a, fam, "again")


@pytest.mark.parametrize(
    ("batch", "processes"),
    # one batch; batches of three (each updated within its id range); batches of three scored in a process of their
    # own while the one before is written
    [(4000, False), (3, False), (3, True)],
)
def test_batch_reassessment_gives_the_same_result_as_one_by_one(world, batch, processes):
    extra = [
        factories.family(
            world.cw_a,
            "330482001001",
            head_name=f"批量{i}",
            members=[factories.member(work_ability="none", health="disabled", disability_grade=1)] if i % 2 else [],
            accident_on=TODAY - timedelta(days=40) if i == 3 else None,
        )
        for i in range(6)
    ]
    for i, fam in enumerate(extra):
        for m in _months(4):
            families.record_income(world.cw_a, fam, m, 80_000 * (i + 1), medical_fen=20_000 * i)
    # sparse records: only older months, one recent month, a single month, an old month beyond the year
    months = _months(14)
    for m in (months[6], months[9], months[10], months[11]):
        families.record_income(world.cw_a, world.family_a, m, 150_000 + len(m))
    for m in (months[0], months[5], months[7]):
        families.record_income(world.cw_b, world.family_b, m, 90_000, education_fen=10_000)
    families.record_income(world.cw_a, extra[0], months[13], 999_999)
    db.session.commit()
    assert operations.reassess_all(TODAY, batch=batch, processes=processes) == 8
    db.session.commit()
    batch = {}
    for fam in [*extra, world.family_a, world.family_b]:
        db.session.refresh(fam)
        batch[fam.id] = (fam.score, fam.colour, fam.primary_type, fam.next_review_on)
        assert fam.next_review_on == operations.next_review(fam.colour, TODAY, get_settings())  # updated by the batch
        by_batch = db.session.scalars(
            select(Assessment).where(Assessment.family_id == fam.id).order_by(Assessment.id.desc()).limit(1)
        ).one()
        a = operations.assess_family(None, fam, today=TODAY)
        assert (a.score, a.colour, a.primary_type) == batch[fam.id][:3]
        # the same figures, computed in SQL for the batch and in Python for one family
        assert a.factors == by_batch.factors
        assert a.inputs["per_capita_fen"] == by_batch.inputs["per_capita_fen"]
    latest = db.session.scalars(
        select(Assessment).where(Assessment.kind == AssessmentKind.REVIEW, Assessment.assessed_by_id.is_(None))
    ).all()
    assert len(latest) >= 8
    # written by the batch, read back through the model as JSON and enums
    assert [f["name"] for f in latest[0].factors] == list(DEFAULTS["weights"])
    assert latest[0].types[0] == latest[0].primary_type.value and latest[0].colour in Colour
    assert latest[0].inputs["line_fen"] == 120_000


def _stored_by(assessment_id: int) -> dict:
    """What an assessment stored: its row, its colour change and its audit entry, as the database holds them (ids
    and times left out: they differ between two runs)."""
    from assist.audit.models import AuditEntry

    row = dict(db.session.execute(select(Assessment.__table__).where(Assessment.id == assessment_id)).one()._mapping)
    family_id = row["family_id"]
    changes = [
        dict(c._mapping)
        for c in db.session.execute(
            select(ColourChange.__table__).where(ColourChange.assessment_id == assessment_id)
        ).all()
    ]
    entries = [
        dict(e._mapping)
        for e in db.session.execute(
            select(AuditEntry.__table__).where(
                AuditEntry.action == "assess", AuditEntry.summary == f"assessment {assessment_id}"
            )
        ).all()
    ]
    for r in [row, *changes, *entries]:
        for key in ("id", "assessment_id", "assessed_at", "at", "summary"):
            r.pop(key, None)
    return {"assessment": row, "changes": changes, "entries": entries, "family": family_id}


@pytest.mark.parametrize("processes", [False, True])
def test_a_batch_reassessment_stores_what_one_assessment_stores(world, client, auth, processes):
    today = date(2026, 12, 7)
    fam = world.family_a
    # a member who lost all work ability and income under the line: red by the hard trigger, from the intake's colour
    families.update_member(world.cw_a, fam.members[1], {"work_ability": "none", "health": "serious_illness"})
    families.record_income(world.cw_a, fam, operations.months_back(today, 1)[0], 50_000, medical_fen=20_000)
    db.session.commit()
    before = (fam.colour, fam.score, fam.primary_type, fam.next_review_on, fam.last_assessed_at)
    assert fam.colour != Colour.RED

    assert operations.reassess_all(today, batch=1, processes=processes) == 2
    by_batch = db.session.scalars(
        select(Assessment.id).where(Assessment.family_id == fam.id).order_by(Assessment.id.desc()).limit(1)
    ).one()
    batch = _stored_by(by_batch)
    db.session.commit()
    # the same family as it was, assessed on its own
    db.session.refresh(fam)
    fam.colour, fam.score, fam.primary_type, fam.next_review_on, fam.last_assessed_at = before
    db.session.commit()
    one = operations.assess_family(None, fam, AssessmentKind.REVIEW, today=today)
    db.session.commit()
    single = _stored_by(one.id)

    assert batch == single
    inputs = batch["assessment"]["inputs"]
    assert inputs["weights"] == DEFAULTS["weights"]
    assert (inputs["red_threshold"], inputs["yellow_threshold"]) == (60, 30)
    assert inputs["members"] == 2 and inputs["as_of"] == today.isoformat()
    # the colour change names the assessment that made it, and so does the audit entry
    change = db.session.scalars(select(ColourChange).where(ColourChange.assessment_id == by_batch)).one()
    assert (change.from_colour, change.to_colour) == (before[0], Colour.RED)
    assert len(batch["entries"]) == 1 and batch["entries"][0]["family_id"] == fam.id
    entry = batch["entries"][0]
    assert entry["before"] == {
        "colour": before[0].value,
        "score": before[1],
        "primary_type": before[2].value,
        "next_review_on": before[3].isoformat(),
    }
    assert entry["after"] == {
        "colour": "red",
        "score": one.score,
        "primary_type": one.primary_type.value,
        "next_review_on": (today + timedelta(days=DEFAULTS["review_days"]["red"])).isoformat(),
    }

    # the explanation page of the batch's assessment shows every weight and both thresholds
    auth.login("cw_a")
    page = client.get(f"/families/{fam.id}/assessments/{by_batch}").get_data(as_text=True)
    explanation = page[page.index('id="explanation"') : page.index("</table>")]
    weights = re.findall(r'<td class="text-end">(\d*)</td>\s*<td class="text-end">(\d*)</td>', explanation)
    assert [int(w) for _points, w in weights] == list(DEFAULTS["weights"].values())
    assert "60 分起为红色，30 分起为黄色。" in explanation and "—" not in explanation


def test_the_demo_city_explains_every_assessment(runner):
    """The demo is assessed by the batch review: each of its assessments shows its weights and thresholds, each colour
    change names its assessment, and each assessment has its audit entry."""
    from assist.audit.models import AuditEntry

    result = runner.invoke(args=["demo-data", "--families", "40", "--seed", "5"])
    assert result.exit_code == 0, result.output
    assessments = db.session.scalars(select(Assessment)).all()
    assert len(assessments) >= 40
    assert all(a.inputs["weights"] == DEFAULTS["weights"] for a in assessments)
    assert all((a.inputs["red_threshold"], a.inputs["yellow_threshold"]) == (60, 30) for a in assessments)
    changes = db.session.scalars(select(ColourChange)).all()
    assert changes and all(c.assessment_id is not None for c in changes)
    entries = db.session.scalars(select(AuditEntry.summary).where(AuditEntry.action == "assess")).all()
    assert sorted(entries) == sorted(f"assessment {a.id}" for a in assessments)
