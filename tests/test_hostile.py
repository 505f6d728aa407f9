"""Hostile inputs (tests/data/hostile, made by make_hostile.py): no traceback, nothing valid lost."""

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from qa_pipeline.cli import app
from qa_pipeline.errors import QAError
from qa_pipeline.settings import Settings
from qa_pipeline.sources.chats import ingest_chats


@pytest.fixture
def hostile(data: Path) -> Path:
    return data / "hostile"


def test_a_bad_timestamp_costs_only_its_own_conversation(hostile):
    result = ingest_chats([hostile / "chats-timestamps.json"])
    assert sorted(i.id for i in result.interactions) == ["chat:generic:ts-good-1", "chat:generic:ts-good-2"]
    assert result.read == 8 and len(result.quarantined) == 6
    for q in result.quarantined:
        assert "timestamp" in q.reason, q.reason
    # the good Unix time is read as what it says, not 1970
    good = next(i for i in result.interactions if i.id.endswith("ts-good-2"))
    assert good.turns[0].at.year == 2025


def test_duplicate_ids_are_quarantined_never_overwritten(hostile, tmp_path):
    from qa_pipeline.pipeline import ingest_batch
    from qa_pipeline.store import connect, load_interactions, quarantine, table_counts

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'qa.db'}", data_dir=tmp_path)
    first = ingest_batch("chat", [hostile / "chats-dup-a.json"], settings, "run-1")
    second = ingest_batch("chat", [hostile / "chats-dup-b.json"], settings, "run-1")
    assert (first.read, len(first.ids), first.quarantined) == (1, 1, 0)
    # dup-1 again from another file of the same run, and dup-2 twice in one file
    assert (second.read, len(second.ids), second.quarantined) == (3, 1, 2)
    assert all("duplicate id" in r for r in second.reasons)
    engine = connect(settings.database_url)
    [kept] = load_interactions(engine, ["chat:generic:dup-1"])
    assert kept.source.endswith("chats-dup-a.json")  # the first one stayed
    with engine.connect() as conn:
        assert len(conn.execute(quarantine.select()).all()) == 2
    # re-reading the same file in the same run (a retried task) replaces, it is no duplicate
    again = ingest_batch("chat", [hostile / "chats-dup-a.json"], settings, "run-1")
    assert (len(again.ids), again.quarantined) == (1, 0)
    assert table_counts(engine)["interactions"] == 2


def test_scorecards_keep_agents_apart_and_defuse_formulas(hostile, tmp_path, rubric):
    from qa_pipeline.scorecards import build_scorecards
    from qa_pipeline.scoring import score_interactions
    from qa_pipeline.store import connect, save_interactions, save_scores

    items = ingest_chats([hostile / "chats-agents.json"]).interactions
    engine = connect(f"sqlite:///{tmp_path / 'qa.db'}")
    save_interactions(engine, items)
    save_scores(engine, score_interactions(items, rubric))
    files = build_scorecards(engine, tmp_path / "cards")
    assert len({p.name for p in files.agent_pages}) == 3  # ag/1 and ag:1 no longer share a page
    table = pd.read_csv(files.csv, dtype=str)
    assert not table["agent_name"].str.startswith(("=", "+", "-", "@")).any()
    assert "'=HYPERLINK" in files.csv.read_text(encoding="utf-8")


def test_search_refuses_symbol_only_queries_and_absurd_limits(tmp_path):
    from qa_pipeline.search import search_interactions
    from qa_pipeline.store import connect

    engine = connect(f"sqlite:///{tmp_path / 'qa.db'}")
    for query in ("*", "%", "\N{PILE OF POO}"):
        with pytest.raises(QAError, match="no letters or digits"):
            search_interactions(engine, query)
    with pytest.raises(QAError, match="--limit"):
        search_interactions(engine, "refund", limit=10**20)
    config = tmp_path / "qa.toml"
    config.write_text(f'database_url = "sqlite:///{tmp_path / "qa.db"}"\n')
    result = CliRunner().invoke(
        app, ["search", "refund", "--limit", "99999999999999999999", "--config", str(config)]
    )
    assert result.exit_code == 2 and "--limit" in result.output and "Traceback" not in result.output


def test_a_rubric_with_an_infinite_weight_is_invalid(hostile):
    result = CliRunner().invoke(app, ["rubric", "validate", str(hostile / "rubric-infinite-weight.yaml")])
    assert result.exit_code != 0 and "weight" in result.output
