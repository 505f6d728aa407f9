"""The results database's tables (SQLAlchemy Core): the one description the store writes
through and the migrations are checked against."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("night", String(10)),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("status", String(16), nullable=False),
    Column("summary", JSON),
)

interactions = Table(
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
    Column("customer_key", String(64)),  # keyed hash, see qa_pipeline.customers
    Column("fingerprint", String(32)),  # hash of the content: unchanged re-ingests keep their scores
    # Supervisors filter by an agent or a team over dates (qa search, scorecards).
    Index("ix_interactions_agent_started", "agent_id", "started_at"),
    Index("ix_interactions_team_started", "team", "started_at"),
    Index("ix_interactions_customer_started", "customer_key", "started_at"),
)

# An interaction the same customer contacted us again about within the window: not resolved
# at first contact. Rebuilt for a customer whenever one of their interactions is saved.
repeat_contacts = Table(
    "repeat_contacts",
    metadata,
    Column(
        "interaction_id", String(255), ForeignKey("interactions.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("repeat_id", String(255), nullable=False, index=True),
    Column("repeat_channel", String(8)),
    Column("gap_s", Float, nullable=False),
    Column("window_days", Float, nullable=False),
)

turns = Table(
    "turns",
    metadata,
    # A surrogate integer key: SQLite's full-text index refers to turns by it (VACUUM keeps
    # an INTEGER PRIMARY KEY, but may renumber implicit rowids).
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("interaction_id", String(255), ForeignKey("interactions.id", ondelete="CASCADE"), nullable=False),
    Column("idx", Integer, nullable=False),
    Column("speaker", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("start", Float),
    Column("end", Float),
    Column("at", DateTime(timezone=True)),
    Column("metadata", JSON),
    UniqueConstraint("interaction_id", "idx", name="uq_turns_interaction_idx"),
)

scores = Table(
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

# The codes of each score's flags, one row each (also in scores.flags), with the interaction's
# filter columns (as in interactions): search narrows a flag's rows without reading interactions.
score_flags = Table(
    "score_flags",
    metadata,
    Column("interaction_id", String(255), primary_key=True),
    Column("rubric", String(64), primary_key=True),
    Column("code", String(64), primary_key=True),
    Column("agent_id", String(64), nullable=False),
    Column("team", String(64)),
    Column("channel", String(8), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Index("ix_score_flags_code", "code", "interaction_id"),
)

# Each interaction's newest score (of any rubric: the newest scored_at, ties to the first rubric
# by name) with its criterion results folded in, beside the interaction's filter columns: what
# the agent and team pages count, read in one indexed range instead of finding the newest score
# and joining its results per interaction. Rewritten with the scores (save, dispute, re-ingest).
newest_scores = Table(
    "newest_scores",
    metadata,
    Column("interaction_id", String(255), primary_key=True),
    Column("rubric", String(64), nullable=False),
    Column("agent_id", String(64), nullable=False),
    Column("team", String(64)),
    Column("started_at", DateTime(timezone=True)),
    Column("score", Float, nullable=False),
    Column("flags", JSON),
    Column("results", JSON, nullable=False),  # {criterion: pass | fail | na}
    Column("decided", JSON, nullable=False),  # the criteria an accepted dispute decided
    Column("applicable", Boolean, nullable=False),  # any criterion not N/A: the score counts
    Column("known_customer", Boolean, nullable=False),  # the interaction names its customer
    Index("ix_newest_scores_agent_started", "agent_id", "started_at"),
    Index("ix_newest_scores_team_started", "team", "started_at"),
)

# What each agent's interactions of a UTC day add up to, from their newest scores
# (store.rollup_rows.contributions: key, count, sum); the agent and team pages read these.
daily_counts = Table(
    "daily_counts",
    metadata,
    Column("agent_id", String(64), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("team", String(64), primary_key=True),  # "" when the interaction names none
    Column("key", String(320), primary_key=True),
    Column("n", Integer, nullable=False),
    Column("total", Float, nullable=False),
    Index("ix_daily_counts_team_day", "team", "day"),
)

criterion_results = Table(
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
    # The machine's result when an accepted dispute overrode it (else NULL), and that dispute.
    Column("original", String(4)),
    Column("dispute_id", Integer),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", String(32), primary_key=True),  # hash of channel + source + reason
    Column("channel", String(8), nullable=False),
    Column("source", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("record", Text),  # a redacted copy of the bad record
    Column("position", Integer),  # line, record or message number in the source file
    Column("first_run_id", String(64)),
    Column("last_run_id", String(64)),
)

grader_feedback = Table(
    "grader_feedback",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("interaction_id", String(255), nullable=False, index=True),
    Column("rubric", String(64)),
    Column("criterion", String(64), nullable=False, index=True),
    Column("machine_result", String(4)),
    Column("machine_method", String(8)),
    Column("grader_result", String(4), nullable=False),
    Column("grader", String(128)),
    Column("reason", Text),
    Column("turn", Integer),
    Column("text", Text),
    Column("language", String(8)),
    Column("source_file", Text),
    Column("imported_at", DateTime(timezone=True), nullable=False),
)

watermarks = Table(
    "watermarks",
    metadata,
    Column("source", String(128), primary_key=True),
    Column("value", DateTime(timezone=True), nullable=False),
    Column("run_id", String(64)),
)

# The web app (qa serve): accounts, their sessions, failed logins (the rate limit) and the
# audit log of every change made through it or `qa users`.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),  # lead | coach | supervisor | agent
    Column("teams", JSON, nullable=False),  # coaches and supervisors: the teams they see
    Column("agent_id", String(64)),  # agents: the agent id they are in the data
    Column("password_hash", Text, nullable=False),
    Column("disabled", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),  # SHA-256 of the cookie's random id
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, index=True),
    Column("client", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(64), nullable=False),  # a username, or "cli" for qa users
    Column("action", String(64), nullable=False),
    Column("target", String(255), nullable=False),
    Column("before", JSON),
    Column("after", JSON),
)

# A criterion result an agent or coach disputes; a QA lead accepts (it then overrides the
# machine's result everywhere, and becomes a grader correction) or rejects it.
disputes = Table(
    "disputes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("interaction_id", String(255), nullable=False, index=True),
    Column("criterion", String(64), nullable=False),
    Column("rubric", String(64), nullable=False),
    Column("machine_result", String(4), nullable=False),
    Column("requested", String(4), nullable=False),
    Column("turn", Integer),
    Column("comment", Text, nullable=False),
    Column("raised_by", String(64), nullable=False),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("status", String(8), nullable=False, index=True),  # open | accepted | rejected
    Column("decided_by", String(64)),
    Column("decided_at", DateTime(timezone=True)),
    Column("decision", Text),
)

# Calibration: a QA lead picks interactions and graders; each grader scores each criterion
# blind; the report compares graders with each other and with the machine.
calibration_sessions = Table(
    "calibration_sessions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("interactions", JSON, nullable=False),  # interaction ids, in order
    Column("graders", JSON, nullable=False),  # usernames
)

calibration_grades = Table(
    "calibration_grades",
    metadata,
    Column(
        "session_id", Integer, ForeignKey("calibration_sessions.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("interaction_id", String(255), primary_key=True),
    Column("grader", String(64), primary_key=True),
    Column("criterion", String(64), primary_key=True),
    Column("result", String(4), nullable=False),
    Column("graded_at", DateTime(timezone=True), nullable=False),
)

# Coaching: comments on an interaction (or one criterion of it), and coaching sessions per agent.
comments = Table(
    "comments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("interaction_id", String(255), nullable=False, index=True),
    Column("criterion", String(64)),
    Column("author", String(64), nullable=False),
    Column("written_at", DateTime(timezone=True), nullable=False),
    Column("text", Text, nullable=False),
)

coaching_sessions = Table(
    "coaching_sessions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("agent_id", String(64), nullable=False, index=True),
    Column("coach", String(64), nullable=False),
    Column("held_at", DateTime(timezone=True), nullable=False),
    Column("notes", Text, nullable=False),
    Column("interactions", JSON, nullable=False),  # interaction ids discussed
    Column("follow_up", String(10)),  # YYYY-MM-DD
)

# Survey responses (qa surveys import): CSAT, NPS and CES, matched to interactions; the last
# response of each kind to an interaction is kept. Comments are redacted, customers keyed.
survey_responses = Table(
    "survey_responses",
    metadata,
    Column("interaction_id", String(255), primary_key=True),
    Column("kind", String(4), primary_key=True),  # csat, nps or ces
    Column("score", Float, nullable=False),
    Column("scale", Float, nullable=False),  # the survey's highest answer (5, 7, 10...)
    Column("customer_key", String(64)),  # keyed hash, see qa_pipeline.customers
    Column("comment", Text),
    Column("responded_at", DateTime(timezone=True)),
    Column("source_file", Text),
    Column("imported_at", DateTime(timezone=True), nullable=False),
)
