from qa_pipeline.interactions import Interaction, Turn
from qa_pipeline.scoring import score_interactions
from qa_pipeline.sources import Quarantined
from qa_pipeline.store import (
    load_interactions,
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


def test_database_from_an_older_version_gets_new_nullable_columns(tmp_path):
    import sqlite3

    from sqlalchemy import inspect

    from qa_pipeline.store import connect

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # the scores table as the first release created it
        db.execute(
            "CREATE TABLE scores (interaction_id VARCHAR(255), rubric VARCHAR(64), agent_id VARCHAR(64) "
            "NOT NULL, channel VARCHAR(8) NOT NULL, model VARCHAR(64), language VARCHAR(8), "
            "score FLOAT NOT NULL, flags JSON, run_id VARCHAR(64), PRIMARY KEY (interaction_id, rubric))"
        )
    engine = connect(f"sqlite:///{path}")
    assert "scored_at" in {c["name"] for c in inspect(engine).get_columns("scores")}
