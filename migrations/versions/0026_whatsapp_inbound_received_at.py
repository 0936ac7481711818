"""whatsapp inbound messages: an index on received_at (the prune and the hourly cap read it)

Revision ID: 3c8d5e1f7a26
Revises: 7e2b4c9d1a05
Create Date: 2026-12-07 04:10:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "3c8d5e1f7a26"
down_revision = "7e2b4c9d1a05"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("whatsapp_inbound", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_whatsapp_inbound_received_at"), ["received_at"], unique=False)


def downgrade():
    with op.batch_alter_table("whatsapp_inbound", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_whatsapp_inbound_received_at"))
