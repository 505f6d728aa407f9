"""Graders' corrections of machine results (``qa feedback import``).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "grader_feedback",
        sa.Column("id", sa.String(32), primary_key=True),  # hash of interaction, rubric, criterion, grader
        sa.Column("interaction_id", sa.String(255), nullable=False, index=True),
        sa.Column("rubric", sa.String(64)),
        sa.Column("criterion", sa.String(64), nullable=False, index=True),
        sa.Column("machine_result", sa.String(4)),
        sa.Column("machine_method", sa.String(8)),
        sa.Column("grader_result", sa.String(4), nullable=False),
        sa.Column("grader", sa.String(128)),
        sa.Column("reason", sa.Text),
        sa.Column("turn", sa.Integer),
        sa.Column("text", sa.Text),
        sa.Column("language", sa.String(8)),
        sa.Column("source_file", sa.Text),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("grader_feedback")
