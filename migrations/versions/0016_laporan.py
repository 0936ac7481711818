"""laporan kegiatan: the organiser's texts of a programme's report and the photos of each stage

Revision ID: 7a9f0c1e2014
Revises: f832a65896af
Create Date: 2026-12-06 21:00:00

"""

from alembic import op
import sqlalchemy as sa

import workshop.db


# revision identifiers, used by Alembic.
revision = "7a9f0c1e2014"
down_revision = "f832a65896af"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "laporan_text",
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("closing", sa.Text(), nullable=False),
        sa.Column("updated_at", workshop.db.UTCDateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["program_id"], ["program.id"], name=op.f("fk_laporan_text_program_id_program")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["user.id"], name=op.f("fk_laporan_text_updated_by_id_user")
        ),
        sa.PrimaryKeyConstraint("program_id", name=op.f("pk_laporan_text")),
    )
    op.create_table(
        "laporan_photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("caption", sa.String(length=300), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("content_type", sa.String(length=20), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", workshop.db.UTCDateTime(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["stage_id"], ["stage.id"], name=op.f("fk_laporan_photo_stage_id_stage")),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["user.id"], name=op.f("fk_laporan_photo_uploaded_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_laporan_photo")),
    )
    with op.batch_alter_table("laporan_photo", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_laporan_photo_stage_id"), ["stage_id"], unique=False)


def downgrade():
    with op.batch_alter_table("laporan_photo", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_laporan_photo_stage_id"))
    op.drop_table("laporan_photo")
    op.drop_table("laporan_text")
