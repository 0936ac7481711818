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
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.add_column(sa.Column("facts_version", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.alter_column("facts_version", server_default=None)


def downgrade():
    with op.batch_alter_table("program", schema=None) as batch_op:
        batch_op.drop_column("facts_version")
