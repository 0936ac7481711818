"""What reminders subscribes to: other features' signals (workshop/signals.py)."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from sqlalchemy.orm import Session

from workshop import signals
from workshop.programs.models import Stage
from workshop.reminders import services


def init_app(app: Flask) -> None:
    def stage_saved(
        _app, *, session: Session, stage: Stage, previous_start: datetime, now: datetime, **_
    ) -> None:
        services.stage_rescheduled(session, stage, previous_start, now)  # reminders follow a moved start

    signals.stage_saved.connect(stage_saved, sender=app, weak=False)
