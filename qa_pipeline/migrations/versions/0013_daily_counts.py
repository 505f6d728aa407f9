"""Per agent and UTC day totals of the newest scores (``daily_counts``), so that an agent or
team page adds up a few hundred totals instead of reading every interaction of its period;
and two columns of ``newest_scores`` that its lowest-score and first-contact queries filter
on (``applicable``: any criterion not N/A; ``known_customer``: the interaction names its
customer).

What one interaction adds to its day is ``qa_pipeline.rollups.contributions``, the same
definition the store keeps the totals by afterwards (and the scorecards count with); the loop
that reads the rows and writes the totals is this migration's own. At 1,000,000 interactions
it takes about five minutes.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

from qa_pipeline.rollups import contributions, utc_day

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

APPLICABLE = {
    "sqlite": "UPDATE newest_scores SET applicable = EXISTS "
    "(SELECT 1 FROM json_each(newest_scores.results) WHERE value <> 'na')",
    "postgresql": "UPDATE newest_scores SET applicable = EXISTS "
    "(SELECT 1 FROM json_each_text(newest_scores.results) WHERE value <> 'na')",
}
KNOWN_CUSTOMER = (
    "UPDATE newest_scores SET known_customer = EXISTS (SELECT 1 FROM interactions i "
    "WHERE i.id = newest_scores.interaction_id AND i.customer_key IS NOT NULL)"
)


def upgrade() -> None:
    with op.batch_alter_table("newest_scores") as batch:
        batch.add_column(sa.Column("applicable", sa.Boolean))
        batch.add_column(sa.Column("known_customer", sa.Boolean))
    op.execute(APPLICABLE[op.get_bind().dialect.name])
    op.execute(KNOWN_CUSTOMER)
    with op.batch_alter_table("newest_scores") as batch:
        batch.alter_column("applicable", existing_type=sa.Boolean, nullable=False)
        batch.alter_column("known_customer", existing_type=sa.Boolean, nullable=False)
    op.create_table(
        "daily_counts",
        sa.Column("agent_id", sa.String(64), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("team", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(320), primary_key=True),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("total", sa.Float, nullable=False),
    )
    op.create_index("ix_daily_counts_team_day", "daily_counts", ["team", "day"])
    _count_totals(op.get_bind())
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ANALYZE newest_scores")
        op.execute("ANALYZE daily_counts")


def _count_totals(conn: sa.Connection) -> None:
    """Every newest score's contributions, added up one agent at a time (an agent's rows on
    its (agent_id, started_at) index; at most a few thousand totals held at once)."""
    newest = sa.table(
        "newest_scores",
        *(sa.column(c) for c in ("interaction_id", "agent_id", "team")),
        sa.column("started_at", sa.DateTime(timezone=True)),
        sa.column("score", sa.Float),
        *(sa.column(c, sa.JSON) for c in ("flags", "results", "decided")),
    )
    interactions = sa.table(
        "interactions", sa.column("id"), sa.column("agent_name"), sa.column("metadata", sa.JSON)
    )
    totals = sa.table(
        "daily_counts",
        *(sa.column(c) for c in ("agent_id", "team", "key")),
        sa.column("day", sa.Date),
        sa.column("n", sa.Integer),
        sa.column("total", sa.Float),
    )
    agents = conn.execute(sa.select(newest.c.agent_id).distinct()).scalars().all()
    for agent in agents:
        added: dict[tuple, list] = {}
        query = (
            sa.select(newest, interactions.c.agent_name, interactions.c.metadata)
            .join(interactions, interactions.c.id == newest.c.interaction_id)
            .where(newest.c.agent_id == agent, newest.c.started_at.is_not(None))
        )
        for row in conn.execute(query).mappings():
            day = utc_day(row["started_at"])
            for key, n, total in contributions(dict(row)):
                slot = added.setdefault((day, row["team"] or "", key), [0, 0.0])
                slot[0] += n
                slot[1] += total
        if added:
            conn.execute(
                sa.insert(totals),
                [
                    {"agent_id": agent, "day": day, "team": team, "key": key, "n": n, "total": total}
                    for (day, team, key), (n, total) in added.items()
                ],
            )


def downgrade() -> None:
    op.drop_index("ix_daily_counts_team_day", "daily_counts")
    op.drop_table("daily_counts")
    with op.batch_alter_table("newest_scores") as batch:
        batch.drop_column("known_customer")
        batch.drop_column("applicable")
