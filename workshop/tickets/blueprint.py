"""The tickets blueprint; views.py registers on it (with the `ticket_svg` and `ticket_code` filters)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("tickets", __name__)
