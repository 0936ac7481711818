"""a delivery may go to a bare number, without a registration (the answer to an unknown number)

Revision ID: 9e4b7c2a1d58
Revises: 5c1f0a7d2b39
Create Date: 2026-12-07 01:50:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "9e4b7c2a1d58"
down_revision = "5c1f0a7d2b39"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.alter_column("registration_id", existing_type=sa.Integer(), nullable=True)


def downgrade():
    op.execute("DELETE FROM delivery WHERE registration_id IS NULL")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.alter_column("registration_id", existing_type=sa.Integer(), nullable=False)
