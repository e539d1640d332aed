"""Imports every model, so metadata and migrations see the whole schema."""

from assist.areas.models import Area
from assist.assessments.models import Assessment, ColourChange
from assist.audit.models import AuditEntry
from assist.auth.models import ApiToken, LoginAttempt, User, user_areas
from assist.families.models import Family, Income, Member

# identification (issue 5)
from assist.identification.models import (  # noqa: F401
    Candidate,
    ColumnMapping,
    ImportedPerson,
    ImportReject,
    WorkerImport,
)
from assist.settings.models import Setting

__all__ = [
    "ApiToken",
    "Area",
    "Assessment",
    "AuditEntry",
    "ColourChange",
    "Family",
    "Income",
    "LoginAttempt",
    "Member",
    "Setting",
    "User",
    "user_areas",
]
