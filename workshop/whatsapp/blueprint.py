"""The WhatsApp blueprint: the gateways' webhooks and the stage's switch; views.py registers on it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("whatsapp", __name__, url_prefix="/whatsapp")
