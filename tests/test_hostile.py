"""Hostile inputs (tests/data/hostile, made by make_hostile.py): no traceback, nothing valid lost."""

import json
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
    from qa_pipeline.store import Store

    items = ingest_chats([hostile / "chats-agents.json"]).interactions
    store = Store(f"sqlite:///{tmp_path / 'qa.db'}")
    store.save_interactions(items)
    store.save_scores(score_interactions(items, rubric))
    files = build_scorecards(store, tmp_path / "cards")
    assert len({p.name for p in files.agent_pages}) == 3  # ag/1 and ag:1 no longer share a page
    table = pd.read_csv(files.csv, dtype=str)
    assert not table["agent_name"].str.startswith(("=", "+", "-", "@")).any()
    assert "'=HYPERLINK" in files.csv.read_text(encoding="utf-8")


def test_search_refuses_symbol_only_queries_and_absurd_limits(tmp_path):
    from qa_pipeline.store import connect
    from qa_pipeline.store.search_rows import search_interactions

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


def test_each_unreadable_jsonl_line_costs_only_itself(hostile):
    result = ingest_chats([hostile / "chats-lines.jsonl"])
    assert sorted(i.id.rsplit(":", 1)[1] for i in result.interactions) == [
        "line-good-1",
        "line-good-2",
        "line-good-3",
    ]
    why = {q.position: q.reason for q in result.quarantined}
    assert sorted(why) == [2, 4, 5, 6]  # the pointer: the line in the file
    assert "not UTF-8" in why[2] and "surrogate" in why[4]
    assert "nested more than" in why[5] and "invalid JSON" in why[6]
    assert all(q.source.startswith(str(hostile)) for q in result.quarantined)


def test_qa_score_isolates_bad_lines_and_huge_turns(hostile, tmp_path):
    lines = tmp_path / "in.jsonl"
    huge = {
        "id": "huge",
        "channel": "chat",
        "turns": [{"speaker": "agent", "text": "Hello " + "a" * 1_000_000}],
    }
    deep = '{"id": "deep", "channel": "chat", "turns": ' + "[" * 100_000 + "]" * 100_000 + "}\n"
    lines.write_bytes(
        (hostile / "score-lines.jsonl").read_bytes() + (json.dumps(huge) + "\n" + deep).encode()
    )
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["score", str(lines), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "read 6 = scored 2 + quarantined 4" in result.output
    assert sorted(json.loads(x)["interaction_id"] for x in out.read_text().splitlines()) == [
        "score-0",
        "score-2",
    ]
    bad = [json.loads(x) for x in out.with_suffix(".quarantine.jsonl").read_text().splitlines()]
    assert [b["line"] for b in bad] == [2, 3, 5, 6]
    assert "not UTF-8" in bad[0]["reason"] and "surrogate" in bad[1]["reason"]
    assert "over the limit" in bad[2]["reason"] and "nested" in bad[3]["reason"]
    assert all(len(b["record"] or "") <= 10_000 for b in bad)  # a bounded copy, never the 1 MB turn


def test_patterns_that_can_backtrack_are_refused_when_they_load(hostile):
    from qa_pipeline.errors import ConfigError
    from qa_pipeline.settings import load_settings

    result = CliRunner().invoke(app, ["rubric", "validate", str(hostile / "rubric-backtracking.yaml")])
    assert result.exit_code != 0 and "exponential" in result.output and "REGEX" in result.output
    with pytest.raises(ConfigError, match="exponential"):
        load_settings(hostile / "config-backtracking.toml")


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        (r"(a+)+$", "exponential"),
        (r"(\w+\s?)*$", "exponential"),
        (r"(x)\1", "back-reference"),
        (r"(unclosed", "not a regular expression"),
        (r"\bCUST-\d{6}\b", None),
        (r"[a-z]+@[a-z]+(\.[a-z]+)+", None),  # each repeat starts with a dot: no ambiguity
    ],
)
def test_pattern_check(pattern, problem):
    from qa_pipeline.patterns import check_pattern

    found = check_pattern(pattern)
    assert (found is None) if problem is None else (problem in found)


def test_a_slow_user_pattern_quarantines_its_record_within_the_time_limit(hostile, tmp_path):
    import time

    from qa_pipeline.pipeline import ingest_batch
    from qa_pipeline.store import connect, quarantine

    slow = tmp_path / "slow.json"
    items = json.loads((hostile / "chats-dup-b.json").read_text())[:2]  # ids dup-1 and dup-2
    items[1]["messages"][1]["text"] = "a" * 30_000  # polynomial blow-up for the pattern below
    slow.write_text(json.dumps(items))
    # passes the load check (no nested repeat) but is slow on a long run of 'a'
    pattern = ".*a" * 9 + ".*c"
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'qa.db'}", data_dir=tmp_path, redact_patterns=[pattern]
    )
    started = time.monotonic()
    report = ingest_batch("chat", [slow], settings, "run-1")
    assert time.monotonic() - started < 10
    assert (report.read, len(report.ids), report.quarantined) == (2, 1, 1)
    with connect(settings.database_url).connect() as conn:
        [row] = conn.execute(quarantine.select()).all()
    assert "redact_patterns" in row.reason and row.record is None  # no unredacted copy kept


def test_mail_bodies_are_read_in_the_charset_they_really_use(hostile):
    from qa_pipeline.sources.emails import ingest_emails

    result = ingest_emails([hostile / "mail-charsets.mbox"])
    texts = sorted(t.text for i in result.interactions for t in i.turns)
    assert texts.count("Dobrý den, děkuji za rychlou odpověď, žluťoučký kůň.") == 3
    assert "Здравствуйте, спасибо за быстрый ответ." in texts
    warnings = sorted(w for i in result.interactions for w in i.metadata.get("warnings", []))
    assert len(warnings) == 3  # the honest windows-1250 mail has none
    assert any("koi8-r" in w and "cp1251" in w for w in warnings)


def test_a_reused_message_id_never_merges_strangers(hostile):
    from qa_pipeline.sources.emails import ingest_emails

    result = ingest_emails([hostile / "mail-shared-id.mbox"])
    threads = sorted([t.text for t in i.turns] for i in result.interactions)
    # two threads (the exact copy of Anna's mail is the same mail, kept once)
    assert threads == [["Where is order 1?"], ["Wrong invoice total."]]


def test_threading_ten_thousand_replies_without_references_stays_near_linear():
    import time
    from datetime import UTC, datetime, timedelta

    from qa_pipeline.sources.emails import Message, thread_messages

    start = datetime(2026, 11, 20, tzinfo=UTC)

    def reply(n: int, subject: str, sender: str) -> Message:
        return Message(
            f"<{n}@x>",
            [],
            sender,
            "",
            frozenset({"help@acme.example"}),
            subject,
            start + timedelta(seconds=n),
            "text",
            None,
            0,
            "box",
        )

    # 10,000 "Re:" mails, none with References: 5,000 subjects, each a pair from one customer
    mails = [reply(n, f"Re: order {n // 2}", f"c{n // 2}@x.example") for n in range(10_000)]
    began = time.perf_counter()
    threads = thread_messages(mails, lambda a: a.endswith("acme.example"))
    elapsed = time.perf_counter() - began
    assert len(threads) == 5_000 and all(len(t) == 2 for t in threads)
    assert elapsed < 20  # a guard against the quadratic scan (95 s); see benchmarks/ for speed


def test_call_manifests_in_legacy_encodings_duplicates_and_six_channels(tmp_path, data, transcriber):
    import shutil
    import wave

    import numpy as np

    from qa_pipeline.sources.calls import ingest_calls

    folder = tmp_path / "calls"
    folder.mkdir()
    shutil.copy(data / "calls" / "short-stereo.wav", folder / "ok.wav")
    shutil.copy(data / "calls" / "short-stereo.wav", folder / "twice.wav")
    with wave.open(str(folder / "surround.wav"), "wb") as out:  # 5.1: six channels of tone
        out.setnchannels(6)
        out.setsampwidth(2)
        out.setframerate(16_000)
        tone = (np.sin(np.arange(16_000) / 10) * 8_000).astype("<i2")
        out.writeframes(np.repeat(tone[:, None], 6, axis=1).tobytes())
    # saved by a spreadsheet in Windows-1250, with a row twice for one file
    (folder / "manifest.csv").write_bytes(
        "file,call_id,agent_id,agent_name\n"
        "ok.wav,c-1,a17,Šárka Dvořáková\n"
        "twice.wav,c-2,a17,Šárka Dvořáková\n"
        "twice.wav,c-3,a18,Petr Novák\n"
        "surround.wav,c-4,a17,Šárka Dvořáková\n".encode("cp1250")
    )
    result = ingest_calls([folder], transcriber)
    [ok] = result.interactions
    assert ok.agent_name == "Šárka Dvořáková" and ok.id.endswith("c-1")
    why = {Path(q.source).name: q.reason for q in result.quarantined}
    assert "more than one row for twice.wav" in why["twice.wav"]
    assert "6 audio channels" in why["surround.wav"]
    # a manifest that cannot be read costs the recordings of its folder, never the batch
    (folder / "manifest.csv").unlink()
    (folder / "manifest.json").write_text('[{"file": "ok.wav", ')
    broken = ingest_calls([folder], transcriber)
    assert not broken.interactions and len(broken.quarantined) == 3
    assert all("call manifest" in q.reason for q in broken.quarantined)


def test_a_utf16_jsonl_file_is_read_not_quarantined_line_by_line(hostile, tmp_path):
    lines = tmp_path / "unicode.jsonl"
    good = [x for x in (hostile / "score-lines.jsonl").read_bytes().splitlines() if b"Dobr" not in x]
    text = b"\n".join(good[:1] + good[2:]).decode("utf-8") + "\n"  # score-0, score-2
    lines.write_bytes(text.encode("utf-16"))  # with its byte-order mark, as Windows "Unicode"
    result = CliRunner().invoke(app, ["score", str(lines), "-o", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 0 and "read 2 = scored 2 + quarantined 0" in result.output


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("deep.yaml", "a: " + "[" * 50_000 + "]" * 50_000),
        ("deep.toml", "a = " + "[" * 50_000 + "]" * 50_000),
        ("latin1.yaml", "name: Zdrav\xedm\n"),
        ("latin1.toml", 'team = "Zdrav\xedm"\n'),
    ],
)
def test_deep_or_misencoded_config_and_rubrics_are_clear_errors(tmp_path, name, body):
    path = tmp_path / name
    path.write_bytes(body.encode("latin-1"))
    is_rubric = name.endswith(".yaml")
    args = ["rubric", "validate", str(path)] if is_rubric else ["search", "x", "--config", str(path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert ("nested too deeply" in result.output) or ("not UTF-8" in result.output)


def test_a_batch_that_failed_for_good_is_redone_item_by_item(hostile, tmp_path, monkeypatch):
    from qa_pipeline import pipeline
    from qa_pipeline.store import connect, quarantine

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'qa.db'}", data_dir=tmp_path)
    real = pipeline.ingest_batch
    poison = hostile / "chats-dup-b.json"

    def flaky(channel, paths, *args):
        if poison in paths:  # this file makes any batch holding it fail
            raise MemoryError("the reader ran out of memory")
        return real(channel, paths, *args)

    monkeypatch.setattr(pipeline, "ingest_batch", flaky)
    files = [str(hostile / "chats-dup-a.json"), str(poison), str(hostile / "chats-timestamps.json")]
    report = pipeline.salvage("ingest", "chat", files, RuntimeError("batch failed"), settings, "run-1")
    # the two good files are stored (1 + 2 conversations; 6 bad timestamps quarantined), the poison alone lost
    assert len(report.ids) == 3 and report.read == 1 + 1 + 8
    assert report.quarantined == 1 + 6
    assert any("chats-dup-b.json" in r and "MemoryError" in r for r in report.reasons)
    with connect(settings.database_url).connect() as conn:
        assert len(conn.execute(quarantine.select()).all()) == 7  # every quarantined item has its row
