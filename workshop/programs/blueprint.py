"""The programmes blueprint; views.py registers on it. Every page may show a stage's phase (and
when it resumes, between two of its days) and the day of an agenda item."""

from __future__ import annotations

from flask import Blueprint
from flask_babel import get_locale

from workshop import clock, i18n
from workshop.programs import schedule

bp = Blueprint("programs", __name__, url_prefix="/admin")


@bp.app_context_processor
def _stage_helpers():
    return {"stage_phase": _stage_phase, "stage_resumes": _stage_resumes, "agenda_day": _agenda_day}


def _stage_phase(stage) -> str:
    return schedule.stage_phase(stage, clock.now())


def _stage_resumes(stage) -> str:
    """'Jumat, 25 Juni 2021, pukul 09.00 WIB' between two days of a running stage, else ''."""
    moment = schedule.resumes_at(stage, clock.now())
    if moment is None:
        return ""
    return i18n.format_datetime_long(moment, stage.program.timezone, str(get_locale()))


def _agenda_day(stage, moment) -> str:
    return schedule.agenda_day(stage, moment, stage.program.timezone, str(get_locale()))
