import re

import pandas as pd
import pytest

from qa_pipeline.interactions import Interaction, Turn
from qa_pipeline.scorecards import build_scorecards
from qa_pipeline.scoring import score_interactions
from qa_pipeline.store import save_interactions, save_scores

GOOD = "Hello, I'm sorry to hear that. Of course, I have fixed it. Thank you!"
BAD = "Calm down, you have to wait."


def interaction(n: int, agent: str, day: int, text: str) -> Interaction:
    return Interaction(
        id=f"chat:t:{n}",
        channel="chat",
        agent_id=agent,
        agent_name=agent.upper(),
        team="billing" if agent == "a1" else "tech",
        language="en",
        started_at=f"2026-11-{day:02d}T10:00:00Z",
        turns=[Turn(speaker="customer", text="Help!"), Turn(speaker="agent", text=text)],
    )


@pytest.fixture
def stored(engine, rubric):
    items = [
        interaction(1, "a1", 19, GOOD),
        interaction(2, "a1", 20, BAD),
        interaction(3, "a1", 20, GOOD),
        interaction(4, "a2", 20, BAD),
    ]
    results = score_interactions(items, rubric)
    save_interactions(engine, items)
    save_scores(engine, results)
    return items, results


def test_csv_and_parquet_per_agent_and_day(engine, store, stored, tmp_path):
    items, results = stored
    files = build_scorecards(store, tmp_path / "cards")
    table = pd.read_csv(files.csv)
    assert pd.read_parquet(files.parquet).shape == table.shape
    assert sorted(zip(table.agent_id, table.period, strict=True)) == [
        ("a1", "2026-11-19"),
        ("a1", "2026-11-20"),
        ("a2", "2026-11-20"),
    ]
    row = table[(table.agent_id == "a1") & (table.period == "2026-11-20")].iloc[0]
    day = [r for r, i in zip(results, items, strict=True) if i.agent_id == "a1" and i.started_at.day == 20]
    assert row.interactions == 2
    assert row.avg_score == pytest.approx(sum(r.score for r in day) / 2, abs=0.01)
    expected_empathy = sum(r.criteria["empathy"].result == "pass" for r in day) / 2
    assert row.pass_empathy == pytest.approx(expected_empathy)


def test_html_pages_show_charts_lowest_interactions_and_evidence(engine, store, stored, tmp_path):
    files = build_scorecards(store, tmp_path / "cards")
    assert sorted(p.name for p in files.agent_pages) == ["a1.html", "a2.html"]
    page = (tmp_path / "cards" / "agents" / "a1.html").read_text(encoding="utf-8")
    assert page.count('class="axis"') >= 2 * 2  # score and criterion trends, each with two axes
    assert re.search(r'id="rate-empathy">.*?<td class="denominator">\d / 3</td>', page, re.S)
    assert (
        "chat:t:2" in page and '<mark class="ev-fail"' in page and "Calm down" in page
    )  # the failed sentence
    assert (tmp_path / "cards" / "app.css").exists() and 'href="../app.css"' in page
    assert "<form" not in page and "/interactions/" not in page  # no forms, no links into the app
    index = files.index.read_text(encoding="utf-8")
    assert "agents/a1.html" in index and "agents/a2.html" in index and "billing" in index and "tech" in index


def test_empty_database_gives_an_empty_but_valid_scorecard(engine, store, tmp_path):
    files = build_scorecards(store, tmp_path / "cards")
    assert files.rows == 0 and "No scored interactions" in files.index.read_text(encoding="utf-8")


def test_rescoring_under_a_new_rubric_version_counts_each_interaction_once(
    engine, store, stored, rubric, tmp_path
):
    items, _ = stored
    newer = rubric.model_copy(update={"version": rubric.version + 1})
    save_scores(engine, score_interactions(items, newer))
    table = pd.read_csv(build_scorecards(store, tmp_path / "cards").csv)
    assert table["interactions"].sum() == len(items)


def test_call_handle_time_and_talk_metrics_reach_the_scorecards(engine, store, rubric, tmp_path):
    call = interaction(9, "a3", 20, GOOD).model_copy(
        update={
            "id": "call:t:9",
            "channel": "call",
            "metadata": {"duration": 125.0, "metrics": {"agent_talk_ratio": 0.6, "longest_silence_s": 12.0}},
        }
    )
    save_interactions(engine, [call])
    save_scores(engine, score_interactions([call], rubric))
    files = build_scorecards(store, tmp_path / "cards")
    row = pd.read_csv(files.csv).iloc[0]
    assert (
        row.avg_handle_time_s == 125.0
        and row.avg_agent_talk_ratio == 0.6
        and row.avg_longest_silence_s == 12.0
    )
    page = (tmp_path / "cards" / "agents" / "a3.html").read_text(encoding="utf-8")
    assert "<dt>Handle time (calls)</dt><dd>2:05</dd>" in page
    assert "<dt>Agent share of talk (calls)</dt><dd>60%</dd>" in page
    assert "<td>2:05</td>" in files.index.read_text(encoding="utf-8")


def test_chat_response_times_reach_the_scorecards(engine, store, rubric, tmp_path):
    chats = [
        interaction(n, "a4", 20, GOOD).model_copy(
            update={"metadata": {"metrics": {"first_response_s": s, "resolution_s": r}}}
        )
        for n, s, r in ((11, 60.0, 600.0), (12, 180.0, None))
    ]
    save_interactions(engine, chats)
    save_scores(engine, score_interactions(chats, rubric))
    files = build_scorecards(store, tmp_path / "cards")
    row = pd.read_csv(files.csv).iloc[0]
    assert row.avg_first_response_s == 120.0 and row.avg_resolution_s == 600.0
    page = (tmp_path / "cards" / "agents" / "a4.html").read_text(encoding="utf-8")
    assert "<dt>First response (chats)</dt><dd>2:00</dd>" in page
    assert "<dt>Time to resolution</dt><dd>10:00</dd>" in page


def test_the_customers_word_on_the_outcome_is_shown_as_theirs(engine, store, rubric, tmp_path):
    item = interaction(7, "a1", 20, "I have reset your password.").model_copy(
        update={
            "turns": [
                Turn(speaker="customer", text="I cannot log in to my account since Monday."),
                Turn(speaker="agent", text="I have reset your password."),
                Turn(speaker="customer", text="Still not working, I'll call back."),
            ]
        }
    )
    [score] = score_interactions([item], rubric)
    assert score.criteria["resolution"].result == "fail"
    save_interactions(engine, [item])
    save_scores(engine, [score])
    page = (build_scorecards(store, tmp_path / "cards").index.parent / "agents" / "a1.html").read_text(
        encoding="utf-8"
    )
    assert (
        'Customer, turn 3: “<mark class="ev-fail"' in page
        and ">Still not working, I&#39;ll call back.</mark>”" in page
    )
    assert "The customer said so in the customer&#39;s turn 3" in page


def test_an_interaction_with_nothing_to_score_is_counted_but_not_averaged_as_zero(
    engine, store, rubric, tmp_path
):
    silent = interaction(30, "a1", 20, GOOD).model_copy(
        update={"id": "chat:t:30", "turns": [Turn(speaker="customer", text="Hello? Anybody there?")]}
    )
    good = interaction(31, "a1", 20, GOOD)
    save_interactions(engine, [silent, good])
    scored = score_interactions([silent, good], rubric)
    assert all(r.result == "na" for r in scored[0].criteria.values()) and scored[0].score == 0.0
    save_scores(engine, scored)
    files = build_scorecards(store, tmp_path / "cards")
    row = pd.read_csv(files.csv).iloc[0]
    assert row.interactions == 2 and row.avg_score == scored[1].score and row.min_score == scored[1].score
    assert re.search(rf"<td>2</td>\s*<td>{scored[1].score:.1f}</td>", files.index.read_text(encoding="utf-8"))
