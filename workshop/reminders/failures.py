"""Why a delivery could not be sent. The engine stores one of these English sentences (they are the
catalog's msgids, marked with `N_` so that the engine itself translates nothing); the delivery log
and the registration page show them in the reader's language. Any other reason (a mail server's or
gateway's own answer) is shown as it came."""

from __future__ import annotations

from flask_babel import gettext


def N_(text: str) -> str:
    return text


NO_LINK = N_("The participant has no personal link (it was revoked).")
NO_EMAIL = N_("The participant has no email address.")
NO_PHONE = N_("The participant has no phone number.")
NO_RECIPIENT = N_("No recipient.")
WORKER_STOPPED = N_("The sending worker stopped before confirming the send.")

KNOWN = frozenset({NO_LINK, NO_EMAIL, NO_PHONE, NO_RECIPIENT, WORKER_STOPPED})


def failure_text(error: str) -> str:
    return gettext(error) if error in KNOWN else error
