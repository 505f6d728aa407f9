"""Writes the hostile-input corpus in this folder (python tests/data/hostile/make_hostile.py).

Small files, each one class of input that once crashed a command, hung, or went silently
wrong; tests/test_hostile.py says what must happen to each. Every bad record sits between
good ones, so a test can check that nothing valid is lost.
"""

import json
from pathlib import Path

HERE = Path(__file__).parent


def conversation(ident: str, at: object, agent: str = "a1", name: str = "Agent One") -> dict:
    return {
        "id": ident,
        "agent": {"id": agent, "name": name},
        "language": "en",
        "started_at": "2026-11-20T08:00:00Z",
        "messages": [
            {"from": "agent", "text": "Hello, thanks for contacting us!", "at": at},
            {"from": "customer", "text": "My parcel is late.", "at": "2026-11-20T08:01:00Z"},
            {"from": "agent", "text": "I have sent a new one today. Thank you for waiting!"},
        ],
    }


def main() -> None:
    good = "2026-11-20T08:00:00Z"
    timestamps = [
        conversation("ts-good-1", good),
        conversation("ts-huge", 1e20),
        conversation("ts-infinite", float("inf")),  # written as Infinity, which json.loads accepts
        conversation("ts-bool", True),
        conversation("ts-year-9999", "9999-01-01T00:00:00Z"),
        conversation("ts-millis", 1763625600000),  # milliseconds read as seconds
        conversation("ts-list", [2026, 11, 20]),
        conversation("ts-good-2", 1763625600),
    ]
    (HERE / "chats-timestamps.json").write_text(json.dumps(timestamps, indent=1) + "\n")
    # The same conversation id in two files of one night: the first is kept, the second quarantined.
    (HERE / "chats-dup-a.json").write_text(json.dumps([conversation("dup-1", good)], indent=1) + "\n")
    (HERE / "chats-dup-b.json").write_text(
        json.dumps([conversation("dup-1", good), conversation("dup-2", good), conversation("dup-2", good)])
        + "\n"
    )
    # Agent ids that a careless file name would merge; a name a spreadsheet would run.
    agents = [
        conversation("ag-slash", good, agent="ag/1", name="Slash"),
        conversation("ag-colon", good, agent="ag:1", name="Colon"),
        conversation("ag-formula", good, agent="ag2", name='=HYPERLINK("http://evil.example","x")'),
    ]
    (HERE / "chats-agents.json").write_text(json.dumps(agents, indent=1, ensure_ascii=False) + "\n")
    (HERE / "rubric-infinite-weight.yaml").write_text(
        "id: bad\nversion: 1\nname: Infinite weight\nlanguages: [en]\ncriteria:\n"
        "  - id: greeting\n    name: Greeting\n    weight: .inf\n    phrases: {en: [hello]}\n"
    )


if __name__ == "__main__":
    main()
