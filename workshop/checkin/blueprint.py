"""The check-in blueprint; views.py (the scanner pages) and api.py (its JSON API) register on it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("checkin", __name__)
