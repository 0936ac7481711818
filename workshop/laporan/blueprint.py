"""The laporan blueprint; views.py registers its routes on it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("laporan", __name__)
