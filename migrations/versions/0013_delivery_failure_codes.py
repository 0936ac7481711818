"""delivery failure codes: why a delivery failed as a short stable code, translated where it is shown

Delivery.failure_code (workshop/reminders/failures.py) next to Delivery.error, which now keeps only
the error's own words (a mail server's reply, a gateway's answer). Existing rows: the app's own
English sentences become their codes (and leave `error` empty); the channels' reasons get the code
their wording shows, and keep their words; any other reason is `unexpected`.

Revision ID: 4d1f0c0de012
Revises: 57724959e40f
Create Date: 2026-12-06 18:40:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "4d1f0c0de012"
down_revision = "57724959e40f"
branch_labels = None
depends_on = None

delivery = sa.table("delivery", sa.column("failure_code", sa.String), sa.column("error", sa.Text))

# The sentences the engine stored before codes, as they were (workshop/reminders/failures.py).
SENTENCES = {
    "no_link": "The participant has no personal link (it was revoked).",
    "no_email": "The participant has no email address.",
    "no_phone": "The participant has no phone number.",
    "no_recipient": "No recipient.",
    "worker_stopped": "The sending worker stopped before confirming the send.",
}
NO_MESSAGE = "No message for channel "  # + channel + "."
RENDER_FAILED = "Could not render the message: "  # + the error
# A channel's reason by how it begins, first match wins (workshop/reminders/channels/).
PREFIXES = [
    ("smtp_refused", "SMTP 5"),
    ("smtp_deferred", "SMTP 4"),
    ("smtp_unreachable", "SMTP "),
    ("whatsapp_redirect", "HTTP 3"),
    ("whatsapp_http_4xx", "HTTP 4"),
    ("whatsapp_http_5xx", "HTTP 5"),
    ("whatsapp_unreachable", "WhatsApp gateway: "),
    ("whatsapp_unexpected_answer", "Meta: unexpected answer"),
    ("invalid_address", "not an email address: "),
    ("invalid_address", "not a WhatsApp number: "),
    ("invalid_address", "not a registration id: "),
]


def _set(where, **values):
    op.execute(delivery.update().where(delivery.c.failure_code == "", where).values(**values))


def upgrade():
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failure_code", sa.String(length=40), server_default="", nullable=False)
        )

    error = delivery.c.error
    for code, sentence in SENTENCES.items():
        _set(error == sentence, failure_code=code, error="")
    _set(
        error.startswith(NO_MESSAGE, autoescape=True),
        failure_code="no_message",
        error=sa.func.rtrim(sa.func.substr(error, len(NO_MESSAGE) + 1), "."),
    )
    _set(
        error.startswith(RENDER_FAILED, autoescape=True),
        failure_code="render_failed",
        error=sa.func.substr(error, len(RENDER_FAILED) + 1),
    )
    fonnte = error.startswith("Fonnte: ", autoescape=True)
    _set(fonnte & sa.func.lower(error).contains("disconnect"), failure_code="whatsapp_disconnected")
    _set(fonnte, failure_code="whatsapp_refused")
    for code, prefix in PREFIXES:
        _set(error.startswith(prefix, autoescape=True), failure_code=code)
    _set(error != "", failure_code="unexpected")


def downgrade():
    code, error = delivery.c.failure_code, delivery.c.error
    for name, sentence in SENTENCES.items():
        op.execute(delivery.update().where(code == name).values(error=sentence))
    op.execute(delivery.update().where(code == "no_message").values(error=NO_MESSAGE + error + "."))
    op.execute(delivery.update().where(code == "render_failed").values(error=RENDER_FAILED + error))
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("failure_code")
