"""Screening imported workers (初筛): configurable, explainable rules that score a person and flag candidates.

Each rule that fires adds its points and names itself, so a caseworker sees why a person is in the queue. The score is
the sum of the points, at most 100; a person scoring at or above the threshold is a candidate. Rules read only what an
import row carries; a figure the file does not give (blank income, no medical column) fires nothing.
"""

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from assist.enums import Health, IdentityStatus, WorkAbility

#: the rules, in the order their reasons are listed
RULES = ("low_income", "illness_medical", "lost_work_ability", "recent_accident", "unemployed_dependants")

DEFAULTS = {
    #: a person at or above this score is a candidate
    "threshold": 40,
    # points per rule (0 turns a rule off)
    "low_income": 40,
    "illness_medical": 30,
    "lost_work_ability": 30,
    "recent_accident": 30,
    "unemployed_dependants": 20,
    #: medical spending (yuan a year, in fen) that counts as large, beside a serious illness or disability
    "medical_fen": 2_000_000,
    #: an accident this many months back or less is recent
    "accident_months": 6,
    #: dependants that make unemployment a hardship
    "min_dependants": 1,
}

REASON_NAMES = {
    "low_income": _l("Per-capita income under the minimum-living line"),
    "illness_medical": _l("Serious illness or disability with large medical spending"),
    "lost_work_ability": _l("Lost all work ability"),
    "partial_work_ability": _l("Lost part of work ability"),
    "recent_accident": _l("Recent accident"),
    "unemployed_dependants": _l("Unemployed or laid off with dependants"),
}
OUT_OF_WORK = frozenset({IdentityStatus.UNEMPLOYED.value, IdentityStatus.LAID_OFF.value})
ILL = frozenset({Health.SERIOUS_ILLNESS.value, Health.DISABLED.value})


@dataclass(frozen=True)
class Facts:
    """What screening reads of one person (values as stored: enums by their values, money in fen, None = not given)."""

    household_size: int = 1
    income_fen: int | None = None
    health: str = Health.HEALTHY.value
    medical_fen: int | None = None
    work_ability: str = WorkAbility.FULL.value
    accident_on: date | None = None
    identity_status: str | None = None
    dependants: int | None = None


def months_between(earlier: date, later: date) -> int:
    """Whole months from ``earlier`` to ``later`` (a day short of a month is not a month)."""
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    return months - (later.day < earlier.day)


def screen(facts: Facts, rules: dict, line_fen: int, today: date) -> tuple[int, list[list]]:
    """The person's score (0–100) and the reasons that fired, each ``[rule, points]``."""
    reasons = []
    points = rules["low_income"]
    # per-capita income under the line, compared without dividing: income < line × household size
    if points and facts.income_fen is not None and facts.income_fen < line_fen * max(facts.household_size, 1):
        reasons.append(["low_income", points])
    points = rules["illness_medical"]
    if points and facts.health in ILL and facts.medical_fen is not None and facts.medical_fen >= rules["medical_fen"]:
        reasons.append(["illness_medical", points])
    points = rules["lost_work_ability"]
    if points and facts.work_ability == WorkAbility.NONE.value:
        reasons.append(["lost_work_ability", points])
    elif points // 2 and facts.work_ability == WorkAbility.PARTIAL.value:
        reasons.append(["partial_work_ability", points // 2])
    points = rules["recent_accident"]
    if (
        points
        and facts.accident_on is not None
        and facts.accident_on <= today
        and months_between(facts.accident_on, today) < rules["accident_months"]
    ):
        reasons.append(["recent_accident", points])
    points = rules["unemployed_dependants"]
    if points and facts.identity_status in OUT_OF_WORK:
        # without a dependants column, everyone else in the household is counted as depending on the worker
        dependants = facts.dependants if facts.dependants is not None else max(facts.household_size - 1, 0)
        if dependants >= rules["min_dependants"]:
            reasons.append(["unemployed_dependants", points])
    return min(100, sum(p for _name, p in reasons)), reasons


def is_candidate(score: int, rules: dict) -> bool:
    return score >= rules["threshold"]


def validate(values: dict) -> dict[str, str]:
    """Field errors (keyed ``screening_<key>``) for the screening settings."""
    errors: dict[str, str] = {}

    def whole(key: str, lo: int, hi: int, message) -> None:
        v = values.get(key)
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            errors[f"screening_{key}"] = str(message)

    whole("threshold", 1, 100, _l("A threshold is a whole number from 1 to 100."))
    for rule in RULES:
        whole(rule, 0, 100, _l("Points are a whole number from 0 to 100."))
    whole("medical_fen", 0, 2_000_000_000, _l("Enter an amount from 0 to 20,000,000 yuan."))
    whole("accident_months", 1, 36, _l("Enter a number of months from 1 to 36."))
    whole("min_dependants", 0, 20, _l("Enter a whole number from 0 to 20."))
    return errors


def reason_text(code: str) -> str:
    """A reason's name in the reader's language."""
    return str(REASON_NAMES.get(code, code))
