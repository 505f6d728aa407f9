"""The nightly flow end to end on the Prefect test harness, with real transcription."""

import shutil
from datetime import date
from pathlib import Path

import pytest
from nightly_config import assert_same_night, night_config, write_config
from sqlalchemy import select

from qa_pipeline.search import SearchFilters
from qa_pipeline.store import connect, scores, table_counts
from qa_pipeline.store.search_rows import search_interactions

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'qa.db'}"
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture
def config(tmp_path: Path, data: Path, db_url: str) -> Path:
    calls = tmp_path / "in" / "calls"
    calls.mkdir(parents=True)
    for name in ("short-stereo.wav", "corrupt.mp3", "manifest.csv"):
        shutil.copy(data / "calls" / name, calls / name)
    shutil.copy(data / "calls" / "short-stereo.wav", calls / "recording-17.wav")  # no manifest row
    return write_config(
        tmp_path,
        f"""
[sources]
calls = ["{calls}"]
chats = ["{data / "chats"}/*.json*"]
emails = ["{data / "emails"}/*.mbox"]
""",
        database_url=db_url,
    )


def test_nightly_reconciles_and_is_idempotent(harness, config, db_url):
    from fake_helpdesk import WebhookSink

    from qa_pipeline.flows.nightly import run_nightly

    with WebhookSink() as sink:
        config.write_text(
            config.read_text(encoding="utf-8").replace("[sources]", f'alert_url = "{sink.url}"\n[sources]'),
            encoding="utf-8",
        )
        first = run_nightly(config, date(2026, 11, 20))
    [alert] = sink.received
    assert alert["run_id"] == first["run_id"] and first["alert"].startswith("sent")
    assert alert["flagged_interactions"] > 0 and sum(alert["flags"].values()) >= alert["flagged_interactions"]
    assert "flagged" in alert["text"]
    channels = first["channels"]
    assert first["balanced"]
    for channel in ("call", "chat", "email"):
        c = channels[channel]
        assert c["read"] == c["scored"] + c["quarantined"] and c["scored"] > 0, channel
    assert channels["call"] == {"read": 3, "scored": 2, "quarantined": 1}
    assert any("corrupt.mp3" in r for r in first["reasons"])
    assert any("recording-17.wav: agent unknown" in n for n in first["notes"])
    assert Path(first["scorecards"]).exists()

    engine = connect(db_url)
    flagged = search_interactions(engine, "", SearchFilters(flag=next(iter(alert["flags"]))), limit=100)
    assert 0 < len(flagged) <= alert["flagged_interactions"]
    before = table_counts(engine)
    with engine.connect() as conn:
        scores_before = conn.execute(
            select(scores.c.interaction_id, scores.c.score).order_by(scores.c.interaction_id)
        ).all()

    second = run_nightly(config, date(2026, 11, 20))
    assert second["channels"] == channels
    after = table_counts(engine)
    assert after.pop("runs") == before.pop("runs") + 1
    assert after == before  # no duplicate interactions, turns, scores or quarantine rows
    with engine.connect() as conn:
        assert (
            conn.execute(
                select(scores.c.interaction_id, scores.c.score).order_by(scores.c.interaction_id)
            ).all()
            == scores_before
        )


def test_scheduled_deployment_carries_cron_timezone_and_config(config):
    from qa_pipeline.flows.nightly import nightly_deployment

    deployment = nightly_deployment(config, "30 1 * * *", "Europe/Prague")
    [schedule] = deployment.schedules
    assert schedule.schedule.cron == "30 1 * * *" and schedule.schedule.timezone == "Europe/Prague"
    assert deployment.parameters == {"config": str(config.resolve())}
    assert deployment.name == "nightly"


def test_unknown_task_runner_is_a_config_error(tmp_path):
    from qa_pipeline.errors import ConfigError
    from qa_pipeline.flows.nightly import task_runner_for
    from qa_pipeline.settings import Settings

    with pytest.raises(ConfigError, match="unknown task_runner"):
        task_runner_for(Settings(task_runner="ray"))


def test_nightly_on_local_processes_stores_what_threads_store(harness, tmp_path, data):
    import os
    import threading

    import psutil

    from qa_pipeline.flows.nightly import run_nightly

    me, workers, done = psutil.Process(), set(), threading.Event()

    def watch() -> None:  # the pool's worker processes are this process's children
        while not done.wait(0.05):
            for child in me.children():
                try:
                    if "prefect" not in " ".join(child.cmdline()):  # not the Prefect server
                        workers.add(child.pid)
                except psutil.Error:  # gone between the listing and the look
                    pass

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        on_processes = run_nightly(
            night_config(tmp_path / "processes", data, "processes"), date(2026, 11, 20)
        )
    finally:
        done.set()
        watcher.join()
    on_threads = run_nightly(night_config(tmp_path / "threads", data, "threads"), date(2026, 11, 20))

    assert workers and os.getpid() not in workers  # tasks ran in child processes
    assert_same_night(on_processes, tmp_path / "processes", on_threads, tmp_path / "threads")


def test_nightly_pulls_apis_and_moves_watermarks_only_for_complete_pulls(harness, tmp_path, data):
    from fake_helpdesk import FakeZendesk

    from qa_pipeline.flows.nightly import run_nightly
    from qa_pipeline.store import get_watermark

    with FakeZendesk() as good, FakeZendesk(fail_always=True) as bad:
        config = tmp_path / "qa.toml"
        pulls = "".join(
            f"""
[[sources.pulls]]
name = "{name}"
format = "zendesk"
url = "{api.base}/api/v2/incremental/tickets/cursor.json"
key = "tickets"
since_param = "start_time"
since_format = "unix"
retries = 1
backoff_s = 0
"""
            for name, api in (("zendesk-good", good), ("zendesk-down", bad))
        )
        config.write_text(
            f'database_url = "sqlite:///{tmp_path / "qa.db"}"\ndata_dir = "{tmp_path / "var"}"\n{pulls}',
            encoding="utf-8",
        )
        result = run_nightly(config, date(2026, 11, 20))
    chat = result["channels"]["chat"]
    assert chat == {"read": 3, "scored": 2, "quarantined": 1}  # two tickets, one source down
    assert any("pull zendesk-down" in r and "500" in r for r in result["reasons"])
    engine = connect(f"sqlite:///{tmp_path / 'qa.db'}")
    assert get_watermark(engine, "zendesk-good") is not None
    assert get_watermark(engine, "zendesk-down") is None
    from qa_pipeline.store import quarantine

    with engine.connect() as conn:  # the failed pull is in the quarantine table, not only the summary
        [row] = conn.execute(select(quarantine.c.source, quarantine.c.reason)).all()
    assert row.source.startswith("pull zendesk-down") and "500" in row.reason
    # the raw pulled records (personal data) are not kept once stored redacted
    assert not list((tmp_path / "var" / "pulls").rglob("*.jsonl"))


def test_qa_ingest_then_qa_score_gives_what_the_nightly_run_stores(harness, tmp_path, data):
    """The CLI and the flow call the same library functions: same interactions, same scores."""
    import json

    from typer.testing import CliRunner

    from qa_pipeline.cli import app
    from qa_pipeline.flows.nightly import run_nightly
    from qa_pipeline.store import load_interactions, load_scores

    config = write_config(
        tmp_path,
        f"""
[sources]
chats = ["{data / "chats"}/*.json*"]
emails = ["{data / "emails"}/*.mbox"]
[[agents]]
id = "sarah"
name = "Sarah Kowalski"
team = "billing"
aliases = ["a17"]
""",
    )
    run_nightly(config, date(2026, 11, 20))
    runner, out = CliRunner(), tmp_path / "cli"
    chats = sorted(str(p) for p in data.glob("chats/*.json*"))
    for kind, paths in (("chats", chats), ("emails", [str(data / "emails" / "thread.mbox")])):
        done = runner.invoke(
            app, ["ingest", kind, *paths, "-o", str(out / f"{kind}.jsonl"), "--config", str(config)]
        )
        assert done.exit_code == 0, done.output
    lines = [
        json.loads(x) for k in ("chats", "emails") for x in (out / f"{k}.jsonl").read_text().splitlines()
    ]
    both = out / "all.jsonl"
    both.write_text("".join(json.dumps(x) + "\n" for x in lines))
    done = runner.invoke(app, ["score", str(both), "-o", str(out / "scores.jsonl"), "--config", str(config)])
    assert done.exit_code == 0, done.output

    engine = connect(f"sqlite:///{tmp_path / 'qa.db'}")
    stored = {i.id: i for i in load_interactions(engine, [x["id"] for x in lines])}
    assert len(stored) == len(lines) >= 5
    for line in lines:
        kept = stored[line["id"]]
        assert (line["agent_id"], line.get("agent_name"), line.get("team")) == (
            kept.agent_id,
            kept.agent_name,
            kept.team,
        )
        assert [t["text"] for t in line["turns"]] == [t.text for t in kept.turns]
    assert any(x["agent_id"] == "sarah" and x["team"] == "billing" for x in lines)  # the alias was mapped
    for score in (json.loads(x) for x in (out / "scores.jsonl").read_text().splitlines()):
        [nightly] = load_scores(engine, score["interaction_id"])
        assert score["score"] == nightly.score, score["interaction_id"]
        assert {c: r["result"] for c, r in score["criteria"].items()} == {
            c: r.result for c, r in nightly.criteria.items()
        }
