"""Attendance evidence: hall check-ins, every scan attempt, online joins and presence,
rows of imported meeting reports, and organisers' overrides."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workshop.db import db, utcnow
from workshop.programs.models import Stage
from workshop.registration.models import Registration


class ScanResult(enum.StrEnum):
    OK = "ok"
    OK_MODE_CHANGED = "ok_mode_changed"  # registered online, came to the hall
    ALREADY_CHECKED_IN = "already_checked_in"
    NOT_REGISTERED = "not_registered"  # a ticket of another programme
    NOT_APPROVED = "not_approved"
    CANCELLED = "cancelled"
    WRONG_DAY = "wrong_day"  # no day of the stage on the scan's date
    TOO_EARLY = "too_early"  # before the day's check-in opens (start - the stage's opening time)
    DAY_ENDED = "day_ended"  # after the day's end
    EARLIER_SCAN_KEPT = "earlier_scan_kept"  # an offline desk's earlier scan moved the check-in back
    UNKNOWN_CODE = "unknown_code"


class ScanMethod(enum.StrEnum):
    CAMERA = "camera"
    TYPED = "typed"
    SEARCH = "search"


class ScanAttempt(db.Model):
    """Every scan, failed ones too (append-only). The client nonce makes a retry count once."""

    __tablename__ = "scan_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), index=True)
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registration.id"), index=True)
    check_in_id: Mapped[int | None] = mapped_column(ForeignKey("check_in.id"))
    code: Mapped[str] = mapped_column(String(64))  # its first characters only: tickets.logged_code
    method: Mapped[ScanMethod] = mapped_column(Enum(ScanMethod, native_enum=False, length=10))
    desk: Mapped[str] = mapped_column(String(60))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    client_nonce: Mapped[str | None] = mapped_column(String(64), unique=True)
    scanned_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    result: Mapped[ScanResult] = mapped_column(Enum(ScanResult, native_enum=False, length=30))
    # EARLIER_SCAN_KEPT: the check-in's time and desk before this scan moved it back.
    replaced_scanned_at: Mapped[datetime | None]
    replaced_desk: Mapped[str | None] = mapped_column(String(60))


class CheckIn(db.Model):
    """The first accepted scan of a registration on one day of a stage."""

    __tablename__ = "check_in"
    __table_args__ = (UniqueConstraint("registration_id", "stage_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), index=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), index=True)
    day: Mapped[date]
    scanned_at: Mapped[datetime]
    desk: Mapped[str] = mapped_column(String(60))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    undone_at: Mapped[datetime | None]
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    registration: Mapped[Registration] = relationship()
    stage: Mapped[Stage] = relationship()


class OnlineKind(enum.StrEnum):
    JOIN_CLICK = "join_click"
    PRESENCE = "presence"


class OnlineEvidence(db.Model):
    """A join-link click (a moment: started_at == ended_at) or an interval of live presence.
    Matched rows of meeting reports are the third kind of online evidence (MeetingReportRow)."""

    __tablename__ = "online_evidence"
    __table_args__ = (Index("ix_online_evidence_registration_stage", "registration_id", "stage_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"))
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), index=True)
    kind: Mapped[OnlineKind] = mapped_column(Enum(OnlineKind, native_enum=False, length=20))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(80), default="")
    client_nonce: Mapped[str | None] = mapped_column(String(64), unique=True)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class AttendanceStatus(enum.StrEnum):
    HADIR = "hadir"
    TERLAMBAT = "terlambat"
    IZIN = "izin"
    TIDAK_HADIR = "tidak_hadir"
    BELUM_DIMULAI = "belum_dimulai"  # computed only: no day of the stage has begun for the person


class AttendanceOverride(db.Model):
    """An organiser's decision (izin, or a correction) that wins over the evidence."""

    __tablename__ = "attendance_override"
    __table_args__ = (UniqueConstraint("registration_id", "stage_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"))
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), index=True)
    status: Mapped[AttendanceStatus] = mapped_column(Enum(AttendanceStatus, native_enum=False, length=20))
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MeetingReport(db.Model):
    """An imported participant report of a meeting platform (e.g. Zoom's CSV) for one stage."""

    __tablename__ = "meeting_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    rows: Mapped[list[MeetingReportRow]] = relationship(
        back_populates="report", order_by="MeetingReportRow.row_number", cascade="all, delete-orphan"
    )


class RowMatch(enum.StrEnum):
    AUTO = "auto"
    MANUAL = "manual"
    UNMATCHED = "unmatched"
    IGNORED = "ignored"
    HOST = "host"  # the meeting's host (the organiser's Zoom account): never counted, never reviewed


class MeetingReportRow(db.Model):
    __tablename__ = "meeting_report_row"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("meeting_report.id"), index=True)
    row_number: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), default="")
    joined_at: Mapped[datetime]
    left_at: Mapped[datetime]
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registration.id"))
    match: Mapped[RowMatch] = mapped_column(Enum(RowMatch, native_enum=False, length=12))
    matched_by: Mapped[str] = mapped_column(String(20), default="")  # email, phone, name, organiser

    report: Mapped[MeetingReport] = relationship(back_populates="rows")
    registration: Mapped[Registration | None] = relationship()
