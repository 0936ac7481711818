"""The group work blueprint: the organiser's pages and the projector's presentation under /admin,
the participant's group page under /saya."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("groups", __name__)
