"""Screening properties: explainable (the score is its reasons' points), monotone (worse circumstances never lower
it), and candidates exactly at the threshold."""

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from assist.identification import screening
from assist.settings.operations import DEFAULTS, validate_settings

TODAY = date(2026, 6, 15)
HEALTH_ORDER = ["healthy", "chronic", "serious_illness"]
ABILITY_ORDER = ["full", "partial", "none"]

facts = st.builds(
    screening.Facts,
    household_size=st.integers(1, 12),
    income_fen=st.one_of(st.none(), st.integers(0, 5_000_000)),
    health=st.sampled_from(["healthy", "chronic", "serious_illness", "disabled"]),
    medical_fen=st.one_of(st.none(), st.integers(0, 10_000_000)),
    work_ability=st.sampled_from(ABILITY_ORDER),
    accident_on=st.one_of(st.none(), st.dates(date(2000, 1, 1), TODAY)),
    identity_status=st.one_of(st.none(), st.sampled_from(["employed", "unemployed", "laid_off", "retired"])),
    dependants=st.one_of(st.none(), st.integers(0, 10)),
)
rules = st.fixed_dictionaries(
    {
        "threshold": st.integers(1, 100),
        **{rule: st.integers(0, 100) for rule in screening.RULES},
        "medical_fen": st.integers(0, 10_000_000),
        "accident_months": st.integers(1, 36),
        "min_dependants": st.integers(0, 5),
    }
)
line = st.integers(1, 1_000_000)
PROPERTY = settings(max_examples=300, deadline=None)


@PROPERTY
@given(facts, rules, line)
def test_the_score_is_the_sum_of_its_reasons_capped_at_100(f, r, line_fen):
    score, reasons = screening.screen(f, r, line_fen, TODAY)
    assert score == min(100, sum(points for _rule, points in reasons))
    assert all(points > 0 for _rule, points in reasons)
    names = [rule for rule, _points in reasons]
    assert len(names) == len(set(names)) and set(names) <= set(screening.REASON_NAMES)
    assert 0 <= score <= 100
    assert screening.is_candidate(score, r) == (score >= r["threshold"])


@PROPERTY
@given(facts, rules, line, st.integers(0, 5_000_000), st.integers(0, 10_000_000), st.integers(0, 5))
def test_worse_circumstances_never_lower_the_score(f, r, line_fen, less_income, more_medical, more_dependants):
    score, _ = screening.screen(f, r, line_fen, TODAY)
    worse = [
        replace(f, income_fen=max(0, (f.income_fen or 0) - less_income) if f.income_fen is not None else 0),
        replace(f, medical_fen=(f.medical_fen or 0) + more_medical),
        replace(f, work_ability=ABILITY_ORDER[min(2, ABILITY_ORDER.index(f.work_ability) + 1)]),
        # an unknown number of dependants counts as the rest of the household
        replace(f, dependants=(f.household_size - 1 if f.dependants is None else f.dependants) + more_dependants),
        replace(f, health="serious_illness" if f.health != "disabled" else "disabled"),
        replace(f, accident_on=TODAY - timedelta(days=1)),
        replace(f, identity_status="unemployed" if f.identity_status != "laid_off" else "laid_off"),
    ]
    for w in worse:
        assert screening.screen(w, r, line_fen, TODAY)[0] >= score, w


@PROPERTY
@given(facts, rules, line, st.sampled_from(screening.RULES), st.integers(0, 100))
def test_more_points_for_a_rule_never_lower_the_score(f, r, line_fen, rule, extra):
    score, _ = screening.screen(f, r, line_fen, TODAY)
    assert screening.screen(f, {**r, rule: min(100, r[rule] + extra)}, line_fen, TODAY)[0] >= score


@PROPERTY
@given(facts, line)
def test_rules_with_no_points_never_fire(f, line_fen):
    off = {**screening.DEFAULTS, **dict.fromkeys(screening.RULES, 0)}
    assert screening.screen(f, off, line_fen, TODAY) == (0, [])


def test_each_default_rule_fires_on_its_own_case():
    r = screening.DEFAULTS
    line_fen = DEFAULTS["min_living_line_fen"]
    cases = {
        "low_income": screening.Facts(household_size=3, income_fen=3 * line_fen - 1),
        "illness_medical": screening.Facts(health="disabled", medical_fen=r["medical_fen"], income_fen=10**7),
        "lost_work_ability": screening.Facts(work_ability="none"),
        "partial_work_ability": screening.Facts(work_ability="partial"),
        "recent_accident": screening.Facts(accident_on=TODAY - timedelta(days=100)),
        "unemployed_dependants": screening.Facts(identity_status="laid_off", household_size=2),
    }
    for rule, f in cases.items():
        assert [name for name, _ in screening.screen(f, r, line_fen, TODAY)[1]] == [rule]
    # the edges: income exactly at the line, an accident seven months back, spending just under the mark
    assert screening.screen(screening.Facts(income_fen=line_fen), r, line_fen, TODAY) == (0, [])
    assert screening.screen(screening.Facts(accident_on=date(2025, 11, 15)), r, line_fen, TODAY) == (0, [])
    ill = screening.Facts(health="serious_illness", medical_fen=r["medical_fen"] - 1)
    assert screening.screen(ill, r, line_fen, TODAY) == (0, [])


def test_screening_settings_are_validated():
    good = {**DEFAULTS}
    assert validate_settings(good) == {}
    bad = {
        **DEFAULTS,
        "screening": {**DEFAULTS["screening"], "threshold": 0, "low_income": 101, "accident_months": True},
    }
    assert set(validate_settings(bad)) == {"screening_threshold", "screening_low_income", "screening_accident_months"}
