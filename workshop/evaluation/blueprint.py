"""The evaluation blueprint: the participant's form under /saya, the organiser's pages under /admin."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("evaluation", __name__)
