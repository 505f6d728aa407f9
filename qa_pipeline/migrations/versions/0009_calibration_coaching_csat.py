"""Calibration sessions and their grades, coaching comments and sessions, CSAT ratings.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calibration_sessions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("interactions", sa.JSON, nullable=False),
        sa.Column("graders", sa.JSON, nullable=False),
    )
    op.create_table(
        "calibration_grades",
        sa.Column(
            "session_id",
            sa.Integer,
            sa.ForeignKey("calibration_sessions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("interaction_id", sa.String(255), primary_key=True),
        sa.Column("grader", sa.String(64), primary_key=True),
        sa.Column("criterion", sa.String(64), primary_key=True),
        sa.Column("result", sa.String(4), nullable=False),
        sa.Column("graded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("interaction_id", sa.String(255), nullable=False, index=True),
        sa.Column("criterion", sa.String(64)),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_table(
        "coaching_sessions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("agent_id", sa.String(64), nullable=False, index=True),
        sa.Column("coach", sa.String(64), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("interactions", sa.JSON, nullable=False),
        sa.Column("follow_up", sa.String(10)),
    )
    op.create_table(
        "csat",
        sa.Column("interaction_id", sa.String(255), primary_key=True),
        sa.Column("rating", sa.Float, nullable=False),
        sa.Column("scale", sa.Float, nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True)),
        sa.Column("source_file", sa.Text),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in ("csat", "coaching_sessions", "comments", "calibration_grades", "calibration_sessions"):
        op.drop_table(table)
