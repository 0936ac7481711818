"""The live blueprint; views.py registers on it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("live", __name__, url_prefix="/live")
