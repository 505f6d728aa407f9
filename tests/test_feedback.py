"""Graders' corrections: stored once, rejected with reasons, counted, and learnt from."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa_pipeline.feedback import disagreement, feedback_labels, import_feedback
from qa_pipeline.interactions import Interaction, Turn
from qa_pipeline.scoring import score_interactions
from qa_pipeline.store import save_interactions, save_scores
from qa_pipeline.training import collect_labels


@pytest.fixture
def scored(engine, rubric):
    items = [
        Interaction(
            id="chat:fb:1",
            channel="chat",
            agent_id="a1",
            language="en",
            turns=[
                Turn(speaker="customer", text="My card was charged twice, thank you in advance."),
                Turn(speaker="agent", text="Oh that's rotten luck."),
                Turn(speaker="agent", text="I have refunded the second charge."),
            ],
        ),
        Interaction(
            id="chat:fb:2",
            channel="chat",
            agent_id="a2",
            language="en",
            turns=[
                Turn(speaker="customer", text="Where is my refund?"),
                Turn(speaker="agent", text="Hello! I have refunded your order, thanks for waiting."),
            ],
        ),
    ]
    save_interactions(engine, items)
    scores = score_interactions(items, rubric)
    save_scores(engine, scores)
    return {s.interaction_id: s for s in scores}


def test_import_stores_rejects_and_counts_disagreement(store, scored, data: Path):
    path = data / "labels" / "feedback.csv"
    report = import_feedback(store, path)
    assert (report.read, report.stored) == (5, 3)
    assert report.read == report.stored + len(report.rejected)
    assert any("feedback.csv:5" in r and "not in the database" in r for r in report.rejected)
    assert any("feedback.csv:6" in r and "must be pass, fail or na" in r for r in report.rejected)

    graded = {
        ("chat:fb:1", "empathy"): "pass",
        ("chat:fb:1", "thanks"): "fail",
        ("chat:fb:2", "resolution"): "fail",
    }
    expected = {}
    for (interaction, criterion), result in graded.items():
        row = expected.setdefault(criterion, {"reviewed": 0, "disagree": 0})
        row["reviewed"] += 1
        row["disagree"] += scored[interaction].criteria[criterion].result != result
    assert {
        c: {k: d[k] for k in ("reviewed", "disagree")} for c, d in disagreement(store).items()
    } == expected

    import_feedback(store, path)  # the same export again: replaced, not duplicated
    assert len(store.stored_feedback()) == 3


def test_corrections_that_name_a_turn_become_labels_for_the_next_training(
    engine, store, scored, data, rubric
):
    assert scored["chat:fb:2"].criteria["resolution"].result == "pass"  # the grader says it should fail
    import_feedback(store, data / "labels" / "feedback.csv")
    labels = {(lb.criterion, lb.text, lb.label) for lb in feedback_labels(store)}
    assert ("empathy", "Oh that's rotten luck.", "pass") in labels  # turn 1, given by the grader
    evidence_turn = scored["chat:fb:2"].criteria["resolution"].evidence[0].turn
    wrong = ("resolution", "Hello! I have refunded your order, thanks for waiting.", "fail")
    assert evidence_turn == 1 and wrong in labels  # the machine's evidence, corrected
    assert all(lb.criterion != "thanks" for lb in feedback_labels(store))  # no turn named: stored only
    gathered = collect_labels(rubric, store=store)
    assert sum(lb.source == "grader" for lb in gathered) == len(labels) == 2
    assert gathered[-1].source == "grader"  # last, so it overrides a bundled label for the same turn


def test_cli_import(engine, scored, data, tmp_path):
    from qa_pipeline.cli import app

    config = tmp_path / "qa.toml"
    config.write_text(
        f'database_url = "{engine.url.render_as_string(hide_password=False)}"\n', encoding="utf-8"
    )
    result = CliRunner().invoke(
        app, ["feedback", "import", str(data / "labels" / "feedback.csv"), "-c", str(config)]
    )
    assert result.exit_code == 0, result.output
    assert "read 5 = stored 3 + rejected 2" in result.output and "resolution" in result.output
    missing = CliRunner().invoke(app, ["feedback", "import", str(tmp_path / "nope.csv"), "-c", str(config)])
    assert missing.exit_code == 2 and "not found" in missing.output
