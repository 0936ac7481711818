"""The reminders blueprint; views.py, message_views.py and outbox_views.py register on it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reminders", __name__, url_prefix="/admin")
