"""The programme's evaluation questionnaire (reused for every stage) and the responses to it.

One `Questionnaire` per programme, its `QuestionnaireItem`s in order: a rating scale (1..5), a
multiple choice (one option) or free text. One `EvaluationResponse` per (registration, stage),
the database says so; its `EvaluationAnswer`s, one per item answered.
"""

from __future__ import annotations

import enum
import json
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workshop.db import Model, utcnow
from workshop.programs import facts
from workshop.programs.models import Program, Stage
from workshop.registration.models import Registration

SCALE_MIN = 1
SCALE_MAX = 5
DEFAULT_DEADLINE_DAYS = 7
MAX_DEADLINE_DAYS = 90


class ItemKind(enum.StrEnum):
    SCALE = "scale"
    CHOICE = "choice"
    TEXT = "text"


class Questionnaire(Model):
    """A programme's evaluation: open from the start of a stage's last day until `deadline_days`
    after the stage's end."""

    __tablename__ = "questionnaire"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), unique=True)
    deadline_days: Mapped[int] = mapped_column(default=DEFAULT_DEADLINE_DAYS)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    program: Mapped[Program] = relationship()
    items: Mapped[list[QuestionnaireItem]] = relationship(
        back_populates="questionnaire",
        order_by="QuestionnaireItem.position",
        cascade="all, delete-orphan",
    )


class QuestionnaireItem(Model):
    __tablename__ = "questionnaire_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaire.id"), index=True)
    position: Mapped[int]
    kind: Mapped[ItemKind] = mapped_column(Enum(ItemKind, native_enum=False, length=10))
    # The question as the participant reads it (the organiser's words, Indonesian by default).
    prompt: Mapped[str] = mapped_column(String(300))
    # A choice item's options, a JSON list of strings.
    options_json: Mapped[str] = mapped_column(Text, default="[]")
    required: Mapped[bool] = mapped_column(default=True)

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="items")

    @property
    def options(self) -> list[str]:
        return json.loads(self.options_json or "[]")

    @options.setter
    def options(self, values: list[str]) -> None:
        self.options_json = json.dumps(list(values), ensure_ascii=False)


class EvaluationResponse(Model):
    """A registration's evaluation of one stage; edited in place until the deadline."""

    __tablename__ = "evaluation_response"
    __table_args__ = (UniqueConstraint("registration_id", "stage_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), index=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), index=True)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    registration: Mapped[Registration] = relationship()
    stage: Mapped[Stage] = relationship()
    answers: Mapped[list[EvaluationAnswer]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )


class EvaluationAnswer(Model):
    """One item's answer: `rating` for a scale, `text` for a choice (the option) or free text."""

    __tablename__ = "evaluation_answer"

    response_id: Mapped[int] = mapped_column(ForeignKey("evaluation_response.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_item.id"), primary_key=True, index=True)
    rating: Mapped[int | None]
    text: Mapped[str] = mapped_column(Text, default="")

    response: Mapped[EvaluationResponse] = relationship(back_populates="answers")
    item: Mapped[QuestionnaireItem] = relationship()


# The participant page keeps whether the programme's questionnaire invites (programs/facts.py).
facts.track(Questionnaire)
facts.track(QuestionnaireItem, facts.through("questionnaire"))
