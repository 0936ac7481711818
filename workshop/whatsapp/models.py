"""WhatsApp replies: a stage's switch, the polls sent out by WhatsApp, and every inbound message
the gateways delivered (unique per provider and message id: a repeated webhook does nothing)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workshop.db import Model, utcnow


class WhatsAppStage(Model):
    """Whether a stage's polls go out by WhatsApp (to its online participants)."""

    __tablename__ = "whatsapp_stage"

    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id", ondelete="CASCADE"), primary_key=True)
    polls_enabled: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WhatsAppParticipant(Model):
    """A participant's own choice to get each poll's question by WhatsApp, for their registration
    (opt-in: no row, or `polls` false, is off)."""

    __tablename__ = "whatsapp_participant"

    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), primary_key=True
    )
    polls: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WhatsAppPoll(Model):
    """A poll whose question went out by WhatsApp when it opened (once), and to how many."""

    __tablename__ = "whatsapp_poll"

    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), primary_key=True)
    participant_message_id: Mapped[int | None] = mapped_column(ForeignKey("participant_message.id"))
    recipients: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InboundMessage(Model):
    """One message a gateway delivered to the webhook, and what came of it (`outcome`)."""

    __tablename__ = "whatsapp_inbound"
    __table_args__ = (UniqueConstraint("provider", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(10))
    message_id: Mapped[str] = mapped_column(String(200))
    sender: Mapped[str] = mapped_column(String(20))  # E.164, or "" when it is not a phone number
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registration.id"), index=True)
    poll_id: Mapped[int | None] = mapped_column(ForeignKey("poll.id", ondelete="SET NULL"))
    outcome: Mapped[str] = mapped_column(String(30), default="received")
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # kept so long (prune)
