"""The certificate tables: a programme's rule and template, the JP of each stage, the number
counter, the certificates issued, and the bulk runs that make the ZIP of their PDFs.

A certificate freezes the participant's facts when it is issued (name, organisation, programme,
stages and JP attended, number, date), so a PDF made again later is the same; the organiser's
template (logo, signatory, place) is applied when the PDF is made. A revoked certificate keeps its
row and its number: the numbers of a programme stay gap-free.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Enum, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workshop.auth.models import User
from workshop.db import Model, utcnow
from workshop.programs import facts
from workshop.programs.models import Program
from workshop.registration.models import Registration

DEFAULT_NUMBER_FORMAT = "{n}/Sertifikat/{year}"


class CertificateSettings(Model):
    """A programme's eligibility rule and certificate template (one row per programme).

    Eligible: present (hadir or terlambat) at `min_stages` stages at least, and/or with `min_jp`
    JP at least (the JP of the stages present); each criterion that is set must be met, and at
    least one is set. `require_evaluation`: the evaluation of every stage counted is filled in.
    """

    __tablename__ = "certificate_settings"

    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), primary_key=True)
    min_stages: Mapped[int | None]
    min_jp: Mapped[int | None]
    require_evaluation: Mapped[bool] = mapped_column(default=False)
    signatory_name: Mapped[str] = mapped_column(String(200), default="")
    signatory_nip: Mapped[str] = mapped_column(String(30), default="")
    signatory_title: Mapped[str] = mapped_column(String(200), default="")
    place: Mapped[str] = mapped_column(String(100), default="")
    signed_on: Mapped[date | None]
    number_format: Mapped[str] = mapped_column(String(120), default=DEFAULT_NUMBER_FORMAT)
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_type: Mapped[str] = mapped_column(String(20), default="")  # image/png, image/jpeg
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    program: Mapped[Program] = relationship()


class StageHours(Model):
    """The JP (jam pelajaran) of one stage, set by the organiser."""

    __tablename__ = "certificate_stage_hours"

    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), primary_key=True)
    jp: Mapped[int] = mapped_column(default=0)


class CertificateCounter(Model):
    """The last number issued in a programme; locked while numbers are assigned."""

    __tablename__ = "certificate_counter"

    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)


class Certificate(Model):
    __tablename__ = "certificate"
    __table_args__ = (UniqueConstraint("program_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), index=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), unique=True)
    number: Mapped[int]
    number_text: Mapped[str] = mapped_column(String(160))
    code: Mapped[str] = mapped_column(String(24), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    organization: Mapped[str] = mapped_column(String(300))
    program_title: Mapped[str] = mapped_column(String(300))
    stage_numbers: Mapped[str] = mapped_column(String(100))  # "I,II,IV"
    stages_total: Mapped[int]
    jp: Mapped[int]
    dated: Mapped[date]
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str] = mapped_column(Text, default="")
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    program: Mapped[Program] = relationship()
    registration: Mapped[Registration] = relationship()

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def stages(self) -> list[str]:
        return [number for number in self.stage_numbers.split(",") if number]


class JobStatus(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class CertificateJob(Model):
    """A bulk run: the PDFs of a programme's valid certificates written into one ZIP, with progress."""

    __tablename__ = "certificate_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), index=True)
    status: Mapped[JobStatus] = mapped_column(
        Enum(JobStatus, native_enum=False, length=10), default=JobStatus.RUNNING
    )
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    issued: Mapped[int] = mapped_column(default=0)  # new certificates this run issued
    error: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    started_by: Mapped[User | None] = relationship()


# The participant page keeps whether the programme has certificates (programs/facts.py; the bulk
# insert of issuing.issue says so itself).
facts.track(Certificate)
