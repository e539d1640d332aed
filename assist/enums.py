"""Enumerations shared by models, forms and the API. Values are the API's words; labels are translated for pages."""

from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l


class Role(StrEnum):
    ADMIN = "admin"
    CASEWORKER = "caseworker"
    SPONSOR = "sponsor"
    PROVIDER = "provider"


class Colour(StrEnum):
    RED = "red"
    YELLOW = "yellow"
    GREEN = "green"


class HardshipCategory(StrEnum):
    DEEP = "deep"
    RELATIVE = "relative"
    ACCIDENT = "accident"


class ArchiveType(StrEnum):
    STOCK = "stock"
    NEW = "new"
    RETURNED = "returned"


class FamilyStatus(StrEnum):
    ACTIVE = "active"
    EXITED = "exited"
    CLOSED = "closed"


class IdentityStatus(StrEnum):
    EMPLOYED = "employed"
    LAID_OFF = "laid_off"
    UNEMPLOYED = "unemployed"
    RETIRED = "retired"
    SICK_LEAVE = "sick_leave"
    EARLY_RETIRED = "early_retired"
    MIGRANT = "migrant"


class Relation(StrEnum):
    SELF = "self"
    SPOUSE = "spouse"
    CHILD = "child"
    PARENT = "parent"
    SIBLING = "sibling"
    OTHER = "other"


class Health(StrEnum):
    HEALTHY = "healthy"
    CHRONIC = "chronic"
    SERIOUS_ILLNESS = "serious_illness"
    DISABLED = "disabled"


class WorkAbility(StrEnum):
    FULL = "full"
    PARTIAL = "partial"
    NONE = "none"


class Schooling(StrEnum):
    NONE = "none"
    PRESCHOOL = "preschool"
    PRIMARY = "primary"
    JUNIOR = "junior"
    SENIOR = "senior"
    VOCATIONAL = "vocational"
    COLLEGE = "college"
    GRADUATED = "graduated"


class Housing(StrEnum):
    ADEQUATE = "adequate"
    DIFFICULT = "difficult"
    NONE = "none"


class AssessmentKind(StrEnum):
    INTAKE = "intake"
    REVIEW = "review"
    ON_DEMAND = "on_demand"


class ProfileType(StrEnum):
    SAFETY_NET = "safety_net"
    EMERGENCY = "emergency"
    EXPENSE = "expense"
    CARE = "care"
    DEVELOPMENT = "development"


class SponsorStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class SponsorChangeStatus(StrEnum):
    """A change of a sponsor's legal identity (name, credit code) awaiting the union's decision."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class PostStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLAIMED = "claimed"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    ENDED = "ended"


class AgreementStatus(StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"
    ACTIVE = "active"
    ENDED = "ended"
    CANCELLED = "cancelled"


class OfferStatus(StrEnum):
    PROPOSED = "proposed"
    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    LAPSED = "lapsed"
    DISCARDED = "discarded"


class MatchRunStatus(StrEnum):
    PROPOSED = "proposed"
    SENT = "sent"
    DISCARDED = "discarded"


class StipendStatus(StrEnum):
    UNPAID = "unpaid"
    PAID = "paid"
    FAILED = "failed"


class StipendKind(StrEnum):
    REGULAR = "regular"
    ADJUSTMENT = "adjustment"


class BatchStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    CLOSED = "closed"


class RunStatus(StrEnum):
    REQUESTED = "requested"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


LABELS: dict[type, dict] = {
    Role: {
        Role.ADMIN: _l("Admin"),
        Role.CASEWORKER: _l("Caseworker"),
        Role.SPONSOR: _l("Sponsor"),
        Role.PROVIDER: _l("Service provider"),
    },
    Colour: {
        Colour.RED: _l("Red"),
        Colour.YELLOW: _l("Yellow"),
        Colour.GREEN: _l("Green"),
    },
    HardshipCategory: {
        HardshipCategory.DEEP: _l("Deep hardship"),
        HardshipCategory.RELATIVE: _l("Relative hardship"),
        HardshipCategory.ACCIDENT: _l("Hardship by accident"),
    },
    ArchiveType: {
        ArchiveType.STOCK: _l("Existing"),
        ArchiveType.NEW: _l("New"),
        ArchiveType.RETURNED: _l("Returned to hardship"),
    },
    FamilyStatus: {
        FamilyStatus.ACTIVE: _l("Active"),
        FamilyStatus.EXITED: _l("Out of hardship"),
        FamilyStatus.CLOSED: _l("Closed"),
    },
    IdentityStatus: {
        IdentityStatus.EMPLOYED: _l("Employed"),
        IdentityStatus.LAID_OFF: _l("Laid off"),
        IdentityStatus.UNEMPLOYED: _l("Unemployed"),
        IdentityStatus.RETIRED: _l("Retired"),
        IdentityStatus.SICK_LEAVE: _l("On sick leave"),
        IdentityStatus.EARLY_RETIRED: _l("Early retired"),
        IdentityStatus.MIGRANT: _l("Migrant worker"),
    },
    Relation: {
        Relation.SELF: _l("Household head"),
        Relation.SPOUSE: _l("Spouse"),
        Relation.CHILD: _l("Child"),
        Relation.PARENT: _l("Parent"),
        Relation.SIBLING: _l("Sibling"),
        Relation.OTHER: _l("Other relative"),
    },
    Health: {
        Health.HEALTHY: _l("Healthy"),
        Health.CHRONIC: _l("Chronic illness"),
        Health.SERIOUS_ILLNESS: _l("Serious illness"),
        Health.DISABLED: _l("Disability"),
    },
    WorkAbility: {
        WorkAbility.FULL: _l("Able to work"),
        WorkAbility.PARTIAL: _l("Partial loss of work ability"),
        WorkAbility.NONE: _l("Total loss of work ability"),
    },
    Schooling: {
        Schooling.NONE: _l("Not in school"),
        Schooling.PRESCHOOL: _l("Preschool"),
        Schooling.PRIMARY: _l("Primary school"),
        Schooling.JUNIOR: _l("Junior high school"),
        Schooling.SENIOR: _l("Senior high school"),
        Schooling.VOCATIONAL: _l("Vocational school"),
        Schooling.COLLEGE: _l("College or university"),
        Schooling.GRADUATED: _l("Finished school"),
    },
    Housing: {
        Housing.ADEQUATE: _l("Adequate housing"),
        Housing.DIFFICULT: _l("Housing difficulty"),
        Housing.NONE: _l("No housing of its own"),
    },
    AssessmentKind: {
        AssessmentKind.INTAKE: _l("Intake"),
        AssessmentKind.REVIEW: _l("Review"),
        AssessmentKind.ON_DEMAND: _l("On demand"),
    },
    ProfileType: {
        ProfileType.SAFETY_NET: _l("Safety net"),
        ProfileType.EMERGENCY: _l("Emergency"),
        ProfileType.EXPENSE: _l("Expense-driven"),
        ProfileType.CARE: _l("Care"),
        ProfileType.DEVELOPMENT: _l("Development"),
    },
    SponsorStatus: {
        SponsorStatus.PENDING: _l("Awaiting approval"),
        SponsorStatus.APPROVED: _l("Approved"),
        SponsorStatus.REJECTED: _l("Rejected"),
        SponsorStatus.SUSPENDED: _l("Suspended"),
    },
    PostStatus: {
        PostStatus.DRAFT: _l("Draft"),
        PostStatus.OPEN: _l("Open"),
        PostStatus.CLAIMED: _l("Claimed"),
        PostStatus.ACTIVE: _l("Active"),
        PostStatus.SUSPENDED: _l("Suspended"),
        PostStatus.ENDED: _l("Ended"),
    },
    AgreementStatus: {
        AgreementStatus.DRAFT: _l("Draft"),
        AgreementStatus.SIGNED: _l("Signed"),
        AgreementStatus.ACTIVE: _l("In force"),
        AgreementStatus.ENDED: _l("Ended"),
        AgreementStatus.CANCELLED: _l("Cancelled"),
    },
    OfferStatus: {
        OfferStatus.PROPOSED: _l("Proposed"),
        OfferStatus.SENT: _l("Offered"),
        OfferStatus.ACCEPTED: _l("Accepted"),
        OfferStatus.DECLINED: _l("Declined"),
        OfferStatus.LAPSED: _l("Lapsed"),
        OfferStatus.DISCARDED: _l("Discarded"),
    },
    MatchRunStatus: {
        MatchRunStatus.PROPOSED: _l("For review"),
        MatchRunStatus.SENT: _l("Offers sent"),
        MatchRunStatus.DISCARDED: _l("Discarded"),
    },
    StipendStatus: {
        StipendStatus.UNPAID: _l("Unpaid"),
        StipendStatus.PAID: _l("Paid"),
        StipendStatus.FAILED: _l("Payment failed"),
    },
    StipendKind: {
        StipendKind.REGULAR: _l("Regular"),
        StipendKind.ADJUSTMENT: _l("Adjustment"),
    },
    BatchStatus: {
        BatchStatus.DRAFT: _l("Draft"),
        BatchStatus.APPROVED: _l("Approved for payment"),
        BatchStatus.CLOSED: _l("Closed"),
    },
    RunStatus: {
        RunStatus.REQUESTED: _l("Requested"),
        RunStatus.RUNNING: _l("Running"),
        RunStatus.SUCCEEDED: _l("Succeeded"),
        RunStatus.FAILED: _l("Failed"),
    },
}


# identification (issue 5)
class ImportSource(StrEnum):
    CIVIL_AFFAIRS = "civil_affairs"
    MEDICAL_INSURANCE = "medical_insurance"
    UNION_ROSTER = "union_roster"
    OTHER = "other"


class ImportStatus(StrEnum):
    MAPPING = "mapping"
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class CandidateStatus(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    VERIFIED = "verified"
    FILED = "filed"
    DISMISSED = "dismissed"


LABELS.update(
    {
        ImportSource: {
            ImportSource.CIVIL_AFFAIRS: _l("Civil-affairs extract"),
            ImportSource.MEDICAL_INSURANCE: _l("Medical-insurance extract"),
            ImportSource.UNION_ROSTER: _l("Enterprise union roster"),
            ImportSource.OTHER: _l("Other source"),
        },
        ImportStatus: {
            ImportStatus.MAPPING: _l("Waiting for column mapping"),
            ImportStatus.QUEUED: _l("Queued"),
            ImportStatus.RUNNING: _l("Importing"),
            ImportStatus.DONE: _l("Done"),
            ImportStatus.FAILED: _l("Failed"),
        },
        CandidateStatus: {
            CandidateStatus.NEW: _l("New"),
            CandidateStatus.ASSIGNED: _l("Assigned"),
            CandidateStatus.VERIFIED: _l("Visited"),
            CandidateStatus.FILED: _l("Filed"),
            CandidateStatus.DISMISSED: _l("Dismissed"),
        },
    }
)


def label(value, enum_cls=None, texts: dict | None = None) -> str:
    """The translated label of an enumeration member (or of a value of ``enum_cls``); ``texts`` is
    :func:`label_texts` of the current locale, when the caller has it at hand (templates do)."""
    if value is None or value == "":
        return ""
    enum_cls = enum_cls or type(value)
    labels = LABELS.get(enum_cls) if texts is None else _texts_of(texts, enum_cls)
    if labels is None:
        return str(value)
    try:
        return str(labels[enum_cls(value)])
    except ValueError:
        return str(value)


#: locale → enumeration → member → its label as text; the catalogues do not change while the process runs
_LABEL_TEXTS: dict[str, dict[type, dict]] = {}


def label_texts(locale: str) -> dict[type, dict]:
    """Every enumeration's labels as text in ``locale``, which must be the current one (filled as they are asked
    for, so that a page's fifty labels cost fifty dictionary reads, not fifty catalogue look-ups)."""
    return _LABEL_TEXTS.setdefault(locale, {})


def _texts_of(texts: dict[type, dict], enum_cls) -> dict | None:
    found = texts.get(enum_cls)
    if found is None and enum_cls in LABELS:
        found = texts[enum_cls] = {member: str(text) for member, text in LABELS[enum_cls].items()}
    return found


def choices(enum_cls) -> list[tuple[str, str]]:
    """(value, label) pairs for a select field, in the current locale."""
    from flask_babel import get_locale

    return [(m.value, text) for m, text in _texts_of(label_texts(str(get_locale())), enum_cls).items()]


def enum_type(enum_cls, name: str | None = None) -> sa.Enum:
    """A portable enum column: a VARCHAR with a CHECK constraint (named ``name``) on SQLite and PostgreSQL."""
    return sa.Enum(
        enum_cls,
        name=name or enum_cls.__name__.lower(),
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )
