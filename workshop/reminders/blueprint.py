"""The reminders blueprint; views.py, log_views.py, message_views.py and outbox_views.py register on it."""

from __future__ import annotations

from flask import Blueprint

from workshop.reminders.failures import delivery_failure

bp = Blueprint("reminders", __name__, url_prefix="/admin")
bp.add_app_template_filter(delivery_failure, "delivery_failure")
