import pytest

from qa_pipeline.alerts import flag_summary, render_text, send_alert
from qa_pipeline.errors import ConfigError, QAError
from qa_pipeline.interactions import Interaction, Turn
from qa_pipeline.scoring import score_interactions
from qa_pipeline.store import save_interactions, save_scores


def test_summary_counts_only_this_runs_flags(engine, store, rubric):
    rude = Interaction(
        id="chat:t:1",
        channel="chat",
        agent_id="a1",
        language="en",
        turns=[
            Turn(speaker="customer", text="I want to speak to a manager."),
            Turn(speaker="agent", text="Calm down."),
        ],
    )
    fine = Interaction(
        id="chat:t:2",
        channel="chat",
        agent_id="a2",
        language="en",
        turns=[
            Turn(speaker="customer", text="My bill is wrong."),
            Turn(speaker="agent", text="Hello! I'm sorry, of course, I have fixed it. Thank you!"),
        ],
    )
    save_interactions(engine, [rude, fine])
    save_scores(engine, score_interactions([rude], rubric), "run-1")
    save_scores(engine, score_interactions([fine], rubric), "run-2")
    summary = flag_summary(store, "run-1")
    [top] = summary["top"]
    assert top["interaction_id"] == "chat:t:1" and summary["flagged_interactions"] == 1
    assert {"escalation", "negative_language"} <= set(summary["flags"])
    assert "chat:t:1" in render_text(summary)
    assert flag_summary(store, "run-2")["flagged_interactions"] == 0


def test_undeliverable_targets_raise_clear_errors():
    with pytest.raises(QAError, match="not delivered"):
        send_alert(
            "http://127.0.0.1:9/nowhere",
            {"run_id": "r", "flagged_interactions": 0, "flags": {}, "top": []},
            timeout=2,
        )
    try:
        import apprise  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match="pip install apprise"):
            send_alert("slack://token", {"run_id": "r", "flagged_interactions": 0, "flags": {}, "top": []})
