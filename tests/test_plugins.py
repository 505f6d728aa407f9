"""Extension by registration: an outside package's chat format reaches `qa` through an entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from qa_pipeline.alerts import alert_sinks
from qa_pipeline.errors import ConfigError
from qa_pipeline.registry import Registry
from qa_pipeline.search import search_backends
from qa_pipeline.sources import chat_formats, email_readers
from qa_pipeline.sources.pull import expanders
from qa_pipeline.transcribe import transcribers

PLUGIN = {
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "qa-tsv"
        version = "1.0"

        [project.entry-points."qa_pipeline.chat_formats"]
        tsv = "qa_tsv:read_tsv"
        broken = "qa_tsv:no_such_reader"
        """,
    "qa_tsv.py": '''
        """A chat format of one message per line: conversation id, role, text (tab-separated)."""

        from qa_pipeline.sources import IngestResult
        from qa_pipeline.sources.chats import parse_generic_conversation


        def read_tsv(path, csv_mapping=None):
            conversations = {}
            for line in path.read_text(encoding="utf-8").splitlines():
                ident, role, text = line.split("\\t")
                record = conversations.setdefault(ident, {"id": ident, "system": "tsv", "messages": []})
                record["messages"].append({"from": role, "text": text})
            result = IngestResult()
            for record in conversations.values():
                result.interactions.append(parse_generic_conversation(record, str(path)))
            return result
        ''',
}


def test_every_extension_point_has_its_built_ins():
    assert {"generic", "zendesk", "intercom", "freshdesk"} <= set(chat_formats.names())
    assert {"mbox", "eml"} <= set(email_readers.names())
    assert {"zendesk", "intercom", "freshdesk"} <= set(expanders.names())
    assert {"faster-whisper", "auto"} <= set(transcribers.names())
    assert {"sqlite", "postgresql"} <= set(search_backends.names())
    assert {"http", "https", "apprise"} <= set(alert_sinks.names())
    with pytest.raises(ConfigError, match=r"unknown chat format 'nope'; known: .*zendesk"):
        chat_formats.get("nope")


def test_a_registry_without_plugins_knows_only_what_registered():
    registry: Registry[int] = Registry("number", "qa_pipeline.tests.none")
    registry.register("one")(1)
    assert registry.names() == ["one"] and registry.get("one") == 1


@pytest.mark.slow
def test_an_outside_package_adds_a_chat_format_to_qa(tmp_path: Path):
    source = tmp_path / "qa-tsv"
    source.mkdir()
    for name, text in PLUGIN.items():
        (source / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(source)],
        check=True,
        timeout=600,
        cwd=tmp_path,
    )
    export = tmp_path / "night.tsv"
    export.write_text(
        "c1\tagent\tHello, thank you for calling!\nc1\tcustomer\tMy card does not work.\n"
        "c2\tagent\tGood morning, how can I help?\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"

    def ingest(fmt: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "qa_pipeline.cli",
                "ingest",
                "chats",
                str(export),
                "--format",
                fmt,
                "-o",
                str(out),
            ],
            env={**os.environ, "PYTHONPATH": str(site)},
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )

    done = ingest("tsv")
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["chat:tsv:c1", "chat:tsv:c2"]
    # a plug-in that cannot load is an error only when asked for, naming what is wrong
    broken = ingest("broken")
    assert broken.returncode == 2 and "no_such_reader" in broken.stderr and "Traceback" not in broken.stderr


def test_the_configured_transcriber_comes_from_the_registry():
    from qa_pipeline.settings import WhisperSettings
    from qa_pipeline.transcribe import AutoTranscriber, Transcriber, make_transcriber

    assert type(make_transcriber(WhisperSettings())) is Transcriber
    assert type(make_transcriber(WhisperSettings(model="auto"))) is AutoTranscriber
    with pytest.raises(ConfigError, match="unknown transcriber 'vosk'"):
        make_transcriber(WhisperSettings(engine="vosk"))


def test_criterion_methods_are_registered_objects_and_unknown_ones_are_refused(tmp_path):
    from qa_pipeline.errors import RubricError
    from qa_pipeline.methods import criterion_methods, offered
    from qa_pipeline.rubric import load_rubric

    assert {"rule", "model", "hybrid"} <= set(criterion_methods.names())
    assert (
        not criterion_methods.get("rule").needs_classifier
        and criterion_methods.get("hybrid").needs_classifier
    )
    # one rule for which turns the classifier may read, for scoring and evaluation alike
    assert offered("empathy", [("greeting", "phrase")])
    assert not offered("empathy", [("empathy", "vetoed")]) and not offered(
        "empathy", [("thanks", "negative")]
    )
    rubric = tmp_path / "r.yaml"
    rubric.write_text(
        "id: r\nversion: 1\nname: R\nlanguages: [en]\ncriteria:\n"
        "  - id: greeting\n    name: Greeting\n    weight: 1\n    method: oracle\n    phrases: {en: [hello]}\n"
    )
    with pytest.raises(RubricError, match="unknown method 'oracle'; known: hybrid, model, rule"):
        load_rubric(rubric)
