"""programme facts version: bumped by every change to what its participant page asks of other
features (questionnaire, assignments, group work, certificates); see workshop/programs/facts.py

Revision ID: 5b1f3e7c9a42
Revises: 3c8d5e1f7a26
Create Date: 2026-12-07 11:20:00.000000

"""

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "5b1f3e7c9a42"
down_revision = "3c8d5e1f7a26"
branch_labels = None
depends_on = None


def upgrade():
    # The default stays: on SQLite, dropping it would rebuild the table, which the foreign keys
    # of every programme's rows forbid.
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.add_column(sa.Column("facts_version", sa.Integer(), nullable=False, server_default="1"))


def downgrade():
    # Not in batch mode, which would rebuild the table on SQLite (3.35 and later drop a column).
    op.drop_column("program", "facts_version")
