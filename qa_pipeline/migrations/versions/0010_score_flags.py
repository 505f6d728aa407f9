"""A row per flag of each score, so a flag filter is an index lookup applied before ranking.

The flags stay in ``scores.flags`` (JSON, what pages and exports read); ``score_flags`` repeats
their codes for searching, with the interaction's agent, team, channel and start, so the other
filters narrow a flag's rows without reading interactions. Existing scores are copied in by the
database's own JSON functions.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

COLUMNS = "interaction_id, rubric, code, agent_id, team, channel, started_at"
FROM_INTERACTION = "i.agent_id, i.team, i.channel, i.started_at"
BACKFILL = {
    "sqlite": (
        f"INSERT OR IGNORE INTO score_flags ({COLUMNS}) "
        f"SELECT s.interaction_id, s.rubric, json_extract(e.value, '$.code'), {FROM_INTERACTION} "
        "FROM scores s JOIN interactions i ON i.id = s.interaction_id, json_each(s.flags) e "
        "WHERE json_extract(e.value, '$.code') IS NOT NULL"
    ),
    "postgresql": (
        f"INSERT INTO score_flags ({COLUMNS}) "
        f"SELECT s.interaction_id, s.rubric, e ->> 'code', {FROM_INTERACTION} "
        "FROM scores s JOIN interactions i ON i.id = s.interaction_id, json_array_elements(s.flags) e "
        "WHERE e ->> 'code' IS NOT NULL ON CONFLICT DO NOTHING"
    ),
}


def upgrade() -> None:
    op.create_table(
        "score_flags",
        sa.Column("interaction_id", sa.String(255), primary_key=True),
        sa.Column("rubric", sa.String(64), primary_key=True),
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("team", sa.String(64)),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_score_flags_code", "score_flags", ["code", "interaction_id"])
    dialect = op.get_bind().dialect.name
    op.execute(BACKFILL[dialect])
    if dialect == "postgresql":  # the planner's row estimates for the filter, now
        op.execute("ANALYZE score_flags")


def downgrade() -> None:
    op.drop_index("ix_score_flags_code", "score_flags")
    op.drop_table("score_flags")
