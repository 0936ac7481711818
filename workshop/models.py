"""Every feature's tables, imported in one place so the metadata (and Alembic) sees them all."""

from workshop.assignments.models import (
    Assignment,
    AssignmentReminder,
    AssignmentTarget,
    Submission,
    SubmissionReview,
    SubmissionRevision,
)
from workshop.attendance.models import AttendanceOverride, MeetingReport, MeetingReportRow, OnlineEvidence
from workshop.auth.models import AuditEntry, User
from workshop.certificates.models import (
    Certificate,
    CertificateCounter,
    CertificateJob,
    CertificateSettings,
    StageHours,
)
from workshop.checkin.models import CheckIn, ScanAttempt
from workshop.evaluation.models import EvaluationAnswer, EvaluationResponse, Questionnaire, QuestionnaireItem
from workshop.groups.models import GroupMember, GroupOutput, GroupWork, StageGroup
from workshop.laporan.models import ReportPhoto, ReportText
from workshop.programs.models import AgendaItem, Organization, Program, Stage
from workshop.registration.models import Notice, Person, Registration, RegistrationStage, RosterImport
from workshop.reminders.models import (
    Announcement,
    Delivery,
    OutboxMessage,
    ReminderExpansion,
    ReminderRule,
    ReminderRuleOverride,
    ReminderSettings,
    SchedulerHeartbeat,
    StageMove,
)
from workshop.whatsapp.models import InboundMessage, WhatsAppParticipant, WhatsAppPoll, WhatsAppStage

__all__ = [
    "AgendaItem",
    "Announcement",
    "Assignment",
    "AssignmentReminder",
    "AssignmentTarget",
    "AttendanceOverride",
    "AuditEntry",
    "Certificate",
    "CertificateCounter",
    "CertificateJob",
    "CertificateSettings",
    "CheckIn",
    "Delivery",
    "EvaluationAnswer",
    "EvaluationResponse",
    "GroupMember",
    "GroupOutput",
    "GroupWork",
    "InboundMessage",
    "MeetingReport",
    "MeetingReportRow",
    "Notice",
    "OnlineEvidence",
    "Organization",
    "OutboxMessage",
    "Person",
    "Program",
    "Questionnaire",
    "QuestionnaireItem",
    "Registration",
    "RegistrationStage",
    "ReminderExpansion",
    "ReminderRule",
    "ReminderRuleOverride",
    "ReminderSettings",
    "ReportPhoto",
    "ReportText",
    "RosterImport",
    "ScanAttempt",
    "SchedulerHeartbeat",
    "Stage",
    "StageGroup",
    "StageHours",
    "StageMove",
    "Submission",
    "SubmissionReview",
    "SubmissionRevision",
    "User",
    "WhatsAppParticipant",
    "WhatsAppPoll",
    "WhatsAppStage",
]
