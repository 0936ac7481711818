"""The stage's switch for WhatsApp polls."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField

from workshop.forms import BaseForm


class WhatsAppPollsForm(BaseForm):
    enabled = BooleanField(_l("Send each poll's question by WhatsApp to this stage's online participants"))
