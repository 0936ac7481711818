"""ticket secrets stored as an HMAC (the lookup) and sealed (to draw the QR again)

Revision ID: 5e41ed7c0010
Revises: eb9a96ade73a
Create Date: 2026-12-06 14:30:00

registration.ticket_secret held each ticket's secret (the QR code's door credential) as it is
printed. It becomes ticket_secret_hash, an HMAC-SHA256 of the secret under a key derived from
SECRET_KEY (what a scan is looked up by), and ticket_secret_sealed, the secret encrypted with
Fernet under another key derived from SECRET_KEY (the ticket page, its image and the badges draw
the QR code from it). The tickets already printed keep working.

This migration needs the SECRET_KEY the app runs with (`flask db upgrade` reads it from the app's
configuration, as the app does): with another key, no ticket would be found or drawn again.
Downgrade unseals each secret back into ticket_secret (it needs the same key).
"""

import base64
import hashlib
import hmac

from alembic import op
import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import current_app

# revision identifiers, used by Alembic.
revision = "5e41ed7c0010"
down_revision = "eb9a96ade73a"
branch_labels = None
depends_on = None


# The app's derivation as it was when this migration was written (workshop/keys.py and
# workshop/tickets/codes.py), copied so that the migration does not depend on where app code lives.
def _mac(secret_key, purpose, message):
    return hmac.new(secret_key.encode(), f"{purpose}:{message}".encode(), hashlib.sha256).digest()


def _fernet(secret_key):
    return Fernet(base64.urlsafe_b64encode(_mac(secret_key, "ticket-secret-seal", "fernet-key")))


def secret_hash(secret, secret_key):
    return _mac(secret_key, "ticket-secret", secret).hex()


def seal(secret, secret_key):
    return _fernet(secret_key).encrypt(secret.encode()).decode()


def unseal(sealed, secret_key):
    return _fernet(secret_key).decrypt(sealed.encode()).decode()


registration = sa.table(
    "registration",
    sa.column("id", sa.Integer),
    sa.column("ticket_secret", sa.String(32)),
    sa.column("ticket_secret_hash", sa.String(64)),
    sa.column("ticket_secret_sealed", sa.String(200)),
)


def _secret_key() -> str:
    secret_key = current_app.config.get("SECRET_KEY")
    if not secret_key:
        raise RuntimeError("This migration needs the app's SECRET_KEY (see docs/security.md).")
    return secret_key


def upgrade():
    secret_key = _secret_key()
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ticket_secret_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("ticket_secret_sealed", sa.String(length=200), nullable=True))

    connection = op.get_bind()
    for registration_id, secret in connection.execute(
        sa.select(registration.c.id, registration.c.ticket_secret)
    ).all():
        connection.execute(
            registration.update()
            .where(registration.c.id == registration_id)
            .values(
                ticket_secret_hash=secret_hash(secret, secret_key),
                ticket_secret_sealed=seal(secret, secret_key),
            )
        )

    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.alter_column("ticket_secret_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("ticket_secret_sealed", existing_type=sa.String(length=200), nullable=False)
        batch_op.drop_constraint(batch_op.f("uq_registration_ticket_secret"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_registration_ticket_secret_hash"), ["ticket_secret_hash"]
        )
        batch_op.drop_column("ticket_secret")


def downgrade():
    secret_key = _secret_key()
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ticket_secret", sa.String(length=32), nullable=True))

    connection = op.get_bind()
    for registration_id, sealed in connection.execute(
        sa.select(registration.c.id, registration.c.ticket_secret_sealed)
    ).all():
        connection.execute(
            registration.update()
            .where(registration.c.id == registration_id)
            .values(ticket_secret=unseal(sealed, secret_key))
        )

    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.alter_column("ticket_secret", existing_type=sa.String(length=32), nullable=False)
        batch_op.drop_constraint(batch_op.f("uq_registration_ticket_secret_hash"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_registration_ticket_secret"), ["ticket_secret"])
        batch_op.drop_column("ticket_secret_sealed")
        batch_op.drop_column("ticket_secret_hash")
