"""poll hall ratings: the hands counted in the hall for each value of a rating poll

Revision ID: 6c0d2f1e9a47
Revises: e56fe097af13
Create Date: 2026-12-07 00:50:00.000000

"""

import sqlalchemy as sa
from alembic import op

import workshop.db


# revision identifiers, used by Alembic.
revision = "6c0d2f1e9a47"
down_revision = "e56fe097af13"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "poll_hall_rating",
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("updated_at", workshop.db.UTCDateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["poll.id"], name=op.f("fk_poll_hall_rating_poll_id_poll"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["user.id"], name=op.f("fk_poll_hall_rating_updated_by_id_user")
        ),
        sa.PrimaryKeyConstraint("poll_id", "rating", name=op.f("pk_poll_hall_rating")),
    )


def downgrade():
    op.drop_table("poll_hall_rating")
