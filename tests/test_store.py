from datetime import UTC, datetime

from sqlalchemy import inspect, select

from qa_pipeline.interactions import Interaction, Turn
from qa_pipeline.scoring import score_interactions
from qa_pipeline.sources import Quarantined
from qa_pipeline.store import (
    connect,
    load_interactions,
    load_scores,
    save_interactions,
    save_quarantined,
    save_scores,
    table_counts,
)


def items():
    return [
        Interaction(
            id=f"chat:t:{n}",
            channel="chat",
            agent_id="a1",
            language="en",
            turns=[
                Turn(speaker="agent", text="Hello, I'm sorry, I have fixed it. Thanks!"),
                Turn(speaker="customer", text="ok"),
            ],
        )
        for n in range(3)
    ]


def test_round_trip(engine):
    save_interactions(engine, items())
    assert load_interactions(engine, ["chat:t:2", "chat:t:0"]) == [items()[2], items()[0]]


def test_writing_twice_leaves_one_copy(engine, rubric):
    for _ in range(2):
        save_interactions(engine, items(), "run-1")
        save_scores(engine, score_interactions(items(), rubric), "run-1")
        save_quarantined(engine, [Quarantined("chat", "x.json", "broken")], "run-1")
    counts = table_counts(engine)
    assert counts["interactions"] == 3 and counts["turns"] == 6 and counts["scores"] == 3
    assert counts["criterion_results"] == 3 * len(rubric.criteria)
    assert counts["quarantine"] == 1


def test_changed_interaction_replaces_its_turns(engine):
    save_interactions(engine, items())
    shorter = items()[0].model_copy(update={"turns": [Turn(speaker="agent", text="Hi")]})
    save_interactions(engine, [shorter])
    assert load_interactions(engine, ["chat:t:0"])[0].turns == [Turn(speaker="agent", text="Hi")]
    assert table_counts(engine)["turns"] == 5


def test_database_from_before_migrations_is_upgraded_with_its_data(tmp_path):
    import sqlite3

    from qa_pipeline.migrations import current_revision, head_revision
    from qa_pipeline.search import SearchFilters
    from qa_pipeline.store.search_rows import search_interactions

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # tables as release 0.1 created them, before scored_at
        db.executescript(
            """
            CREATE TABLE interactions (id VARCHAR(255) PRIMARY KEY, channel VARCHAR(8) NOT NULL,
              agent_id VARCHAR(64) NOT NULL, agent_name VARCHAR(255), team VARCHAR(64), language VARCHAR(8),
              started_at DATETIME, source TEXT, metadata JSON, run_id VARCHAR(64));
            CREATE TABLE turns (interaction_id VARCHAR(255) NOT NULL, idx INTEGER NOT NULL,
              speaker VARCHAR(16) NOT NULL, text TEXT NOT NULL, start FLOAT, "end" FLOAT, at DATETIME,
              metadata JSON, PRIMARY KEY (interaction_id, idx));
            CREATE TABLE scores (interaction_id VARCHAR(255), rubric VARCHAR(64), agent_id VARCHAR(64)
              NOT NULL, channel VARCHAR(8) NOT NULL, model VARCHAR(64), language VARCHAR(8),
              score FLOAT NOT NULL, flags JSON, run_id VARCHAR(64), PRIMARY KEY (interaction_id, rubric));
            CREATE VIRTUAL TABLE turns_fts USING fts5(text, interaction_id UNINDEXED, idx UNINDEXED);
            INSERT INTO interactions (id, channel, agent_id) VALUES ('chat:old:1', 'chat', 'a1');
            INSERT INTO turns VALUES ('chat:old:1', 0, 'customer', 'Where is my refund?', NULL, NULL, NULL, NULL);
            INSERT INTO turns VALUES ('chat:old:1', 1, 'agent', 'Sorry, it is on its way.', NULL, NULL, NULL, NULL);
            INSERT INTO turns_fts VALUES ('Where is my refund?', 'chat:old:1', 0);
            INSERT INTO scores VALUES ('chat:old:1', 'default', 'a1', 'chat', NULL, 'en', 80.0,
              '[{"code": "escalation", "reason": "asked for a manager"}]', NULL);
            """
        )
    engine = connect(f"sqlite:///{path}")
    assert current_revision(engine) == head_revision()
    assert "scored_at" in {c["name"] for c in inspect(engine).get_columns("scores")}
    [old] = load_interactions(engine, ["chat:old:1"])
    assert [t.text for t in old.turns] == ["Where is my refund?", "Sorry, it is on its way."]
    [hit] = search_interactions(engine, "sorry")  # the second turn was never in the old index
    assert hit.interaction_id == "chat:old:1" and hit.turn == 1
    flagged = search_interactions(engine, "refund", SearchFilters(flag="escalation"))  # flags copied out
    assert [h.interaction_id for h in flagged] == ["chat:old:1"]
    assert search_interactions(engine, "refund", SearchFilters(flag="negative_language")) == []


def test_migrations_build_exactly_the_declared_schema(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from qa_pipeline.store import metadata

    def ours(obj, name, type_, reflected, compare_to):  # the search index objects are the migration's own
        return not (name or "").startswith(("turns_fts", "alembic_version")) and name not in (
            "search",
            "ix_turns_search",
        )

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": ours})
        assert compare_metadata(context, metadata) == []


def test_migrating_twice_changes_nothing(engine):
    from qa_pipeline.migrations import upgrade

    save_interactions(engine, items())
    upgrade(engine)
    assert table_counts(engine)["turns"] == 6 and len(load_interactions(engine, ["chat:t:0"])) == 1


def test_runs_left_running_by_a_dead_process_are_marked_interrupted(engine):
    import socket
    import subprocess
    import sys
    from datetime import timedelta

    from sqlalchemy import insert

    from qa_pipeline.store import finish_run, runs, start_run

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(runs),
            [
                {
                    "id": "killed",
                    "started_at": now,
                    "status": "running",
                    "summary": {"host": socket.gethostname(), "pid": int(dead.stdout)},
                },
                {
                    "id": "elsewhere-old",
                    "started_at": now - timedelta(days=2),
                    "status": "running",
                    "summary": {"host": "another-machine", "pid": 1},
                },
                {
                    "id": "elsewhere-now",
                    "started_at": now,
                    "status": "running",
                    "summary": {"host": "another-machine", "pid": 1},
                },
            ],
        )
    assert sorted(start_run(engine, "new", "2026-11-20")) == ["elsewhere-old", "killed"]
    finish_run(engine, "new", "ok", {})
    with engine.connect() as conn:
        status = dict(conn.execute(select(runs.c.id, runs.c.status)).all())
    assert status == {
        "killed": "interrupted",
        "elsewhere-old": "interrupted",
        "elsewhere-now": "running",
        "new": "ok",
    }
    assert start_run(engine, "newer", None) == []  # this process is alive: its runs stay


def test_a_store_per_url_shares_one_engine_and_does_the_product_reads_and_writes(tmp_path, rubric):
    from qa_pipeline.store import Store

    url = f"sqlite:///{tmp_path / 'qa.db'}"
    store, again = Store(url), Store(url)
    assert store.engine is again.engine  # one pool per database, however many callers
    item = Interaction(
        id="chat:s:1",
        channel="chat",
        agent_id="a1",
        turns=[Turn(speaker="agent", text="Hello, I am sorry for the wait. Thank you!")],
    )
    store.save_interactions([item], run_id="r1")
    assert store.stored_in_run([item.id], "r1") == {item.id: None}
    [score] = score_interactions(store.load_interactions([item.id]), rubric)
    store.save_scores([score], run_id="r1")
    assert store.load_scores(item.id)[0].score == score.score
    assert store.save_quarantined([Quarantined("chat", "x.json", "broken")], "r1") == 1
    assert [h.interaction_id for h in store.search("sorry")] == [item.id]
    rows, crit = store.scorecard_rows()
    assert [r["interaction_id"] for r in rows] == [item.id] and crit
    assert store.table_counts()["quarantine"] == 1


def test_a_stored_score_with_an_escalation_flag_loads_again(engine, rubric):
    """Flag evidence of cue phrases ("speak to a manager") reads back through the contract."""
    item = Interaction(
        id="chat:t:esc",
        channel="chat",
        language="en",
        turns=[
            Turn(speaker="customer", text="This is useless, I want to speak to a manager."),
            Turn(speaker="agent", text="Hello, I am sorry. I will help you now."),
        ],
    )
    [scored] = score_interactions([item], rubric)
    assert any(f.code == "escalation" for f in scored.flags)
    save_interactions(engine, [item])
    save_scores(engine, [scored])
    [loaded] = load_scores(engine, item.id)
    assert [f.code for f in loaded.flags] == [f.code for f in scored.flags]
    assert {e.kind for f in loaded.flags for e in f.evidence} >= {"cue"}


def test_runs_and_quarantine_listing_by_run_channel_and_kind_of_reason(engine):
    from qa_pipeline.store import finish_run, list_quarantined, list_runs, start_run

    summary = {"channels": {"chat": {"read": 6, "scored": 2, "quarantined": 4}}}
    start_run(engine, "run-1", "2026-11-20")
    save_quarantined(
        engine,
        [Quarantined("chat", "a.json", f"conversation {n} has no messages", position=n) for n in (7, 8, 10)]
        + [Quarantined("call", "c.wav", "empty file (0 bytes)")],
        "run-1",
    )
    finish_run(engine, "run-1", "ok", summary)
    start_run(engine, "run-2", "2026-11-21")  # still running: no totals yet
    save_quarantined(
        engine, [Quarantined("chat", "a.json", "conversation 7 has no messages", position=7)], "run-2"
    )
    save_quarantined(engine, [Quarantined("email", "m.mbox", "not an mbox file")], "run-2")

    newest, older = list_runs(engine)
    assert (newest["id"], newest["status"], newest["read"]) == ("run-2", "running", None)
    assert (older["id"], older["read"], older["scored"], older["quarantined"]) == ("run-1", 6, 2, 4)
    assert [r["id"] for r in list_runs(engine, run_id="run-1")] == ["run-1"]

    first = list_quarantined(engine, run_id="run-1")
    assert first.total == 4  # conversation 7 was met again by run-2 and is still run-1's
    assert first.by_reason == [  # one kind, whatever the number's length ("8" and "10")
        ("chat", "conversation N has no messages", 3),
        ("call", "empty file (N bytes)", 1),
    ]
    assert [(q["channel"], q["position"]) for q in first.items] == [
        ("call", None),
        ("chat", 7),
        ("chat", 8),
        ("chat", 10),
    ]
    second = list_quarantined(engine, run_id="run-2")
    assert second.total == 2 and {q["source"] for q in second.items} == {"a.json", "m.mbox"}
    assert list_quarantined(engine).total == 5  # every run
    assert list_quarantined(engine, channel="chat").total == 3
    limited = list_quarantined(engine, reason="NO MESSAGES", limit=1)
    assert limited.total == 3 and len(limited.items) == 1
    assert list_quarantined(engine, reason="100%").total == 0  # a literal %, not a wildcard
