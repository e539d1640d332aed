"""The scoring of a family (精准分类): pure functions from facts and rules to score, colour, profile and explanation.

Every factor has an intensity between 0 and 1 that never falls when hardship grows; its points are the weight times
the intensity, rounded; the score is the sum of the points, capped at 100. So more hardship never lowers the score.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from assist.enums import Colour, Health, Housing, ProfileType, WorkAbility


class MemberFacts(NamedTuple):
    age: int
    health: Health = Health.HEALTHY
    disability_grade: int | None = None
    work_ability: WorkAbility = WorkAbility.FULL
    in_school: bool = False


class FamilyFacts(NamedTuple):
    members: tuple[MemberFacts, ...]
    #: average household income of the recent recorded months (None: nothing recorded)
    monthly_income_fen: int | None = None
    #: sums over the recorded months of the last year
    income_12m_fen: int = 0
    medical_12m_fen: int = 0
    education_12m_fen: int = 0
    #: whole months since an accident or disaster (None: none on file)
    accident_months_ago: int | None = None
    single_parent: bool = False
    debt_fen: int = 0
    housing: Housing = Housing.ADEQUATE


@dataclass(frozen=True)
class Rules:
    line_fen: int
    weights: Mapping[str, int]
    red_threshold: int = 60
    yellow_threshold: int = 30
    accident_months: int = 6
    hard_trigger_income_no_work: bool = True
    hard_trigger_accident: bool = True

    @classmethod
    def from_settings(cls, s: Mapping[str, Any]) -> "Rules":
        return cls(
            line_fen=s["min_living_line_fen"],
            weights=dict(s["weights"]),
            red_threshold=s["red_threshold"],
            yellow_threshold=s["yellow_threshold"],
            accident_months=s["accident_months"],
            hard_trigger_income_no_work=s["hard_trigger_income_no_work"],
            hard_trigger_accident=s["hard_trigger_accident"],
        )


class Factor(NamedTuple):
    name: str
    points: int
    #: the figures behind the points, for the explanation
    detail: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "points": self.points, "detail": self.detail}


@dataclass(frozen=True)
class Result:
    score: int
    colour: Colour
    primary_type: ProfileType
    types: tuple[ProfileType, ...]
    factors: tuple[Factor, ...]
    hard_trigger: str | None
    per_capita_fen: int | None


NONE, PARTIAL = WorkAbility.NONE, WorkAbility.PARTIAL
SERIOUS = frozenset({Health.SERIOUS_ILLNESS, Health.DISABLED})
CHRONIC = Health.CHRONIC
HOUSING = {Housing.ADEQUATE: 0.0, Housing.DIFFICULT: 0.5, Housing.NONE: 1.0}


def _clamp(x: float) -> float:
    return 0.0 if x < 0 else 1.0 if x > 1 else x


def _ratio(part: int, whole: int) -> float:
    if part <= 0:
        return 0.0
    if whole <= 0:
        return float("inf")
    return part / whole


def per_capita(facts: FamilyFacts) -> int | None:
    """Monthly income per household member, in fen (None when no income is recorded)."""
    if facts.monthly_income_fen is None:
        return None
    return facts.monthly_income_fen // max(len(facts.members), 1)


def intensities(facts: FamilyFacts, rules: Rules) -> dict[str, tuple[float, dict[str, Any]]]:
    """Each factor's intensity in [0, 1] with the figures that explain it."""
    members = facts.members
    pc = per_capita(facts)
    line = rules.line_fen
    out: dict[str, tuple[float, dict[str, Any]]] = {}

    # Income: full at no income, half at the line, nothing from twice the line up.
    if pc is None:
        out["income"] = (0.0, {"recorded": False, "line_fen": line})
    else:
        out["income"] = (_clamp((2 * line - pc) / (2 * line)), {"per_capita_fen": pc, "line_fen": line})

    # one pass over the members for every count below
    total = partial = serious = chronic = dependants = 0
    for m in members:
        ability = m.work_ability
        if ability == NONE:
            total += 1
        elif ability == PARTIAL:
            partial += 1
        health = m.health
        if health in SERIOUS:
            serious += 1
        elif health == CHRONIC:
            chronic += 1
        if m.age < 18 or m.age >= 65 or m.in_school:
            dependants += 1
    out["work_ability"] = (_clamp(0.7 * total + 0.35 * partial), {"total_loss": total, "partial_loss": partial})
    out["illness"] = (_clamp(0.6 * serious + 0.2 * chronic), {"serious_or_disabled": serious, "chronic": chronic})

    medical = _ratio(facts.medical_12m_fen, facts.income_12m_fen)
    out["medical_burden"] = (
        _clamp(medical / 0.5),
        {"medical_fen": facts.medical_12m_fen, "income_fen": facts.income_12m_fen},
    )
    education = _ratio(facts.education_12m_fen, facts.income_12m_fen)
    out["education_burden"] = (
        _clamp(education / 0.3),
        {"education_fen": facts.education_12m_fen, "income_fen": facts.income_12m_fen},
    )

    ago = facts.accident_months_ago
    if ago is None or ago < 0 or ago >= 2 * rules.accident_months:
        accident = 0.0
    elif ago < rules.accident_months:
        accident = 1.0
    else:
        accident = 0.5
    out["accident"] = (accident, {"months_ago": ago, "window_months": rules.accident_months})

    out["dependants"] = (_clamp(dependants / 3), {"dependants": dependants})

    out["single_parent"] = (1.0 if facts.single_parent else 0.0, {})

    out["debt"] = (
        _clamp(_ratio(facts.debt_fen, max(facts.income_12m_fen, 0))),
        {"debt_fen": facts.debt_fen, "income_fen": facts.income_12m_fen},
    )
    out["housing"] = (HOUSING[facts.housing], {"housing": str(facts.housing)})
    return out


def colour_for(score: int, rules: Rules, hard_trigger: str | None = None) -> Colour:
    """Red at the red threshold or on a hard trigger, yellow from the yellow threshold, green below."""
    if hard_trigger or score >= rules.red_threshold:
        return Colour.RED
    if score >= rules.yellow_threshold:
        return Colour.YELLOW
    return Colour.GREEN


def assess(facts: FamilyFacts, rules: Rules) -> Result:
    """Score a family: factors, score, hard trigger, colour and the five-type profile."""
    found = intensities(facts, rules)
    weights = rules.weights
    # rounding half up (int(x + 0.5)) is monotone, so rounded points keep the score monotone
    points: dict[str, int] = {}
    factors_: list[Factor] = []
    for name, (intensity, detail) in found.items():
        points[name] = p = int(weights.get(name, 0) * intensity + 0.5)
        factors_.append(Factor(name, p, detail))
    factors = tuple(factors_)
    score = min(100, sum(points.values()))

    pc = per_capita(facts)
    below_line = pc is not None and pc < rules.line_fen
    lost_all = found["work_ability"][1]["total_loss"] > 0
    recent_accident = facts.accident_months_ago is not None and 0 <= facts.accident_months_ago < rules.accident_months
    hard_trigger = None
    if rules.hard_trigger_income_no_work and below_line and lost_all:
        hard_trigger = "income_no_work"
    elif rules.hard_trigger_accident and recent_accident:
        hard_trigger = "accident"

    types = profile(facts, rules, points, below_line, recent_accident)
    return Result(
        score=score,
        colour=colour_for(score, rules, hard_trigger),
        primary_type=types[0],
        types=types,
        factors=factors,
        hard_trigger=hard_trigger,
        per_capita_fen=pc,
    )


_TYPE_ORDER = {t: i for i, t in enumerate(ProfileType)}


def profile(
    facts: FamilyFacts, rules: Rules, points: Mapping[str, int], below_line: bool, recent_accident: bool
) -> tuple[ProfileType, ...]:
    """Pinghu's five indicator types that apply, strongest first (the first is the primary type)."""
    members = facts.members
    incapable = any(
        m.work_ability != WorkAbility.FULL or m.health in (Health.SERIOUS_ILLNESS, Health.DISABLED) for m in members
    )
    working_age_able = any(18 <= m.age < 60 and m.work_ability == WorkAbility.FULL for m in members)
    strength: dict[ProfileType, int] = {}
    if below_line and incapable:  # 兜底型: no way out by work alone
        strength[ProfileType.SAFETY_NET] = points["income"] + points["work_ability"] + points["illness"] + 1
    if recent_accident:  # 急难型
        strength[ProfileType.EMERGENCY] = points["accident"] + 1
    spending = _ratio(facts.medical_12m_fen + facts.education_12m_fen, facts.income_12m_fen)
    if spending >= 0.2:  # 支出型
        strength[ProfileType.EXPENSE] = points["medical_burden"] + points["education_burden"] + points["illness"]
    cared = any(m.age >= 65 or m.health == Health.DISABLED or m.age < 18 for m in members)
    if facts.single_parent or (cared and points["dependants"] > 0):  # 关爱型
        strength[ProfileType.CARE] = points["dependants"] + points["single_parent"] + (1 if cared else 0)
    if working_age_able:  # 发展型: someone can work their way out
        strength[ProfileType.DEVELOPMENT] = points["income"] // 2 + points["debt"] + points["housing"]
    if not strength:
        strength[ProfileType.DEVELOPMENT if working_age_able else ProfileType.CARE] = 0
    return tuple(sorted(strength, key=lambda t: (-strength[t], _TYPE_ORDER[t])))
