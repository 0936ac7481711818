"""scan log keeps only the first characters of each code

Revision ID: 7a1c0de5f001
Revises: 6c3fda63274d
Create Date: 2026-12-06 04:30:00

Scan attempts stored the whole code that was scanned or typed: a ticket's secret (a door
credential) for every scan, and whatever an unknown code was. Keep only what tickets.logged_code
keeps: the first 4 characters after the QR tag. The rest cannot be brought back (downgrade keeps
the prefixes).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "7a1c0de5f001"
down_revision = "6c3fda63274d"
branch_labels = None
depends_on = None

QR_PREFIX = "BH1:"
LOGGED_CHARACTERS = 4


def logged_code(text):
    """What tickets.logged_code kept when this migration was written (copied: the migration does not
    depend on where app code lives)."""
    cleaned = (text or "").strip()
    if cleaned.upper().startswith(QR_PREFIX):
        cleaned = cleaned[len(QR_PREFIX) :]
    return cleaned[:LOGGED_CHARACTERS]


scan_attempt = sa.table("scan_attempt", sa.column("id", sa.Integer), sa.column("code", sa.String(64)))


def upgrade():
    connection = op.get_bind()
    for attempt_id, code in connection.execute(sa.select(scan_attempt.c.id, scan_attempt.c.code)).all():
        if code != logged_code(code):
            connection.execute(
                scan_attempt.update().where(scan_attempt.c.id == attempt_id).values(code=logged_code(code))
            )


def downgrade():
    pass  # the rest of each code is gone
