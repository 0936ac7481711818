"""evaluation per stage: the programme's questionnaire, responses; reminder rules at a stage's end

Questionnaire (one per programme) with its items (scale 1..5, choice, text); EvaluationResponse,
unique per (registration, stage), with one EvaluationAnswer per item answered.
ReminderRule.anchor: "start" (every existing rule) or "end" (the invitation to the evaluation).

Revision ID: 7a3c51e20011
Revises: 5e41ed7c0010
Create Date: 2026-12-06 17:50:00

"""

from alembic import op
import sqlalchemy as sa

import workshop.db


# revision identifiers, used by Alembic.
revision = "7a3c51e20011"
down_revision = "5e41ed7c0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "questionnaire",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("deadline_days", sa.Integer(), nullable=False),
        sa.Column("created_at", workshop.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", workshop.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["program.id"], name=op.f("fk_questionnaire_program_id_program")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire")),
        sa.UniqueConstraint("program_id", name=op.f("uq_questionnaire_program_id")),
    )
    op.create_table(
        "questionnaire_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("questionnaire_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("SCALE", "CHOICE", "TEXT", name="itemkind", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("prompt", sa.String(length=300), nullable=False),
        sa.Column("options_json", sa.Text(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["questionnaire_id"],
            ["questionnaire.id"],
            name=op.f("fk_questionnaire_item_questionnaire_id_questionnaire"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_item")),
    )
    with op.batch_alter_table("questionnaire_item", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_questionnaire_item_questionnaire_id"), ["questionnaire_id"], unique=False
        )

    op.create_table(
        "evaluation_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("submitted_at", workshop.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", workshop.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registration.id"],
            name=op.f("fk_evaluation_response_registration_id_registration"),
        ),
        sa.ForeignKeyConstraint(
            ["stage_id"], ["stage.id"], name=op.f("fk_evaluation_response_stage_id_stage")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_response")),
        sa.UniqueConstraint(
            "registration_id", "stage_id", name=op.f("uq_evaluation_response_registration_id_stage_id")
        ),
    )
    with op.batch_alter_table("evaluation_response", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evaluation_response_registration_id"), ["registration_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_evaluation_response_stage_id"), ["stage_id"], unique=False)

    op.create_table(
        "evaluation_answer",
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["questionnaire_item.id"],
            name=op.f("fk_evaluation_answer_item_id_questionnaire_item"),
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["evaluation_response.id"],
            name=op.f("fk_evaluation_answer_response_id_evaluation_response"),
        ),
        sa.PrimaryKeyConstraint("response_id", "item_id", name=op.f("pk_evaluation_answer")),
    )
    with op.batch_alter_table("evaluation_answer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluation_answer_item_id"), ["item_id"], unique=False)

    with op.batch_alter_table("reminder_rule", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "anchor",
                sa.Enum("START", "END", name="anchor", native_enum=False, length=10),
                server_default="START",
                nullable=False,
            )
        )


def downgrade():
    with op.batch_alter_table("reminder_rule", schema=None) as batch_op:
        batch_op.drop_column("anchor")
    with op.batch_alter_table("evaluation_answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_answer_item_id"))
    op.drop_table("evaluation_answer")
    with op.batch_alter_table("evaluation_response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_response_stage_id"))
        batch_op.drop_index(batch_op.f("ix_evaluation_response_registration_id"))
    op.drop_table("evaluation_response")
    with op.batch_alter_table("questionnaire_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_questionnaire_item_questionnaire_id"))
    op.drop_table("questionnaire_item")
    op.drop_table("questionnaire")
