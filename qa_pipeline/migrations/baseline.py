"""The schema as the first release created it: frozen here, never edited.

Revision 0001 creates these tables; the legacy upgrade reads their columns.
"""

from sqlalchemy import JSON, Column, DateTime, Float, ForeignKey, Integer, MetaData, String, Table, Text

metadata = MetaData()

Table(
    "runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("night", String(10)),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", String(16), nullable=False),
    Column("summary", JSON),
)
Table(
    "interactions",
    metadata,
    Column("id", String(255), primary_key=True),
    Column("channel", String(8), nullable=False, index=True),
    Column("agent_id", String(64), nullable=False, index=True),
    Column("agent_name", String(255)),
    Column("team", String(64), index=True),
    Column("language", String(8)),
    Column("started_at", DateTime(timezone=True), index=True),
    Column("source", Text),
    Column("metadata", JSON),
    Column("run_id", String(64)),
)
Table(
    "turns",
    metadata,
    Column(
        "interaction_id", String(255), ForeignKey("interactions.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("idx", Integer, primary_key=True),
    Column("speaker", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("start", Float),
    Column("end", Float),
    Column("at", DateTime(timezone=True)),
    Column("metadata", JSON),
)
Table(
    "scores",
    metadata,
    Column(
        "interaction_id", String(255), ForeignKey("interactions.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("rubric", String(64), primary_key=True),
    Column("agent_id", String(64), nullable=False, index=True),
    Column("channel", String(8), nullable=False),
    Column("model", String(64)),
    Column("language", String(8)),
    Column("score", Float, nullable=False),
    Column("flags", JSON),
    Column("run_id", String(64)),
    Column("scored_at", DateTime(timezone=True)),
)
Table(
    "criterion_results",
    metadata,
    Column("interaction_id", String(255), primary_key=True),
    Column("rubric", String(64), primary_key=True),
    Column("criterion", String(64), primary_key=True),
    Column("result", String(4), nullable=False, index=True),
    Column("score", Float),
    Column("confidence", Float),
    Column("method", String(8)),
    Column("evidence", JSON),
    Column("reason", Text),
)
Table(
    "quarantine",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("channel", String(8), nullable=False),
    Column("source", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("record", Text),
    Column("first_run_id", String(64)),
    Column("last_run_id", String(64)),
)
Table(
    "watermarks",
    metadata,
    Column("source", String(128), primary_key=True),
    Column("value", DateTime(timezone=True), nullable=False),
    Column("run_id", String(64)),
)
