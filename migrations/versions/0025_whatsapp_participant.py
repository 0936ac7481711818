"""participants choose polls by WhatsApp: their choice per registration (opt-in, off by default)

Revision ID: 7e2b4c9d1a05
Revises: 9e4b7c2a1d58
Create Date: 2026-12-07 01:50:00.000000

"""

import sqlalchemy as sa
from alembic import op

import workshop.db

# revision identifiers, used by Alembic.
revision = "7e2b4c9d1a05"
down_revision = "9e4b7c2a1d58"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "whatsapp_participant",
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("polls", sa.Boolean(), nullable=False),
        sa.Column("updated_at", workshop.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registration.id"],
            name=op.f("fk_whatsapp_participant_registration_id_registration"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("registration_id", name=op.f("pk_whatsapp_participant")),
    )


def downgrade():
    op.drop_table("whatsapp_participant")
