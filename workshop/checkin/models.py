"""Hall check-in: the check-ins (the first accepted scan of a day) and every scan attempt."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workshop.db import Model, utcnow
from workshop.programs.models import Stage
from workshop.registration.models import Registration


class ScanResult(enum.StrEnum):
    OK = "ok"
    OK_MODE_CHANGED = "ok_mode_changed"  # registered online, came to the hall
    ALREADY_CHECKED_IN = "already_checked_in"
    NOT_REGISTERED = "not_registered"  # a ticket of another programme
    NOT_APPROVED = "not_approved"
    CANCELLED = "cancelled"
    WRONG_DAY = "wrong_day"  # no day of the stage on the scan's date (logged before the two below)
    TOO_EARLY = "too_early"  # before the day's check-in opens (start - the stage's opening time)
    DAY_ENDED = "day_ended"  # after the day's end
    STAGE_NOT_STARTED = "stage_not_started"  # before the stage's first check-in opens
    STAGE_ENDED = "stage_ended"  # after the stage's last check-in closed
    EARLIER_SCAN_KEPT = "earlier_scan_kept"  # an offline desk's earlier scan moved the check-in back
    UNKNOWN_CODE = "unknown_code"


class ScanMethod(enum.StrEnum):
    CAMERA = "camera"
    TYPED = "typed"
    SEARCH = "search"


class ScanAttempt(Model):
    """Every scan, failed ones too (append-only). The client nonce makes a retry count once."""

    __tablename__ = "scan_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), index=True)
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registration.id"), index=True)
    check_in_id: Mapped[int | None] = mapped_column(ForeignKey("check_in.id"))
    code: Mapped[str] = mapped_column(String(64))  # its first characters only: tickets.codes.logged_code
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


class CheckIn(Model):
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
