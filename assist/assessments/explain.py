"""Sentences that explain each factor of an assessment, in the reader's language."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from assist.i18n import yuan

FACTOR_NAMES = {
    "income": _l("Per-capita income"),
    "work_ability": _l("Lost work ability"),
    "illness": _l("Serious illness or disability"),
    "medical_burden": _l("Medical burden"),
    "education_burden": _l("Education burden"),
    "accident": _l("Sudden accident or disaster"),
    "dependants": _l("Dependants"),
    "single_parent": _l("Single parent"),
    "debt": _l("Debt"),
    "housing": _l("Housing"),
}
TRIGGERS = {
    "income_no_work": _l("Income under the line with a member who lost all work ability"),
    "accident": _l("An accident or disaster within the accident window"),
}


def factor_name(name: str) -> str:
    return str(FACTOR_NAMES.get(name, name))


def trigger_text(name: str | None) -> str:
    return str(TRIGGERS.get(name, name or ""))


def explain(factor: dict) -> str:
    """One sentence with the figures behind a factor's points."""
    d = factor.get("detail") or {}
    name = factor.get("name")
    if name == "income":
        if not d.get("recorded", True):
            return _("No income recorded in the last 12 months.")
        return _(
            "%(pc)s yuan per person per month against a line of %(line)s yuan.",
            pc=yuan(d.get("per_capita_fen")),
            line=yuan(d.get("line_fen")),
        )
    if name == "work_ability":
        return _(
            "%(total)s member(s) lost all work ability, %(partial)s partly.",
            total=d.get("total_loss", 0),
            partial=d.get("partial_loss", 0),
        )
    if name == "illness":
        return _(
            "%(serious)s member(s) with serious illness or disability, %(chronic)s with chronic illness.",
            serious=d.get("serious_or_disabled", 0),
            chronic=d.get("chronic", 0),
        )
    if name == "medical_burden":
        return _(
            "Medical spending %(m)s yuan against income %(i)s yuan over the last year.",
            m=yuan(d.get("medical_fen")),
            i=yuan(d.get("income_fen")),
        )
    if name == "education_burden":
        return _(
            "Education spending %(e)s yuan against income %(i)s yuan over the last year.",
            e=yuan(d.get("education_fen")),
            i=yuan(d.get("income_fen")),
        )
    if name == "accident":
        if d.get("months_ago") is None:
            return _("No accident or disaster on file.")
        return _("Accident or disaster %(n)s month(s) ago.", n=d.get("months_ago"))
    if name == "dependants":
        return _("%(n)s child(ren), pupil(s) or elderly member(s).", n=d.get("dependants", 0))
    if name == "single_parent":
        return _("Single-parent family.") if factor.get("points") else _("Not a single-parent family.")
    if name == "debt":
        return _(
            "Debt of %(d)s yuan against a year's income of %(i)s yuan.",
            d=yuan(d.get("debt_fen")),
            i=yuan(d.get("income_fen")),
        )
    if name == "housing":
        from assist.enums import Housing, label

        return label(d.get("housing"), Housing)
    return ""
