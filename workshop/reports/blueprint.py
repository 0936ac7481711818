"""The reports blueprint; views.py registers on it. Every page may name attendance statuses and
modes."""

from __future__ import annotations

from flask import Blueprint

from workshop.reports.labels import ATTENDANCE_LABELS, MODE_SHORT

bp = Blueprint("reports", __name__, url_prefix="/admin")


@bp.app_context_processor
def _labels():
    return {"attendance_labels": ATTENDANCE_LABELS, "mode_short": MODE_SHORT}
