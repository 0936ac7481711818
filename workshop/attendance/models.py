"""Attendance evidence besides the hall check-ins (workshop/checkin/models.py): online joins and
presence, rows of imported meeting reports, and organisers' overrides."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workshop.db import Model, utcnow
from workshop.registration.models import Registration


class OnlineKind(enum.StrEnum):
    JOIN_CLICK = "join_click"
    PRESENCE = "presence"


class OnlineEvidence(Model):
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


class AttendanceOverride(Model):
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


class MeetingReport(Model):
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


class MeetingReportRow(Model):
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
