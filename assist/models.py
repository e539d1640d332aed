"""Imports every model, so metadata and migrations see the whole schema."""

from assist.agreements.models import Agreement, AgreementScan, Suspension
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
from assist.inbox.models import Notification
from assist.posts.models import MatchRun, Offer, Post, PostEvent
from assist.schedule.models import JobRun, SchedulerLease
from assist.settings.models import Setting
from assist.sponsors.models import Sponsor, SponsorChange, sponsor_areas
from assist.stipends.models import StipendBatch, StipendRecord

__all__ = [
    "Agreement",
    "AgreementScan",
    "ApiToken",
    "Area",
    "Assessment",
    "AuditEntry",
    "ColourChange",
    "Family",
    "Income",
    "JobRun",
    "LoginAttempt",
    "MatchRun",
    "Member",
    "Notification",
    "Offer",
    "Post",
    "PostEvent",
    "SchedulerLease",
    "Setting",
    "Sponsor",
    "SponsorChange",
    "StipendBatch",
    "StipendRecord",
    "Suspension",
    "User",
    "sponsor_areas",
    "user_areas",
]
