"""Quarantine pointers and interaction fingerprints.

``quarantine.position``: the line, record or message number of the bad input in its file.
``interactions.fingerprint``: a hash of the stored content, so re-ingesting an unchanged
interaction leaves it (and its scores) alone.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs: a batch (copy-and-rename) on SQLite would cascade-delete the turns.
    op.add_column("quarantine", sa.Column("position", sa.Integer))
    op.add_column("interactions", sa.Column("fingerprint", sa.String(32)))


def downgrade() -> None:
    op.drop_column("interactions", "fingerprint")
    op.drop_column("quarantine", "position")
