"""The programmes blueprint; views.py registers on it. Every page may show a stage's phase and the
day of an agenda item."""

from __future__ import annotations

from flask import Blueprint
from flask_babel import get_locale

from workshop import clock
from workshop.programs import schedule

bp = Blueprint("programs", __name__, url_prefix="/admin")


@bp.app_context_processor
def _stage_helpers():
    return {"stage_phase": _stage_phase, "agenda_day": _agenda_day}


def _stage_phase(stage) -> str:
    return schedule.stage_phase(stage, clock.now())


def _agenda_day(stage, moment) -> str:
    return schedule.agenda_day(stage, moment, stage.program.timezone, str(get_locale()))
