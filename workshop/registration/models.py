from __future__ import annotations

import enum
import json
from datetime import datetime

from flask import current_app
from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workshop.db import Model, utcnow
from workshop.programs.models import Organization, Program, Stage
from workshop.tickets import codes


class Status(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    WAITLISTED = "waitlisted"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class Mode(enum.StrEnum):
    LURING = "luring"
    DARING = "daring"


class Person(Model):
    """A participant. No national ID number (NIK) is collected."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str] = mapped_column(String(200), default="")
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)  # E.164, '+62...'
    email: Mapped[str] = mapped_column(String(254), default="", index=True)
    nip: Mapped[str] = mapped_column(String(30), default="")
    locale: Mapped[str] = mapped_column(String(5), default="id")  # language of their messages
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organization: Mapped[Organization] = relationship()
    user = relationship("User", back_populates="person", uselist=False)


class Registration(Model):
    __tablename__ = "registration"
    __table_args__ = (UniqueConstraint("program_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    status: Mapped[Status] = mapped_column(
        Enum(Status, native_enum=False, length=20), default=Status.PENDING, index=True
    )
    waitlisted_at: Mapped[datetime | None]
    # Personal link: only the SHA-256 of the token is stored; see registration.links.
    link_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    link_nonce: Mapped[str | None] = mapped_column(String(32))
    # Check-in: the QR code carries the secret, stored only as an HMAC (the lookup) and sealed (to
    # draw the QR again); the short code is typed by hand (tickets.codes).
    ticket_secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    ticket_secret_sealed: Mapped[str] = mapped_column(String(200))
    ticket_code: Mapped[str] = mapped_column(String(8), unique=True, default=codes.new_short_code)
    source: Mapped[str] = mapped_column(String(20), default="form")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    program: Mapped[Program] = relationship()
    person: Mapped[Person] = relationship()
    # In the order the stages were created: PostgreSQL returns updated rows in no particular order
    # otherwise.
    stage_modes: Mapped[list[RegistrationStage]] = relationship(
        back_populates="registration", cascade="all, delete-orphan", order_by="RegistrationStage.stage_id"
    )

    def issue_ticket_secret(self, secret_key: str) -> str:
        """Give the ticket a new secret (the old QR code stops opening anything); returns it."""
        secret = codes.new_secret()
        self.ticket_secret_hash = codes.secret_hash(secret, secret_key)
        self.ticket_secret_sealed = codes.seal(secret, secret_key)
        return secret

    def ticket_secret_with(self, secret_key: str) -> str:
        return codes.unseal(self.ticket_secret_sealed, secret_key)

    @property
    def ticket_secret(self) -> str:
        """The secret the QR code carries, unsealed with the app's key (templates; elsewhere
        `ticket_secret_with` takes the key)."""
        return self.ticket_secret_with(current_app.config["SECRET_KEY"])

    def mode_for(self, stage: Stage) -> Mode | None:
        for choice in self.stage_modes:
            if choice.stage_id == stage.id:
                return choice.mode
        return None


@event.listens_for(Registration, "before_insert")
def _issue_ticket_secret(_mapper, _connection, registration: Registration) -> None:
    """Every new registration gets its ticket secret, sealed with the app's key."""
    if registration.ticket_secret_hash is None:
        registration.issue_ticket_secret(current_app.config["SECRET_KEY"])


class RegistrationStage(Model):
    """A registration's attendance mode for one stage."""

    __tablename__ = "registration_stage"

    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), primary_key=True, index=True)
    mode: Mapped[Mode] = mapped_column(Enum(Mode, native_enum=False, length=10))

    registration: Mapped[Registration] = relationship(back_populates="stage_modes")
    stage: Mapped[Stage] = relationship()


class Notice(Model):
    """An in-app notice on a participant's page. The text is rendered from kind + detail."""

    __tablename__ = "notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]

    registration: Mapped[Registration] = relationship()

    @property
    def message(self) -> dict:
        """{'subject': ..., 'text': ...} of a notice that carries its own text (a reminder)."""
        return json.loads(self.detail) if self.detail else {}


class ImportStatus(enum.StrEnum):
    PREVIEWED = "previewed"
    IMPORTED = "imported"


class RosterImport(Model):
    """An uploaded participant list: its parsed rows and their problems, then its import.

    `rows` holds JSON: {"columns": {...}, "ignored_columns": [...], "rows": [...]}, each row with
    its spreadsheet row number, the raw cell values, the normalised values and its problems.
    """

    __tablename__ = "roster_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    rows: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[ImportStatus] = mapped_column(
        Enum(ImportStatus, native_enum=False, length=20), default=ImportStatus.PREVIEWED
    )
    imported_count: Mapped[int] = mapped_column(default=0)
    imported_at: Mapped[datetime | None]

    program: Mapped[Program] = relationship()
    uploaded_by = relationship("User")
