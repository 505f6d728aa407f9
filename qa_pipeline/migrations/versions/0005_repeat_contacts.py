"""Customer keys and repeat contacts: first-contact resolution.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch (copy-and-rename) on SQLite would cascade-delete the turns.
    op.add_column("interactions", sa.Column("customer_key", sa.String(64)))
    op.create_index("ix_interactions_customer_started", "interactions", ["customer_key", "started_at"])
    op.create_table(
        "repeat_contacts",
        # The earlier interaction; the customer's next contact within the window is repeat_id.
        sa.Column(
            "interaction_id",
            sa.String(255),
            sa.ForeignKey("interactions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("repeat_id", sa.String(255), nullable=False, index=True),
        sa.Column("repeat_channel", sa.String(8)),
        sa.Column("gap_s", sa.Float, nullable=False),
        sa.Column("window_days", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("repeat_contacts")
    op.drop_index("ix_interactions_customer_started", "interactions")
    op.drop_column("interactions", "customer_key")
