from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from workshop.db import Model, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"
    PANITIA = "panitia"
    NARASUMBER = "narasumber"
    PETUGAS = "petugas"
    PARTICIPANT = "participant"


STAFF_ROLES = frozenset({Role.ADMIN, Role.PANITIA, Role.NARASUMBER, Role.PETUGAS})
ORGANISER_ROLES = frozenset({Role.ADMIN, Role.PANITIA})
LIVE_ROLES = frozenset({Role.ADMIN, Role.PANITIA, Role.NARASUMBER})  # moderate Q&A, run polls


class User(UserMixin, Model):
    """A staff account (password) or a participant (personal link, no password)."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    name: Mapped[str] = mapped_column(String(200))
    username: Mapped[str | None] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), unique=True)
    # A staff member's own address and number, for "send a test to me" (reminders).
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    # Bumped to end every session of this user (logout everywhere, link revoked).
    session_epoch: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    person = relationship("Person", back_populates="user")

    def get_id(self) -> str:
        return f"{self.id}.{self.session_epoch}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_organiser(self) -> bool:
        return self.role in ORGANISER_ROLES

    @property
    def is_live_moderator(self) -> bool:
        return self.role in LIVE_ROLES

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return self.password_hash is not None and check_password_hash(self.password_hash, password)


class AuditEntry(Model):
    """Who changed what: approvals, link changes, imports, later check-in overrides."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(120))
    detail: Mapped[str] = mapped_column(Text, default="")

    actor = relationship("User")
