"""The check-in blueprint. Its routes live in several modules, imported at the end."""

from flask import Blueprint

bp = Blueprint("checkin", __name__)

from workshop.checkin import scanner_views, ticket_views, online_views  # noqa: E402, F401, I001
