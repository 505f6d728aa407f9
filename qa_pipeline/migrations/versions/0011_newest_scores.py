"""Each interaction's newest score with its criterion results folded in, for the agent and
team pages: a team's week is one indexed range of rows, not a newest-score lookup and a join
of five results per interaction (a team week at 1,000,000 interactions: 25,000 results).

``scores`` and ``criterion_results`` stay what everything else reads; ``newest_scores`` is
rewritten beside them in the same transactions. Existing scores are copied in by SQL.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The newest score of each interaction (scored_at, ties to the first rubric by name, as
# store.score_rows.refresh_newest picks it), with its interaction's filter columns.
NEWEST = """
    WITH ranked AS (
        SELECT interaction_id, rubric, score, flags,
               ROW_NUMBER() OVER (
                   PARTITION BY interaction_id ORDER BY scored_at DESC NULLS LAST, rubric
               ) AS place
        FROM scores
    )
    INSERT INTO newest_scores
        (interaction_id, rubric, agent_id, team, started_at, score, flags, results, decided)
    SELECT r.interaction_id, r.rubric, i.agent_id, i.team, i.started_at, r.score, r.flags,
           COALESCE(({results}), {no_results}), COALESCE(({decided}), {no_decided})
    FROM ranked r JOIN interactions i ON i.id = r.interaction_id
    WHERE r.place = 1
"""
OF_SCORE = "FROM criterion_results c WHERE c.interaction_id = r.interaction_id AND c.rubric = r.rubric"
BACKFILL = {
    "sqlite": NEWEST.format(
        results=f"SELECT json_group_object(c.criterion, c.result) {OF_SCORE}",
        no_results="'{}'",
        decided=f"SELECT json_group_array(c.criterion) {OF_SCORE} AND c.original IS NOT NULL",
        no_decided="'[]'",
    ),
    "postgresql": NEWEST.format(
        results=f"SELECT json_object_agg(c.criterion, c.result) {OF_SCORE}",
        no_results="'{}'::json",
        decided=f"SELECT json_agg(c.criterion) {OF_SCORE} AND c.original IS NOT NULL",
        no_decided="'[]'::json",
    ),
}


def upgrade() -> None:
    op.create_table(
        "newest_scores",
        sa.Column("interaction_id", sa.String(255), primary_key=True),
        sa.Column("rubric", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False),
        sa.Column("team", sa.String(64)),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("flags", sa.JSON),
        sa.Column("results", sa.JSON, nullable=False),
        sa.Column("decided", sa.JSON, nullable=False),
    )
    op.create_index("ix_newest_scores_agent_started", "newest_scores", ["agent_id", "started_at"])
    op.create_index("ix_newest_scores_team_started", "newest_scores", ["team", "started_at"])
    dialect = op.get_bind().dialect.name
    op.execute(BACKFILL[dialect])
    if dialect == "postgresql":
        op.execute("ANALYZE newest_scores")


def downgrade() -> None:
    op.drop_index("ix_newest_scores_team_started", "newest_scores")
    op.drop_index("ix_newest_scores_agent_started", "newest_scores")
    op.drop_table("newest_scores")
