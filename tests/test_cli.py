import json
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from qa_pipeline.cli import app

ROOT = Path(__file__).parent.parent
runner = CliRunner()


def all_commands():
    """Every `qa ...` command path, groups included."""

    def walk(command, prefix):
        yield prefix
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, [*prefix, name])

    return [p for p in walk(get_command(app), []) if p]


@pytest.mark.parametrize("path", all_commands(), ids=" ".join)
def test_every_command_has_help_and_a_readme_mention(path):
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0
    command = get_command(app)
    for name in path:
        command = command.commands[name]
    assert (command.help or "").strip(), f"qa {' '.join(path)} has no help text"
    assert f"qa {' '.join(path)}" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_score_command_writes_the_contract_and_quarantines_bad_lines(tmp_path: Path):
    source = tmp_path / "in.jsonl"
    good = {
        "id": "chat:zendesk:48213",
        "channel": "chat",
        "agent_id": "a17",
        "language": "en",
        "turns": [
            {"speaker": "agent", "text": "Hi, thanks for contacting Acme! I'm Sarah."},
            {"speaker": "customer", "text": "My card 4111 1111 1111 1111 was charged twice."},
            {"speaker": "agent", "text": "I'm sorry! I have issued a refund. Thank you!"},
        ],
    }
    source.write_text(json.dumps(good) + "\n{broken\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["score", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "read 2 = scored 1 + quarantined 1" in result.output
    [line] = out.read_text(encoding="utf-8").splitlines()
    score = json.loads(line)
    assert {"interaction_id", "agent_id", "channel", "rubric", "model", "score", "criteria", "flags"} <= set(
        score
    )
    assert score["interaction_id"] == "chat:zendesk:48213" and score["rubric"].startswith("default@")
    for criterion in score["criteria"].values():
        assert criterion["result"] in {"pass", "fail", "na"}
        assert criterion["result"] != "pass" or criterion["evidence"]
    quarantined = json.loads(out.with_suffix(".quarantine.jsonl").read_text(encoding="utf-8"))
    assert "line 2" in quarantined["reason"]
    # scored again once the bad line is fixed: the old quarantine file no longer stands beside it
    source.write_text(json.dumps(good) + "\n", encoding="utf-8")
    again = runner.invoke(app, ["score", str(source), "-o", str(out)])
    assert "read 1 = scored 1 + quarantined 0" in again.output
    assert not out.with_suffix(".quarantine.jsonl").exists()


def test_errors_are_one_line_with_exit_code_2(tmp_path: Path):
    source = tmp_path / "in.jsonl"
    source.write_text("", encoding="utf-8")
    result = runner.invoke(
        app,
        ["score", str(source), "-o", str(tmp_path / "o.jsonl"), "--rubric", str(tmp_path / "missing.yaml")],
    )
    assert result.exit_code == 2
    assert result.output.strip().startswith("error:") and "not found" in result.output
    assert "Traceback" not in result.output


def test_ingest_chats_command(tmp_path: Path, data: Path):
    out = tmp_path / "chats.jsonl"
    result = runner.invoke(app, ["ingest", "chats", str(data / "chats" / "export.json"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "read 4 = ingested 2 + quarantined 2" in result.output
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert "[CARD]" in lines[0]["turns"][2]["text"]  # redacted before it is written


def test_rubric_validate_and_explain():
    ok = runner.invoke(
        app,
        [
            "rubric",
            "validate",
            str(ROOT / "rubrics" / "default.yaml"),
            str(ROOT / "rubrics" / "billing.yaml"),
        ],
    )
    assert ok.exit_code == 0 and ok.output.count("ok:") == 2 and "billing@1, 6 criteria" in ok.output
    explained = runner.invoke(app, ["rubric", "explain", str(ROOT / "rubrics" / "default.yaml")])
    assert explained.exit_code == 0 and "Empathy (empathy)" in explained.output


def test_rubric_validate_reports_the_error(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: x\nversion: 1\nname: X\nlanguages: [en]\ncriteria:\n  - id: g\n    name: G\n    weight: 0\n"
        "    phrases: {en: [hi]}\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["rubric", "validate", str(bad)])
    assert result.exit_code == 2 and "criterion 'g', field 'weight'" in result.output


def test_score_routes_billing_to_its_rubric(tmp_path: Path):
    source = tmp_path / "in.jsonl"
    item = {
        "id": "chat:x:1",
        "channel": "chat",
        "agent_id": "a17",
        "team": "billing",
        "language": "en",
        "turns": [{"speaker": "agent", "text": "Hello, can you confirm your account number?"}],
    }
    other = {**item, "id": "chat:x:2", "team": "tech"}
    source.write_text(json.dumps(item) + "\n" + json.dumps(other) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(
        app, ["score", str(source), "-o", str(out), "-c", str(ROOT / "examples" / "qa.toml")]
    )
    assert result.exit_code == 0, result.output
    billing, tech = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert billing["rubric"] == "billing@1" and billing["criteria"]["verification"]["result"] == "pass"
    assert tech["rubric"].startswith("default@") and "verification" not in tech["criteria"]


def test_runs_and_quarantine_commands_list_what_a_night_left_out(tmp_path: Path):
    from qa_pipeline.pipeline import RunSummary
    from qa_pipeline.sources import Quarantined
    from qa_pipeline.store import open_store

    url = f"sqlite:///{tmp_path / 'qa.db'}"
    config = tmp_path / "qa.toml"
    config.write_text(f'database_url = "{url}"\ndata_dir = "{tmp_path}"\n')
    args = ["--config", str(config)]
    assert "no runs yet" in runner.invoke(app, ["quarantine", *args]).output
    store = open_store(url)
    empty = [
        Quarantined("chat", "night.json", f"conversation {n} has no messages", position=n) for n in range(25)
    ]
    store.start_run("nightly-1", "2026-11-20")
    store.save_quarantined([*empty, Quarantined("call", "c.wav", "empty file (0 bytes)")], "nightly-1")
    summary = RunSummary(
        channels={
            "chat": {"read": 30, "scored": 5, "quarantined": 25},
            "call": {"read": 1, "scored": 0, "quarantined": 1},
        },
        reasons=[f"[chat] night.json#{n}: conversation {n} has no messages" for n in range(25)]
        + ["[call] c.wav: empty file (0 bytes)"],
        notes=[f"[chat] night.json#{n}: agent unknown" for n in range(30)],
    )
    store.finish_run("nightly-1", "ok", summary.as_dict())

    listed = runner.invoke(app, ["runs", *args])
    assert listed.exit_code == 0, listed.output
    assert "nightly-1" in listed.output and "31" in listed.output and "26" in listed.output
    shown = runner.invoke(app, ["quarantine", "--limit", "3", *args])
    assert shown.exit_code == 0, shown.output
    assert "26 input(s) quarantined by run nightly-1" in shown.output
    assert "25  chat   conversation N has no messages" in shown.output
    assert "night.json#0: conversation 0 has no messages" in shown.output
    assert "... 23 more" in shown.output
    calls = json.loads(runner.invoke(app, ["quarantine", "--channel", "call", "--json", *args]).output)
    assert calls["total"] == 1 and calls["items"][0]["source"] == "c.wav"
    for bad, says in (
        (["--run", "nightly-9"], "qa runs lists them"),
        (["--channel", "fax"], "call, chat, email"),
    ):
        result = runner.invoke(app, ["quarantine", *bad, *args])
        assert result.exit_code == 2 and says in result.output, result.output

    # The nightly summary names 20 inputs and says how to list the rest, which are counted above;
    # the run record keeps 100 reasons (the quarantine table has them all) and every note.
    rendered = summary.render("nightly-1")
    assert rendered.count("  quarantined: ") == RunSummary.REASONS_SHOWN == 20
    assert "... 6 more quarantined, counted by reason: qa quarantine --run nightly-1" in rendered
    assert rendered.count("  note: ") == 20 and "... 10 more notes: qa runs --json" in rendered
    many = RunSummary(channels={"chat": {"read": 500, "scored": 0, "quarantined": 500}}, reasons=["x"] * 500)
    kept = many.as_dict()
    assert len(kept["reasons"]) == RunSummary.REASONS_KEPT == 100
    assert "... 480 more quarantined" in RunSummary(**{k: kept[k] for k in ("channels", "reasons")}).render()
    assert len(json.loads(runner.invoke(app, ["runs", "--json", *args]).output)[0]["notes"]) == 30
