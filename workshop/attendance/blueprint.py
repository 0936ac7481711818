"""The attendance blueprint; views.py registers on it (the join link, presence, meeting reports)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("attendance", __name__)
