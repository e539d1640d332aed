"""Scoring properties: more hardship never lowers the score; thresholds map to colours exactly as configured."""

from hypothesis import assume, given
from hypothesis import strategies as st

from assist.assessments import scoring
from assist.enums import Colour, Health, Housing, ProfileType, WorkAbility
from assist.settings.operations import DEFAULTS, FACTORS

HEALTH_ORDER = [Health.HEALTHY, Health.CHRONIC, Health.SERIOUS_ILLNESS]
ABILITY_ORDER = [WorkAbility.FULL, WorkAbility.PARTIAL, WorkAbility.NONE]
HOUSING_ORDER = [Housing.ADEQUATE, Housing.DIFFICULT, Housing.NONE]

members = st.builds(
    scoring.MemberFacts,
    age=st.integers(0, 95),
    health=st.sampled_from(list(Health)),
    disability_grade=st.none() | st.integers(1, 4),
    work_ability=st.sampled_from(list(WorkAbility)),
    in_school=st.booleans(),
)
fen = st.integers(0, 5_000_000)
facts = st.builds(
    scoring.FamilyFacts,
    members=st.lists(members, min_size=1, max_size=6).map(tuple),
    monthly_income_fen=st.none() | fen,
    income_12m_fen=fen,
    medical_12m_fen=fen,
    education_12m_fen=fen,
    accident_months_ago=st.none() | st.integers(0, 40),
    single_parent=st.booleans(),
    debt_fen=fen,
    housing=st.sampled_from(list(Housing)),
)
weights = st.fixed_dictionaries({name: st.integers(0, 100) for name in FACTORS})


@st.composite
def rules(draw):
    red = draw(st.integers(2, 100))
    yellow = draw(st.integers(1, red - 1))
    return scoring.Rules(
        line_fen=draw(st.integers(1, 1_000_000)),
        weights=draw(weights),
        red_threshold=red,
        yellow_threshold=yellow,
        accident_months=draw(st.integers(1, 24)),
        hard_trigger_income_no_work=draw(st.booleans()),
        hard_trigger_accident=draw(st.booleans()),
    )


default_rules = scoring.Rules.from_settings(DEFAULTS)


def _worse_member(m: scoring.MemberFacts, how: str) -> scoring.MemberFacts:
    if how == "health" and m.health in HEALTH_ORDER[:-1]:
        return m._replace(health=HEALTH_ORDER[HEALTH_ORDER.index(m.health) + 1])
    if how == "ability" and m.work_ability != WorkAbility.NONE:
        return m._replace(work_ability=ABILITY_ORDER[ABILITY_ORDER.index(m.work_ability) + 1])
    if how == "school":
        return m._replace(in_school=True)
    return m


@st.composite
def harder(draw):
    """A family and the same family with one more hardship."""
    f = draw(facts)
    how = draw(
        st.sampled_from(
            [
                "income",
                "medical",
                "education",
                "debt",
                "housing",
                "single",
                "accident",
                "member",
                "health",
                "ability",
                "school",
            ]
        )
    )
    if how == "income":
        g = f._replace(
            monthly_income_fen=draw(st.integers(0, f.monthly_income_fen))
            if f.monthly_income_fen
            else f.monthly_income_fen,
        )
        g = g._replace(income_12m_fen=draw(st.integers(0, f.income_12m_fen)))
    elif how == "medical":
        g = f._replace(medical_12m_fen=f.medical_12m_fen + draw(st.integers(0, 1_000_000)))
    elif how == "education":
        g = f._replace(education_12m_fen=f.education_12m_fen + draw(st.integers(0, 1_000_000)))
    elif how == "debt":
        g = f._replace(debt_fen=f.debt_fen + draw(st.integers(0, 10_000_000)))
    elif how == "housing":
        g = f._replace(housing=HOUSING_ORDER[min(2, HOUSING_ORDER.index(f.housing) + 1)])
    elif how == "single":
        g = f._replace(single_parent=True)
    elif how == "accident":
        sooner = (
            draw(st.integers(0, f.accident_months_ago))
            if f.accident_months_ago is not None
            else draw(st.integers(0, 40))
        )
        g = f._replace(accident_months_ago=sooner)
    elif how == "member":
        # one more mouth to feed on the same income
        g = f._replace(members=(*f.members, draw(members)))
    else:
        i = draw(st.integers(0, len(f.members) - 1))
        changed = list(f.members)
        changed[i] = _worse_member(changed[i], how)
        g = f._replace(members=tuple(changed))
    return f, g


@given(harder(), rules())
def test_more_hardship_never_lowers_the_score(pair, r):
    easier, harder_ = pair
    assert scoring.assess(harder_, r).score >= scoring.assess(easier, r).score


@given(harder(), rules())
def test_more_hardship_never_lightens_the_colour(pair, r):
    order = {Colour.GREEN: 0, Colour.YELLOW: 1, Colour.RED: 2}
    easier, harder_ = pair
    assume(not (harder_.members != easier.members and len(harder_.members) != len(easier.members)))
    assert order[scoring.assess(harder_, r).colour] >= order[scoring.assess(easier, r).colour]


@given(st.integers(0, 100), rules())
def test_thresholds_map_to_colours_exactly(score, r):
    colour = scoring.colour_for(score, r)
    if score >= r.red_threshold:
        assert colour == Colour.RED
    elif score >= r.yellow_threshold:
        assert colour == Colour.YELLOW
    else:
        assert colour == Colour.GREEN
    assert scoring.colour_for(score, r, hard_trigger="accident") == Colour.RED


@given(facts, rules())
def test_score_is_the_capped_sum_of_the_explained_points(f, r):
    result = scoring.assess(f, r)
    assert 0 <= result.score <= 100
    assert result.score == min(100, sum(x.points for x in result.factors))
    assert {x.name for x in result.factors} == set(FACTORS)
    for x in result.factors:
        assert 0 <= x.points <= r.weights[x.name]
    assert result.primary_type == result.types[0]
    assert len(set(result.types)) == len(result.types)
    if result.hard_trigger is None:
        assert result.colour == scoring.colour_for(result.score, r)


def test_hard_trigger_income_under_line_with_total_loss_is_red():
    f = scoring.FamilyFacts(
        members=(scoring.MemberFacts(age=50, work_ability=WorkAbility.NONE), scoring.MemberFacts(age=48)),
        monthly_income_fen=100_000,
        income_12m_fen=1_200_000,
    )
    result = scoring.assess(f, default_rules)
    assert result.hard_trigger == "income_no_work"
    assert result.colour == Colour.RED
    assert result.primary_type == ProfileType.SAFETY_NET


def test_recent_accident_is_red_and_emergency():
    f = scoring.FamilyFacts(
        members=(scoring.MemberFacts(age=40),),
        monthly_income_fen=500_000,
        income_12m_fen=6_000_000,
        accident_months_ago=2,
    )
    result = scoring.assess(f, default_rules)
    assert result.hard_trigger == "accident"
    assert result.colour == Colour.RED
    assert ProfileType.EMERGENCY in result.types


def test_a_comfortable_family_is_green_with_a_development_profile():
    f = scoring.FamilyFacts(
        members=(scoring.MemberFacts(age=40), scoring.MemberFacts(age=38)),
        monthly_income_fen=600_000,
        income_12m_fen=7_200_000,
    )
    result = scoring.assess(f, default_rules)
    assert result.colour == Colour.GREEN
    assert result.primary_type == ProfileType.DEVELOPMENT


def test_income_at_the_line_gives_half_the_income_weight():
    f = scoring.FamilyFacts(
        members=(scoring.MemberFacts(age=40),), monthly_income_fen=120_000, income_12m_fen=1_440_000
    )
    income = next(x for x in scoring.assess(f, default_rules).factors if x.name == "income")
    assert income.points == 15
    assert income.detail == {"per_capita_fen": 120_000, "line_fen": 120_000}
