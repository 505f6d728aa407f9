"""The first release's schema: runs, interactions, turns, scores, criterion results,
quarantine and pull watermarks.

Revision ID: 0001
Revises:
"""

from alembic import op

from qa_pipeline.migrations import baseline

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    baseline.metadata.create_all(op.get_bind())


def downgrade() -> None:
    baseline.metadata.drop_all(op.get_bind())
