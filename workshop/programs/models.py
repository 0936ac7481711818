from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workshop.db import Model, utcnow

# The hall check-in of each day of a stage opens this long before the day's start (a stage's setting).
DEFAULT_CHECK_IN_OPENS_BEFORE_MINUTES = 120
MAX_CHECK_IN_OPENS_BEFORE_MINUTES = 720

ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]


class OrgKind(enum.StrEnum):
    OPD = "opd"
    PERUSDA = "perusda"
    KECAMATAN = "kecamatan"
    DESA = "desa"
    KEMENTERIAN = "kementerian"
    LAINNYA = "lainnya"


class Organization(Model):
    """An instansi: an agency, a regional company, a sub-district, a village..."""

    __tablename__ = "organization"
    __table_args__ = (UniqueConstraint("kind", "name", "parent_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OrgKind] = mapped_column(Enum(OrgKind, native_enum=False, length=20), index=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    code: Mapped[str | None] = mapped_column(String(20), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)

    parent: Mapped[Organization | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Organization]] = relationship(back_populates="parent")

    @property
    def label(self) -> str:
        """The name people use, with its kecamatan for a village: 'Hutatoruan I, Kec. Tarutung'."""
        parent = self.parent
        return organization_label(self.name, parent.kind if parent else None, parent.name if parent else None)


def organization_label(name: str, parent_kind: OrgKind | None, parent_name: str | None) -> str:
    """`Organization.label` of an organisation read as columns (its name, its parent's kind and name)."""
    if parent_kind == OrgKind.KECAMATAN:
        return f"{name}, Kec. {parent_name}"
    return name


class Program(Model):
    """A kegiatan: a multi-stage Bimtek."""

    __tablename__ = "program"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    organiser: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Jakarta")
    registration_open: Mapped[bool] = mapped_column(default=True)
    # Attendance rules: present from this share of the stage's time; late after start + minutes.
    attendance_threshold_percent: Mapped[int] = mapped_column(default=75)
    late_after_minutes: Mapped[int] = mapped_column(default=15)
    # Bumped by every change to the programme's stages or agenda (see programs.schedule).
    schedule_version: Mapped[int] = mapped_column(default=1)
    # Bumped by every change to what its participant page asks of other features (programs.facts).
    facts_version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    stages: Mapped[list[Stage]] = relationship(
        back_populates="program", order_by="Stage.position", cascade="all, delete-orphan"
    )


@dataclass(frozen=True)
class ProgramRow:
    """The fields of a programme that a participant's page reads (a column-only statement's row):
    what the schedule and facts caches key on, and what the page shows."""

    id: int
    slug: str
    title: str
    timezone: str
    schedule_version: int
    facts_version: int


class Stage(Model):
    """A tahap: its number follows its position in the programme."""

    __tablename__ = "stage"
    __table_args__ = (UniqueConstraint("program_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), index=True)
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    venue_name: Mapped[str] = mapped_column(String(200), default="")
    venue_address: Mapped[str] = mapped_column(String(300), default="")
    capacity: Mapped[int | None]
    meeting_provider: Mapped[str] = mapped_column(String(40), default="")
    meeting_url: Mapped[str] = mapped_column(String(500), default="")
    meeting_id: Mapped[str] = mapped_column(String(80), default="")
    meeting_passcode: Mapped[str] = mapped_column(String(80), default="")
    check_in_opens_before_minutes: Mapped[int] = mapped_column(
        default=DEFAULT_CHECK_IN_OPENS_BEFORE_MINUTES,
        server_default=str(DEFAULT_CHECK_IN_OPENS_BEFORE_MINUTES),
    )

    program: Mapped[Program] = relationship(back_populates="stages")
    agenda: Mapped[list[AgendaItem]] = relationship(
        back_populates="stage", order_by="AgendaItem.starts_at", cascade="all, delete-orphan"
    )

    @property
    def number(self) -> str:
        return ROMAN[self.position - 1] if 0 < self.position <= len(ROMAN) else str(self.position)


class AgendaItem(Model):
    __tablename__ = "agenda_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), index=True)
    starts_at: Mapped[datetime]
    title: Mapped[str] = mapped_column(String(300))
    speaker: Mapped[str] = mapped_column(String(200), default="")

    stage: Mapped[Stage] = relationship(back_populates="agenda")
