"""Extension by registration: an outside package's chat format, mail reader and storage backend
reach `qa` through entry points."""

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
from qa_pipeline.store import storage_backends
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

        [project.entry-points."qa_pipeline.email_readers"]
        mailjson = "qa_tsv:read_mailjson"

        [project.entry-points."qa_pipeline.storage_backends"]
        journal = "qa_tsv:JournalStore"
        """,
    "qa_tsv.py": '''
        """A chat format of one message per line: conversation id, role, text (tab-separated)."""

        from qa_pipeline.sources import IngestResult
        from qa_pipeline.sources.chats import parse_generic_conversation
        from qa_pipeline.store import Store


        def read_tsv(path, settings=None):
            conversations = {}
            for line in path.read_text(encoding="utf-8").splitlines():
                ident, role, text = line.split("\\t")
                record = conversations.setdefault(ident, {"id": ident, "system": "tsv", "messages": []})
                record["messages"].append({"from": role, "text": text})
            result = IngestResult()
            for record in conversations.values():
                result.interactions.append(parse_generic_conversation(record, str(path)))
            return result


        def read_mailjson(path):
            """A mail export as JSON: a list of {from, to, subject, id, in_reply_to, date, body}."""
            import email
            import email.policy
            import json

            from qa_pipeline.sources.emails import parse_message

            messages = []
            for n, m in enumerate(json.loads(path.read_text(encoding="utf-8"))):
                raw = (
                    f"From: {m['from']}\\nTo: {m['to']}\\nSubject: {m['subject']}\\nDate: {m['date']}\\n"
                    f"Message-ID: <{m['id']}>\\n"
                    + (f"In-Reply-To: <{m['in_reply_to']}>\\n" if m.get("in_reply_to") else "")
                    + f"Content-Type: text/plain; charset=utf-8\\n\\n{m['body']}\\n"
                )
                parsed = email.message_from_bytes(raw.encode("utf-8"), policy=email.policy.default)
                messages.append(parse_message(parsed, f"{path}#{n}"))
            return messages, []


        class JournalStore(Store):
            """journal:///PATH.db: the built-in SQLite store, writing down what qa asked of it."""

            def __init__(self, url):
                path = url.removeprefix("journal:///")
                self.journal = path + ".journal"
                super().__init__("sqlite:///" + path)
                self.note("open")

            def note(self, what):
                with open(self.journal, "a", encoding="utf-8") as handle:
                    handle.write(what + "\\n")

            def save_interactions(self, items, run_id=None, fcr_window_days=7.0):
                self.note(f"save_interactions {len(items)}")
                super().save_interactions(items, run_id, fcr_window_days)

            def scorecard_rows(self, rubric=None):
                self.note("scorecard_rows")
                return super().scorecard_rows(rubric)
        ''',
}


def test_every_extension_point_has_its_built_ins():
    assert {"generic", "zendesk", "intercom", "freshdesk"} <= set(chat_formats.names())
    assert {"mbox", "eml"} <= set(email_readers.names())
    assert {"zendesk", "intercom", "freshdesk"} <= set(expanders.names())
    assert {"faster-whisper", "auto"} <= set(transcribers.names())
    assert {"sqlite", "postgresql"} <= set(search_backends.names())
    assert {"sqlite", "postgresql"} <= set(storage_backends.names())
    assert {"http", "https", "apprise"} <= set(alert_sinks.names())
    with pytest.raises(ConfigError, match=r"unknown chat format 'nope'; known: .*zendesk"):
        chat_formats.get("nope")


def test_a_registry_without_plugins_knows_only_what_registered():
    registry: Registry[int] = Registry("number", "qa_pipeline.tests.none")
    registry.register("one")(1)
    assert registry.names() == ["one"] and registry.get("one") == 1


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    """The outside package qa-tsv, installed into a folder of its own (put on PYTHONPATH)."""
    root = tmp_path_factory.mktemp("plugin")
    source = root / "qa-tsv"
    source.mkdir()
    for name, text in PLUGIN.items():
        (source / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    site = root / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(source)],
        check=True,
        timeout=600,
        cwd=root,
    )
    return site


def qa(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """`qa ARGS` in a fresh process that sees the plug-in package."""
    return subprocess.run(
        [sys.executable, "-m", "qa_pipeline.cli", *args],
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


@pytest.mark.slow
def test_an_outside_package_adds_a_chat_format_to_qa(tmp_path: Path, plugin_site: Path):
    export = tmp_path / "night.tsv"
    export.write_text(
        "c1\tagent\tHello, thank you for calling!\nc1\tcustomer\tMy card does not work.\n"
        "c2\tagent\tGood morning, how can I help?\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"

    def ingest(fmt: str) -> subprocess.CompletedProcess:
        return qa(plugin_site, tmp_path, "ingest", "chats", str(export), "--format", fmt, "-o", str(out))

    done = ingest("tsv")
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["chat:tsv:c1", "chat:tsv:c2"]
    # a plug-in that cannot load is an error only when asked for, naming what is wrong
    broken = ingest("broken")
    assert broken.returncode == 2 and "no_such_reader" in broken.stderr and "Traceback" not in broken.stderr


@pytest.mark.slow
def test_an_outside_mail_reader_is_chosen_by_suffix_and_its_messages_are_threaded(tmp_path, plugin_site):
    export = tmp_path / "support.mailjson"
    export.write_text(
        json.dumps(
            [
                {
                    "from": "Jana <jana@example.org>",
                    "to": "help@shop.example",
                    "subject": "Broken kettle",
                    "id": "m1@example.org",
                    "date": "Mon, 02 Mar 2026 09:00:00 +0000",
                    "body": "My kettle stopped working after a week.",
                },
                {
                    "from": "Petr <petr@shop.example>",
                    "to": "jana@example.org",
                    "subject": "Re: Broken kettle",
                    "id": "m2@shop.example",
                    "in_reply_to": "m1@example.org",
                    "date": "Mon, 02 Mar 2026 10:00:00 +0000",
                    "body": "Hello Jana, I am sorry about the kettle; a new one is on its way. Thank you!",
                },
            ]
        ),
        encoding="utf-8",
    )
    config = tmp_path / "qa.toml"
    config.write_text('agent_domains = ["shop.example"]\n', encoding="utf-8")
    out = tmp_path / "mail.jsonl"
    done = qa(plugin_site, tmp_path, "ingest", "emails", str(export), "-o", str(out), "-c", str(config))
    assert done.returncode == 0, done.stderr
    [thread] = [
        json.loads(line) for line in out.read_text().splitlines()
    ]  # one thread of both files' messages
    assert [t["speaker"] for t in thread["turns"]] == ["customer", "agent"]
    assert "sorry about the kettle" in thread["turns"][1]["text"]


@pytest.mark.slow
def test_an_outside_storage_backend_serves_qa_by_its_url_scheme(tmp_path, plugin_site, data):
    db = tmp_path / "results.db"
    config = tmp_path / "qa.toml"
    config.write_text(
        f'database_url = "journal:///{db}"\ndata_dir = "{tmp_path / "var"}"\n', encoding="utf-8"
    )
    upgraded = qa(plugin_site, tmp_path, "db", "upgrade", "-c", str(config))
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"sqlite:///{db}: schema revision" in upgraded.stdout and db.exists()
    cards = qa(plugin_site, tmp_path, "scorecards", "-c", str(config), "--out", str(tmp_path / "cards"))
    assert cards.returncode == 0, cards.stderr
    assert (tmp_path / "cards" / "index.html").exists()
    journal = Path(f"{db}.journal").read_text(encoding="utf-8").splitlines()
    assert journal == ["open", "open", "scorecard_rows"]  # one store per process, asked for its rows
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('database_url = "nosuch:///x.db"\n', encoding="utf-8")
    refused = qa(plugin_site, tmp_path, "db", "upgrade", "-c", str(unknown))
    assert refused.returncode == 2 and "unknown storage backend 'nosuch'" in refused.stderr
    assert "journal" in refused.stderr and "Traceback" not in refused.stderr


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
