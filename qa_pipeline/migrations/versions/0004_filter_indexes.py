"""Indexes for supervisors' usual filters: an agent or a team over a date range.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_interactions_agent_started", "interactions", ["agent_id", "started_at"])
    op.create_index("ix_interactions_team_started", "interactions", ["team", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_interactions_team_started", "interactions")
    op.drop_index("ix_interactions_agent_started", "interactions")
