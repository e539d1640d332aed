"""The audit log in the reader's words: what was done, to what, and which fields changed.

Entries keep their codes (``login``, ``stipend_batch``, ``pledge_budget_fen``), which scripts and filters rely on;
the page shows these labels instead, and falls back to the code for one not named here yet.
"""

import json

from flask_babel import lazy_pgettext as _p

from assist.enums import (
    LABELS,
    ArchiveType,
    Colour,
    HardshipCategory,
    Health,
    Housing,
    IdentityStatus,
    ProfileType,
    Relation,
    Role,
    WorkAbility,
)

ACTIONS = {
    "login": _p("audit action", "Logged in"),
    "logout": _p("audit action", "Logged out"),
    "create": _p("audit action", "Created"),
    "update": _p("audit action", "Changed"),
    "delete": _p("audit action", "Deleted"),
    "register": _p("audit action", "Registered"),
    "approve": _p("audit action", "Approved"),
    "reject": _p("audit action", "Rejected"),
    "suspend": _p("audit action", "Suspended"),
    "resume": _p("audit action", "Resumed"),
    "publish": _p("audit action", "Published"),
    "unpublish": _p("audit action", "Withdrawn from the market"),
    "claim": _p("audit action", "Claimed"),
    "withdraw": _p("audit action", "Claim withdrawn"),
    "release": _p("audit action", "Claim released"),
    "expire": _p("audit action", "Expired"),
    "activate": _p("audit action", "Started"),
    "end": _p("audit action", "Ended"),
    "cancel": _p("audit action", "Cancelled"),
    "sign": _p("audit action", "Signed"),
    "renew": _p("audit action", "Renewed"),
    "terminate": _p("audit action", "Terminated"),
    "attach_scan": _p("audit action", "Scan attached"),
    "assess": _p("audit action", "Assessed"),
    "reassess_all": _p("audit action", "Batch reassessment"),
    "exit": _p("audit action", "Exit confirmed"),
    "return": _p("audit action", "Returned to hardship"),
    "reveal_id": _p("audit action", "ID number revealed"),
    "generate": _p("audit action", "Stipends generated"),
    "close": _p("audit action", "Closed"),
    "pay": _p("audit action", "Payment confirmed"),
    "fail": _p("audit action", "Payment failed"),
    "reissue": _p("audit action", "Payment reissued"),
    "adjust": _p("audit action", "Adjusted"),
    "reconcile": _p("audit action", "Bank statement reconciled"),
    "propose": _p("audit action", "Matching proposed"),
    "send": _p("audit action", "Offers sent"),
    "discard": _p("audit action", "Proposal discarded"),
    "accept": _p("audit action", "Offer accepted"),
    "decline": _p("audit action", "Offer declined"),
    "map_columns": _p("audit action", "Columns mapped"),
    "run_now": _p("audit action", "Run requested"),
    "status": _p("audit action", "Status changed"),
    "request_change": _p("audit action", "Change of name or code requested"),
    "approve_change": _p("audit action", "Change of name or code approved"),
    "reject_change": _p("audit action", "Change of name or code rejected"),
    "download_original": _p("audit action", "Original file downloaded"),
    "download_rejects": _p("audit action", "Rejected rows downloaded"),
}

ENTITIES = {
    "family": _p("record type", "Family"),
    "member": _p("record type", "Member"),
    "income": _p("record type", "Income"),
    "user": _p("record type", "User"),
    "setting": _p("record type", "Setting"),
    "area": _p("record type", "Area"),
    "sponsor": _p("record type", "Sponsor"),
    "post": _p("record type", "Virtual post"),
    "agreement": _p("record type", "Agreement"),
    "offer": _p("record type", "Matching offer"),
    "match_run": _p("record type", "Matching proposal"),
    "stipend_batch": _p("record type", "Stipend batch"),
    "stipend_record": _p("record type", "Stipend record"),
    "worker_import": _p("record type", "Worker import"),
    "candidate": _p("record type", "Candidate"),
    "job": _p("record type", "Scheduled job"),
    "assessment": _p("record type", "Assessment"),
}

#: the fields most entries change; another field shows its code
FIELDS = {
    "status": _p("record field", "Status"),
    "name": _p("record field", "Name"),
    "username": _p("record field", "User name"),
    "display_name": _p("record field", "Display name"),
    "email": _p("record field", "E-mail"),
    "role": _p("record field", "Role"),
    "active": _p("record field", "Active"),
    "phone": _p("record field", "Phone"),
    "address": _p("record field", "Address"),
    "colour": _p("record field", "Colour"),
    "score": _p("record field", "Score"),
    "primary_type": _p("record field", "Primary type"),
    "next_review_on": _p("record field", "Next review"),
    "title": _p("record field", "Title"),
    "duties": _p("record field", "Duties"),
    "hours_per_month": _p("record field", "Hours a month"),
    "monthly_amount_fen": _p("record field", "Monthly amount (fen)"),
    "amount_fen": _p("record field", "Amount (fen)"),
    "term_months": _p("record field", "Term (months)"),
    "start_on": _p("record field", "Start date"),
    "end_on": _p("record field", "End date"),
    "signed_on": _p("record field", "Signed on"),
    "paid_on": _p("record field", "Paid on"),
    "reference": _p("record field", "Transfer reference"),
    "failure_reason": _p("record field", "Reason for failure"),
    "attempts": _p("record field", "Attempts"),
    "credit_code": _p("record field", "Unified social credit code"),
    "contact_name": _p("record field", "Contact person"),
    "pledge_posts": _p("record field", "Pledged posts"),
    "pledge_budget_fen": _p("record field", "Pledged monthly budget (fen)"),
    "reason": _p("record field", "Reason"),
    "month": _p("record field", "Month"),
    "area_id": _p("record field", "Area"),
    "area_codes": _p("record field", "Areas"),
    "hardship_category": _p("record field", "Hardship category"),
    "archive_type": _p("record field", "Archive type"),
    "head_name": _p("record field", "Household head"),
    "employer": _p("record field", "Employer"),
    "employer_union": _p("record field", "Employer's union"),
    "identity_status": _p("record field", "Identity status"),
    "accident_on": _p("record field", "Accident date"),
    "accident_note": _p("record field", "Accident"),
    "single_parent": _p("record field", "Single parent"),
    "debt_fen": _p("record field", "Debt (fen)"),
    "housing": _p("record field", "Housing"),
    "notes": _p("record field", "Notes"),
    "consent_on": _p("record field", "Consent given on"),
    "consent_scope": _p("record field", "Consent scope"),
    "members": _p("record field", "Members"),
    "sponsor_id": _p("record field", "Sponsor"),
    "code": _p("record field", "Code"),
    "parent_code": _p("record field", "Parent area"),
    "health": _p("record field", "Health"),
    "work_ability": _p("record field", "Work ability"),
    "relation": _p("record field", "Relation"),
}

#: fields whose values are an enumeration's codes, shown with that enumeration's labels
FIELD_ENUMS = {
    "colour": Colour,
    "hardship_category": HardshipCategory,
    "archive_type": ArchiveType,
    "identity_status": IdentityStatus,
    "housing": Housing,
    "primary_type": ProfileType,
    "role": Role,
    "health": Health,
    "work_ability": WorkAbility,
    "relation": Relation,
}

#: the entity types the log's filter offers, in this order
FILTERABLE = tuple(ENTITIES)


def action_label(code: str) -> str:
    return str(ACTIONS.get(code, code))


def entity_label(code: str) -> str:
    return str(ENTITIES.get(code, code))


def field_label(code: str) -> str:
    return str(FIELDS.get(code, code))


def value_text(field: str, value) -> str:
    """A logged value as the reader would write it: an enumeration's label, a list or record as JSON in its own
    script (not \\u escapes), nothing as a dash."""
    if value is None or value == "":
        return "—"
    enum = FIELD_ENUMS.get(field)
    if enum is not None:
        try:
            return str(LABELS[enum][enum(value)])
        except (ValueError, KeyError):
            return str(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def field_changes(before, after) -> list[tuple[str, object, object]]:
    """(field, before, after) for each field either side names, in the order they were written; a side that is not
    a set of fields (a list, a number) is shown whole under an empty field name."""
    if not isinstance(before, dict | type(None)) or not isinstance(after, dict | type(None)):
        return [("", value_text("", before), value_text("", after))]
    before, after = before or {}, after or {}
    names = list(dict.fromkeys([*before, *after]))
    return [(field_label(n), value_text(n, before.get(n)), value_text(n, after.get(n))) for n in names]
