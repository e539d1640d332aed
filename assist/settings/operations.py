"""Reading and changing the settings, with SPEC.md's defaults for every key."""

import copy
from typing import Any

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l

from assist import audit, checks
from assist.errors import ValidationFailed
from assist.extensions import db

# identification (issue 5)
from assist.identification.screening import DEFAULTS as SCREENING_DEFAULTS
from assist.identification.screening import validate as validate_screening
from assist.settings.models import Setting

FACTORS = (
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

DEFAULTS: dict[str, Any] = {
    #: the local minimum-living line (低保标准), per person per month
    "min_living_line_fen": 120_000,
    #: points each factor gives at full intensity; the score is their sum, capped at 100
    "weights": {
        "income": 30,
        "work_ability": 20,
        "illness": 15,
        "medical_burden": 10,
        "education_burden": 5,
        "accident": 15,
        "dependants": 5,
        "single_parent": 5,
        "debt": 5,
        "housing": 5,
    },
    "red_threshold": 60,
    "yellow_threshold": 30,
    #: hard triggers force red whatever the score
    "hard_trigger_income_no_work": True,
    "hard_trigger_accident": True,
    "accident_months": 6,
    #: review cadence by colour, in days
    "review_days": {"red": 30, "yellow": 90, "green": 180},
    #: consecutive months above the line before a family is flagged for exit (脱困)
    "exit_months": 6,
    # virtual posts (虚拟岗位)
    #: a post's monthly stipend: the default offered and the allowed range
    "post_amount_default_fen": 50_000,
    "post_amount_min_fen": 10_000,
    "post_amount_max_fen": 300_000,
    "post_term_months": 12,
    #: live posts a family may hold at once (one per person always)
    "family_post_limit": 1,
    #: days an unsigned claim (and a matching offer) stays reserved for its sponsor
    "claim_days": 14,
    "offer_days": 7,
    #: 丙方 on every agreement
    "union_name": "平湖市总工会",
    # identification (issue 5)
    #: screening of imported workers: points per rule and the candidate threshold (assist.identification.screening)
    "screening": copy.deepcopy(SCREENING_DEFAULTS),
    #: stipends (待遇): a month's records are due by this day of the month after; unpaid after it they are overdue
    "payment_due_day": 15,
}


def get_settings() -> dict[str, Any]:
    """All settings, stored values over the defaults (cached for the request)."""
    if has_request_context() and "assist_settings" in g:
        return g.assist_settings
    values = copy.deepcopy(DEFAULTS)
    for row in db.session.scalars(db.select(Setting)):
        if row.key in values:
            if isinstance(values[row.key], dict) and isinstance(row.value, dict):
                values[row.key].update(row.value)
            else:
                values[row.key] = row.value
    if has_request_context():
        g.assist_settings = values
    return values


def validate_settings(values: dict[str, Any]) -> dict[str, str]:
    """Field errors for a full set of settings (empty when they are consistent)."""
    errors: dict[str, str] = {}
    line = values.get("min_living_line_fen")
    if not isinstance(line, int) or isinstance(line, bool) or not 1 <= line <= 10_000_000:
        errors["min_living_line_fen"] = str(_l("Enter an amount between 0.01 and 100,000 yuan."))
    weights = values.get("weights", {})
    for name in FACTORS:
        w = weights.get(name)
        if not isinstance(w, int) or isinstance(w, bool) or not 0 <= w <= 100:
            errors[f"weight_{name}"] = str(_l("A weight is a whole number from 0 to 100."))
    red, yellow = values.get("red_threshold"), values.get("yellow_threshold")
    for key, v in (("red_threshold", red), ("yellow_threshold", yellow)):
        if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 100:
            errors[key] = str(_l("A threshold is a whole number from 1 to 100."))
    if "red_threshold" not in errors and "yellow_threshold" not in errors and yellow >= red:
        errors["yellow_threshold"] = str(_l("Yellow must start below red."))
    for key in ("accident_months", "exit_months"):
        v = values.get(key)
        if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 36:
            errors[key] = str(_l("Enter a number of months from 1 to 36."))
    for colour, days in values.get("review_days", {}).items():
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 730:
            errors[f"review_{colour}"] = str(_l("Enter a number of days from 1 to 730."))
    amounts = {k: values.get(k) for k in ("post_amount_min_fen", "post_amount_default_fen", "post_amount_max_fen")}
    for key, v in amounts.items():
        if not isinstance(v, int) or isinstance(v, bool) or not 100 <= v <= 10_000_000:
            errors[key] = str(_l("Enter an amount between 1 and 100,000 yuan."))
    if not errors.keys() & amounts.keys() and not (
        amounts["post_amount_min_fen"] <= amounts["post_amount_default_fen"] <= amounts["post_amount_max_fen"]
    ):
        errors["post_amount_default_fen"] = str(_l("The default must lie between the lowest and the highest amount."))
    for key, low, high in (
        ("post_term_months", 1, 60),
        ("family_post_limit", 1, 10),
        ("claim_days", 1, 90),
        ("offer_days", 1, 90),
        ("payment_due_day", 1, 28),
    ):
        v = values.get(key)
        if not isinstance(v, int) or isinstance(v, bool) or not low <= v <= high:
            errors[key] = str(_l("Enter a whole number from %(low)d to %(high)d.", low=low, high=high))
    union = values.get("union_name")
    if not isinstance(union, str) or not 2 <= len(checks.visible(union)) <= 60:
        errors["union_name"] = str(_l("Enter the union's name (2 to 60 characters)."))
    elif problem := checks.invisible_error(checks.visible(union)):
        errors["union_name"] = problem
    # identification (issue 5)
    errors.update(validate_screening(values.get("screening", {})))
    return errors


def update_settings(actor, values: dict[str, Any]) -> dict[str, Any]:
    """Store changed settings (audited); raises ValidationFailed and changes nothing on bad values."""
    current = get_settings()
    merged = copy.deepcopy(current)
    for key, value in values.items():
        if key not in DEFAULTS:
            raise ValidationFailed(str(_l("Unknown setting.")), {key: str(_l("Unknown setting."))})
        if isinstance(merged[key], dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    errors = validate_settings(merged)
    if errors:
        raise ValidationFailed(str(_l("Please correct the marked settings.")), errors)
    for key, value in merged.items():
        if value == current[key]:
            continue
        row = db.session.get(Setting, key)
        if row is None:
            row = Setting(key=key, value=value, updated_by_id=actor.id if actor else None)
            db.session.add(row)
        else:
            row.value = value
            row.updated_by_id = actor.id if actor else None
        audit.record(actor, "update", "setting", key, before=current[key], after=value, summary=key)
    db.session.flush()
    if has_request_context():
        g.pop("assist_settings", None)
    return get_settings()
