"""The registration blueprint; views.py and roster/views.py register on it. Every page may show a
phone number in its national form and name statuses, modes and organisation kinds."""

from __future__ import annotations

from flask import Blueprint

from workshop.programs.forms import ORG_KIND_LABELS
from workshop.registration.forms import MODE_LABELS, MODE_SHORT_LABELS, STATUS_LABELS
from workshop.registration.validation import display_phone

bp = Blueprint("registration", __name__)
bp.add_app_template_filter(display_phone, "phone")  # national form: 0812-3456-7890


@bp.app_context_processor
def _labels():
    return {
        "status_labels": STATUS_LABELS,
        "mode_labels": MODE_LABELS,
        "mode_short_labels": MODE_SHORT_LABELS,
        "kind_labels": ORG_KIND_LABELS,
    }
