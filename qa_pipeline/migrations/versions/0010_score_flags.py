"""A row per flag of each score, so a flag filter is an index lookup applied before ranking.

The flags stay in ``scores.flags`` (JSON, what pages and exports read); ``score_flags`` repeats
their codes for searching. Existing scores are copied in by the database's own JSON functions.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BACKFILL = {
    "sqlite": (
        "INSERT OR IGNORE INTO score_flags (interaction_id, rubric, code) "
        "SELECT s.interaction_id, s.rubric, json_extract(e.value, '$.code') "
        "FROM scores s, json_each(s.flags) e WHERE json_extract(e.value, '$.code') IS NOT NULL"
    ),
    "postgresql": (
        "INSERT INTO score_flags (interaction_id, rubric, code) "
        "SELECT s.interaction_id, s.rubric, e ->> 'code' "
        "FROM scores s, json_array_elements(s.flags) e WHERE e ->> 'code' IS NOT NULL "
        "ON CONFLICT DO NOTHING"
    ),
}


def upgrade() -> None:
    op.create_table(
        "score_flags",
        sa.Column("interaction_id", sa.String(255), primary_key=True),
        sa.Column("rubric", sa.String(64), primary_key=True),
        sa.Column("code", sa.String(64), primary_key=True),
    )
    op.create_index("ix_score_flags_code", "score_flags", ["code", "interaction_id"])
    op.execute(BACKFILL[op.get_bind().dialect.name])


def downgrade() -> None:
    op.drop_index("ix_score_flags_code", "score_flags")
    op.drop_table("score_flags")
