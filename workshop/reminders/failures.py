"""Why a delivery could not be sent, as a short stable code (`Delivery.failure_code`). The engine and
the channels store the code, and next to it (`Delivery.error`) the provider's own words when there
are any (a mail server's reply, a gateway's answer); they translate nothing. The delivery log and
the registration page show the code's sentence in the reader's language, then those words as they
came (`failure_text`, the `delivery_failure` filter).

A new code needs its sentence here (a test checks every code has one) and, if old rows can carry
it, a data migration.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# Failures the app finds itself, before sending.
NO_LINK = "no_link"
NO_EMAIL = "no_email"
NO_PHONE = "no_phone"
NO_RECIPIENT = "no_recipient"
NO_MESSAGE = "no_message"
RENDER_FAILED = "render_failed"
WORKER_STOPPED = "worker_stopped"
INVALID_ADDRESS = "invalid_address"
# What a channel reports.
SMTP_REFUSED = "smtp_refused"  # a 5xx reply: permanent
SMTP_DEFERRED = "smtp_deferred"  # a 4xx reply: try again later
SMTP_UNREACHABLE = "smtp_unreachable"  # refused connection, reset, time-out, TLS
WHATSAPP_HTTP_4XX = "whatsapp_http_4xx"
WHATSAPP_HTTP_5XX = "whatsapp_http_5xx"
WHATSAPP_REDIRECT = "whatsapp_redirect"
WHATSAPP_UNREACHABLE = "whatsapp_unreachable"
WHATSAPP_REFUSED = "whatsapp_refused"  # answered, but did not take the message
WHATSAPP_DISCONNECTED = "whatsapp_disconnected"  # the gateway's phone is offline
WHATSAPP_UNEXPECTED_ANSWER = "whatsapp_unexpected_answer"
UNEXPECTED = "unexpected"  # any other error

SENTENCES = {
    NO_LINK: _l("The participant has no personal link (it was revoked)."),
    NO_EMAIL: _l("The participant has no email address."),
    NO_PHONE: _l("The participant has no phone number."),
    NO_RECIPIENT: _l("No recipient."),
    NO_MESSAGE: _l("There is no message for this channel."),
    RENDER_FAILED: _l("The message could not be written."),
    WORKER_STOPPED: _l("The sending worker stopped before confirming the send."),
    INVALID_ADDRESS: _l("The address is not valid for this channel."),
    SMTP_REFUSED: _l("The mail server refused the message."),
    SMTP_DEFERRED: _l("The mail server asked to try again later."),
    SMTP_UNREACHABLE: _l("The mail server could not be reached."),
    WHATSAPP_HTTP_4XX: _l("The WhatsApp gateway refused the request."),
    WHATSAPP_HTTP_5XX: _l("The WhatsApp gateway had an error."),
    WHATSAPP_REDIRECT: _l("The WhatsApp gateway's address redirects elsewhere (WHATSAPP_API_URL)."),
    WHATSAPP_UNREACHABLE: _l("The WhatsApp gateway could not be reached."),
    WHATSAPP_REFUSED: _l("The WhatsApp gateway did not accept the message."),
    WHATSAPP_DISCONNECTED: _l("The WhatsApp gateway's device is disconnected."),
    WHATSAPP_UNEXPECTED_ANSWER: _l("The WhatsApp gateway gave an unexpected answer."),
    UNEXPECTED: _l("The message could not be sent."),
}


def failure_text(code: str, detail: str = "") -> str:
    """The reason in the current language: the code's sentence, then the provider's words."""
    sentence = SENTENCES.get(code)
    if sentence is None:  # no code (an old row, or none yet): the words alone
        return detail
    return f"{sentence} {detail}" if detail else str(sentence)


def delivery_failure(delivery) -> str:
    """The `delivery_failure` template filter: a delivery's reason, as failure_text gives it."""
    return failure_text(delivery.failure_code, delivery.error)
