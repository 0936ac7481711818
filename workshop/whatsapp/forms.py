"""The stage's switch for WhatsApp polls."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField

from workshop.forms import BaseForm


class WhatsAppPollsForm(BaseForm):
    enabled = BooleanField(_l("Send each poll's question by WhatsApp to this stage's online participants"))


class ParticipantPollsForm(BaseForm):
    """A participant's own choice: each poll's question by WhatsApp, or not."""

    enabled = BooleanField(_l("Send polls to my WhatsApp"))
    stage_id = HiddenField()  # the live page to go back to
