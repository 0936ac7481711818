"""poll votes carry the results version their batch made: tallies read only what changed since

Revision ID: 5c1f0a7d2b39
Revises: 6c0d2f1e9a47
Create Date: 2026-12-07 00:25:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5c1f0a7d2b39"
down_revision = "6c0d2f1e9a47"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("poll_vote", schema=None) as batch_op:
        batch_op.add_column(sa.Column("results_version", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_index(
            batch_op.f("ix_poll_vote_poll_id_results_version"), ["poll_id", "results_version"], unique=False
        )


def downgrade():
    with op.batch_alter_table("poll_vote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_poll_vote_poll_id_results_version"))
        batch_op.drop_column("results_version")
