"""The reminders blueprint; views.py, message_views.py and outbox_views.py register on it."""

from __future__ import annotations

from flask import Blueprint

from workshop.reminders.failures import failure_text

bp = Blueprint("reminders", __name__, url_prefix="/admin")
bp.add_app_template_filter(failure_text, "delivery_failure")
