"""Group work of a stage: its participants split into groups by Smart City dimension.

`GroupWork` is a stage's setup: how members are found (the organiser assigns them, or each
participant picks a group) and the cap per group. A `StageGroup` is one dimension's group of the
stage, with its leader (one of its members) and an optional breakout meeting link. A
`GroupMember` puts a registration in one group of the stage (at most one: the key is the stage
and the registration). `GroupOutput` is the group's shared output, one row per field (problems,
quick wins, programmes), each with its own version: a save names the version it started from,
and a save from an older version is refused with who changed the field meanwhile.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workshop.db import Model, utcnow
from workshop.programs import facts
from workshop.programs.dimensions import DIMENSIONS
from workshop.programs.models import Stage
from workshop.registration.models import Registration

OUTPUT_FIELDS = ("problems", "quick_wins", "programmes")


class GroupMode(enum.StrEnum):
    ORGANISER = "organiser"  # the organiser assigns organisations or participants
    CHOICE = "choice"  # each participant picks a group with seats left


class GroupWork(Model):
    __tablename__ = "group_work"

    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), primary_key=True)
    mode: Mapped[GroupMode] = mapped_column(Enum(GroupMode, native_enum=False, length=10))
    cap: Mapped[int | None]  # members per group; None: no cap
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    stage: Mapped[Stage] = relationship()


class StageGroup(Model):
    __tablename__ = "stage_group"
    __table_args__ = (UniqueConstraint("stage_id", "dimension"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), index=True)
    dimension: Mapped[str] = mapped_column(String(20))
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("registration.id"))
    meeting_url: Mapped[str] = mapped_column(String(500), default="")

    stage: Mapped[Stage] = relationship()
    leader: Mapped[Registration | None] = relationship()
    members: Mapped[list[GroupMember]] = relationship(back_populates="group", cascade="all, delete-orphan")
    output: Mapped[list[GroupOutput]] = relationship(
        back_populates="group", cascade="all, delete-orphan", order_by="GroupOutput.field"
    )

    @property
    def order(self) -> int:
        return DIMENSIONS.index(self.dimension) if self.dimension in DIMENSIONS else len(DIMENSIONS)


class GroupMember(Model):
    __tablename__ = "group_member"

    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), primary_key=True, index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("stage_group.id"), index=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    group: Mapped[StageGroup] = relationship(back_populates="members")
    registration: Mapped[Registration] = relationship()


class GroupOutput(Model):
    __tablename__ = "group_output"

    group_id: Mapped[int] = mapped_column(ForeignKey("stage_group.id"), primary_key=True)
    field: Mapped[str] = mapped_column(String(20), primary_key=True)
    text: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=0)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("registration.id"))
    updated_at: Mapped[datetime | None]

    group: Mapped[StageGroup] = relationship(back_populates="output")
    updated_by: Mapped[Registration | None] = relationship()


# The participant page keeps the stages with group work (programs/facts.py).
facts.track(GroupWork, facts.through("stage"))
