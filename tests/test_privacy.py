"""Personal data appears nowhere unredacted: a whole night with planted values, every sink scanned.

tests/data/hostile/pii holds a chat export named after a customer's address, with the address,
a phone number, an IBAN, a card and a birth number in turns, in a conversation id, in an agent
name, in the customer field and in records that are quarantined, and a mail with them in its
sender, subject and Message-ID; a call's manifest names the caller by phone. After the nightly
flow, scorecards, an alert, `qa score`, `qa ingest`, `qa search` and `qa show`, every table,
every file written, stdout/stderr, our logs and Prefect's log table are scanned for each value
in every spelling. The test prints the hit count per sink (pytest -s).
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from datetime import date
from pathlib import Path

import pytest
from nightly_config import write_config
from sqlalchemy import select, text
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent / "data" / "hostile"))
from make_hostile import PLANTED

from qa_pipeline.cli import app
from qa_pipeline.store import connect, interactions, metadata

pytestmark = pytest.mark.slow


def spellings() -> dict[str, str]:
    """Every way a planted value could show up: as written, digits only, without separators."""
    found = {}
    for name, value in PLANTED.items():
        found[name] = value
        found[f"{name}, no separators"] = re.sub(r"[\s./-]", "", value)
        digits = re.sub(r"\D", "", value)
        if len(digits) >= 9:
            found[f"{name}, digits"] = digits
    found["email, local part"] = PLANTED["email"].split("@")[0]
    found["phone, national"] = "601123456"
    distinct: dict[str, str] = {}  # each spelling once, under its first name
    for name, value in found.items():
        distinct.setdefault(value.lower(), name)
    return {name: value for value, name in distinct.items()}


def hits(blob: str) -> dict[str, int]:
    low = blob.lower()
    return {name: low.count(value.lower()) for name, value in spellings().items() if value.lower() in low}


@pytest.fixture(scope="module")
def harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def night(tmp_path: Path, data: Path) -> Path:
    inbox = tmp_path / "in"
    shutil.copytree(data / "hostile" / "pii", inbox / "pii")
    calls = inbox / "calls"
    calls.mkdir()
    shutil.copy(data / "calls" / "short-stereo.wav", calls / "short-stereo.wav")
    (calls / "manifest.csv").write_text(
        "file,call_id,agent_id,agent_name,customer\n"
        f"short-stereo.wav,cb-{PLANTED['phone_digits']},a17,Sarah K.,{PLANTED['phone']}\n",
        encoding="utf-8",
    )
    return write_config(
        tmp_path,
        f"""
phone_region = "CZ"
[sources]
calls = ["{calls}"]
chats = ["{inbox / "pii"}/*.json"]
emails = ["{inbox / "pii"}/*.eml"]
""",
    )


def dump_tables(url: str) -> dict[str, str]:
    engine = connect(url)
    with engine.connect() as conn:
        tables = {t.name: conn.execute(select(t)).all() for t in metadata.sorted_tables}
        names = [r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))]
        for name in names:  # the full-text index and anything else not in our metadata
            if name not in tables:
                tables[name] = conn.execute(text(f'SELECT * FROM "{name}"')).all()
    return {f"table {name}": "\n".join(map(str, rows)) for name, rows in tables.items()}


def dump_files(folder: Path) -> dict[str, str]:
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix != ".secret":
            body = path.read_bytes().decode("utf-8", errors="replace")
            if path.suffix == ".parquet":
                import pandas as pd

                body = pd.read_parquet(path).to_csv()
            found[f"file {path.relative_to(folder)}"] = f"{path.name}\n{body}"
    return found


def prefect_logs() -> str:
    from prefect.client.orchestration import get_client

    messages: list[str] = []
    with get_client(sync_client=True) as client:
        while page := client.read_logs(limit=200, offset=len(messages)):
            messages += [log.message for log in page]
    return "\n".join(messages)


def test_planted_personal_data_appears_in_no_table_log_or_output(harness, night, tmp_path, capsys, caplog):
    from fake_helpdesk import WebhookSink

    from qa_pipeline.flows.nightly import run_nightly

    with WebhookSink() as sink:
        night.write_text(
            night.read_text(encoding="utf-8").replace("[sources]", f'alert_url = "{sink.url}"\n[sources]'),
            encoding="utf-8",
        )
        summary = run_nightly(night, date(2026, 11, 20))
    # what the night read: 2 stored chats and 2 quarantined, the mail, the call
    assert summary["balanced"]
    assert summary["channels"]["chat"] == {"read": 4, "scored": 2, "quarantined": 2}
    assert summary["channels"]["email"]["scored"] == 1 and summary["channels"]["call"]["scored"] == 1
    url = f"sqlite:///{tmp_path / 'qa.db'}"
    engine = connect(url)
    with engine.connect() as conn:
        ids = sorted(conn.execute(select(interactions.c.id)).scalars())
    runner = CliRunner()
    out = tmp_path / "out"
    cli_output = [
        runner.invoke(app, ["search", "refund", "--config", str(night)]).output,
        runner.invoke(app, ["search", "IBAN", "--json", "--config", str(night)]).output,
        *(runner.invoke(app, ["show", i, "--json", "--config", str(night)]).output for i in ids),
        runner.invoke(
            app,
            [
                "ingest",
                "chats",
                *map(str, (tmp_path / "in" / "pii").glob("*.json")),
                "-o",
                str(out / "ingested.jsonl"),
                "--config",
                str(night),
            ],
        ).output,
    ]
    planted_lines = out / "planted.jsonl"
    planted_lines.write_text(
        json.dumps(
            {
                "id": f"chat:{PLANTED['email']}",
                "channel": "chat",
                "turns": [{"speaker": "customer", "text": f"IBAN {PLANTED['iban']} card {PLANTED['card']}"}],
            }
        )
        + "\n"
        + json.dumps({"id": "x", "channel": "fax", "turns": [], "note": PLANTED["email"]})
        + "\n",
        encoding="utf-8",
    )
    scored = runner.invoke(
        app, ["score", str(planted_lines), "-o", str(out / "scored.jsonl"), "--config", str(night)]
    )
    assert scored.exit_code == 0, scored.output
    assert (out / "scored.quarantine.jsonl").exists()
    planted_lines.unlink()  # our own input, not an output
    captured = capsys.readouterr()

    sinks = {
        **dump_tables(url),
        **dump_files(tmp_path / "var"),
        **dump_files(out),
        "stdout": captured.out + "\n".join(cli_output) + scored.output,
        "stderr": captured.err,
        "our logs": caplog.text,
        "Prefect log table": prefect_logs(),
        "alert": json.dumps(sink.received, ensure_ascii=False),
        "run summary": json.dumps(summary, ensure_ascii=False),
    }
    assert sink.received and len(sinks) > 20
    found = {name: hits(blob) for name, blob in sinks.items()}
    print("\nsink: hits of planted personal data")
    for name in sorted(sinks):
        print(f"  {name}: {sum(found[name].values())} {found[name] or ''}")
    assert {name: h for name, h in found.items() if h} == {}
    # the values were there to find: the raw inputs hold every one of them
    raw = "\n".join(p.name + p.read_text(encoding="utf-8") for p in (tmp_path / "in" / "pii").iterdir())
    assert set(hits(raw)) >= {"email", "phone", "iban", "card", "birth_number"}
    assert "inputs:" in sinks["Prefect log table"]  # the log table was read, not empty


def test_a_task_error_reaches_prefect_with_personal_data_redacted(tmp_path, monkeypatch):
    import qa_pipeline.flows.nightly as nightly
    from qa_pipeline.settings import Settings

    def boom(*args, **kwargs):
        raise OSError(f"cannot read /in/chats-{PLANTED['email']}.json: card {PLANTED['card']}")

    monkeypatch.setattr(nightly, "ingest_batch", boom)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'qa.db'}", data_dir=tmp_path)
    with pytest.raises(nightly.TaskFailed) as failed:
        nightly.ingest_task.fn("chat", ["x.json"], settings, "run-1")
    assert hits(str(failed.value)) == {} and "OSError" in str(failed.value)
    assert failed.value.__cause__ is None and failed.value.__suppress_context__  # no chained original
    import traceback

    assert hits("".join(traceback.format_exception(failed.value))) == {}  # what Prefect logs


def test_pseudonyms_are_stable_distinct_and_spare_configured_agents():
    from qa_pipeline.interactions import Interaction, Turn
    from qa_pipeline.redact import Redactor

    redactor = Redactor(secret=b"s" * 32)
    other = Redactor(secret=b"t" * 32)
    a, b = "chat:x:jana.novakova@example.cz", "chat:x:petr.novak@example.cz"
    assert redactor.name(a) == redactor.name(a) != redactor.name(b)  # stable, and ids stay apart
    assert redactor.name(a).startswith("chat:x:EMAIL-") and redactor.name(a) != other.name(a)
    assert redactor.name("chat:x:48202") == "chat:x:48202"  # nothing personal: unchanged
    item = Interaction(
        id=a,
        channel="chat",
        agent_id="petra@acme.example",
        agent_name="Petra",
        turns=[Turn(speaker="agent", text="Hello")],
    )
    assert redactor.interaction(item).agent_id.startswith("EMAIL-")  # an unlisted agent
    kept = redactor.interaction(item, agents=frozenset({"petra@acme.example"}))
    assert kept.agent_id == "petra@acme.example" and kept.agent_name == "Petra"
