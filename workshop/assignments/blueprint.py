"""The assignments blueprint: the organisation's pages under /saya, the organiser's and the
narasumber's under /admin."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("assignments", __name__)
