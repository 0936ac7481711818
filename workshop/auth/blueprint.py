"""The auth blueprint; views.py registers on it. It registers the login loader too (the core
imports no feature: `extensions.login_manager` learns its users from here)."""

from __future__ import annotations

from flask import Blueprint

from workshop.auth import queries
from workshop.db import db
from workshop.extensions import login_manager

bp = Blueprint("auth", __name__)


@bp.record_once
def _load_users(_state) -> None:
    login_manager.user_loader(lambda user_id: queries.user_of_session(db.session, user_id))
