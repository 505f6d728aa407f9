from pathlib import Path

import pytest

from qa_pipeline.errors import InputError
from qa_pipeline.interactions import Interaction, Turn, iter_jsonl, read_interactions, stable_id, write_jsonl


def make(ident: str = "chat:zendesk:48213") -> Interaction:
    return Interaction(
        id=ident,
        channel="chat",
        agent_id="a17",
        agent_name="Sarah K.",
        team="billing",
        language="en",
        started_at="2026-11-20T10:15:00Z",
        source="x.json",
        turns=[
            Turn(speaker="agent", text="Hi, thanks for contacting Acme!", start=0.0, end=2.1),
            Turn(speaker="customer", text="My order never arrived.", start=2.4, end=4.0),
        ],
    )


def test_jsonl_round_trip_keeps_every_field(tmp_path: Path):
    original = [make("chat:x:1"), make("chat:x:2")]
    path = tmp_path / "i.jsonl"
    assert write_jsonl(path, original) == 2
    assert read_interactions(path) == original


def test_design_example_line_parses():
    line = (
        '{"id": "chat:zendesk:48213", "channel": "chat", "agent_id": "a17", "agent_name": "Sarah K.", '
        '"team": "billing", "language": "en", "started_at": "2026-11-20T10:15:00Z", '
        '"source": "exports/zendesk-2026-11-20.json", "turns": [{"speaker": "agent", "text": "Hi", '
        '"start": 0.0, "end": 2.1}], "metadata": {}}'
    )
    item = Interaction.model_validate_json(line)
    assert item.turns[0].speaker == "agent" and item.started_at.year == 2026


@pytest.mark.parametrize(
    "bad",
    [
        "{not json",
        '{"id": "x", "channel": "fax", "turns": []}',
        '{"id": "x", "channel": "chat", "turns": [{"speaker": "martian", "text": "hi"}]}',
        '{"channel": "chat", "turns": []}',
    ],
)
def test_bad_line_becomes_an_error_with_its_line_number(tmp_path: Path, bad: str):
    path = tmp_path / "i.jsonl"
    good = make().model_dump_json()
    path.write_text(f"{good}\n{bad}\n{good}\n", encoding="utf-8")
    items = list(iter_jsonl(path, Interaction))
    assert [type(i) for i in items] == [Interaction, InputError, Interaction]
    assert items[1].source.endswith(":2") and "line 2" in items[1].reason


def test_stable_id_is_deterministic_and_channel_prefixed():
    assert (
        stable_id("chat", "zendesk", "48213") == stable_id("chat", "zendesk", "48213") == "chat:zendesk:48213"
    )
    assert stable_id("call", "recording", "c 1") != stable_id("call", "recording", "c 2")
