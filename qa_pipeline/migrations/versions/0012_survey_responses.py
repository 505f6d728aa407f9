"""Survey responses of every kind (CSAT, NPS, CES) in one table, replacing ``csat``: its
ratings are copied in as CSAT responses.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "survey_responses",
        sa.Column("interaction_id", sa.String(255), primary_key=True),
        sa.Column("kind", sa.String(4), primary_key=True),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("scale", sa.Float, nullable=False),
        sa.Column("customer_key", sa.String(64)),
        sa.Column("comment", sa.Text),
        sa.Column("responded_at", sa.DateTime(timezone=True)),
        sa.Column("source_file", sa.Text),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute(
        "INSERT INTO survey_responses "
        "(interaction_id, kind, score, scale, responded_at, source_file, imported_at) "
        "SELECT interaction_id, 'csat', rating, scale, rated_at, source_file, imported_at FROM csat"
    )
    op.drop_table("csat")


def downgrade() -> None:
    op.create_table(
        "csat",
        sa.Column("interaction_id", sa.String(255), primary_key=True),
        sa.Column("rating", sa.Float, nullable=False),
        sa.Column("scale", sa.Float, nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True)),
        sa.Column("source_file", sa.Text),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute(
        "INSERT INTO csat (interaction_id, rating, scale, rated_at, source_file, imported_at) "
        "SELECT interaction_id, score, scale, responded_at, source_file, imported_at "
        "FROM survey_responses WHERE kind = 'csat'"
    )
    op.drop_table("survey_responses")
