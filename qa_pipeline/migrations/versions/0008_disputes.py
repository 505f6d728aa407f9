"""Disputes of criterion results, and the override an accepted one leaves on the result.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disputes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("interaction_id", sa.String(255), nullable=False, index=True),
        sa.Column("criterion", sa.String(64), nullable=False),
        sa.Column("rubric", sa.String(64), nullable=False),
        sa.Column("machine_result", sa.String(4), nullable=False),
        sa.Column("requested", sa.String(4), nullable=False),
        sa.Column("turn", sa.Integer),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("raised_by", sa.String(64), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(8), nullable=False, index=True),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("decision", sa.Text),
    )
    # Plain ADD COLUMNs: a batch (copy-and-rename) on SQLite would rewrite the table.
    op.add_column("criterion_results", sa.Column("original", sa.String(4)))
    op.add_column("criterion_results", sa.Column("dispute_id", sa.Integer))


def downgrade() -> None:
    op.drop_column("criterion_results", "dispute_id")
    op.drop_column("criterion_results", "original")
    op.drop_table("disputes")
