"""Every feature's tables, imported in one place so the metadata (and Alembic) sees them all."""

from workshop.auth.models import AuditEntry, User
from workshop.checkin.models import (
    AttendanceOverride,
    CheckIn,
    MeetingReport,
    MeetingReportRow,
    OnlineEvidence,
    ScanAttempt,
)
from workshop.programs.models import AgendaItem, Organization, Program, Stage
from workshop.registration.models import Notice, Person, Registration, RegistrationStage, RosterImport

__all__ = [
    "AgendaItem",
    "AttendanceOverride",
    "AuditEntry",
    "CheckIn",
    "MeetingReport",
    "MeetingReportRow",
    "Notice",
    "OnlineEvidence",
    "Organization",
    "Person",
    "Program",
    "Registration",
    "RegistrationStage",
    "RosterImport",
    "ScanAttempt",
    "Stage",
    "User",
]
