"""Chat exports -> chat Interactions. Each export format is one registered reader.

Built in: ``generic``, a documented JSON/JSONL format (README: "Chat export format").
One bad conversation quarantines that conversation; an unreadable file quarantines
the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from qa_pipeline.errors import InputError
from qa_pipeline.interactions import Interaction, Turn, stable_id
from qa_pipeline.sources import IngestResult, Quarantined, chat_formats

ROLE_TO_SPEAKER = {
    "agent": "agent",
    "customer": "customer",
    "visitor": "customer",
    "user": "customer",
    "bot": "bot",
    "unknown": "unknown",
}
# Never scored and never shown as said to the customer.
NOT_SAID_TO_CUSTOMER = {"system", "note", "internal", "event"}


def load_records(path: Path) -> list[Any]:
    """Return the conversation records of a .json or .jsonl export; raise InputError if unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read file ({exc})", source=str(path)) from exc
    if path.suffix.lower() == ".jsonl":
        records = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    records.append(
                        InputError(
                            f"line {number}: invalid JSON ({exc.msg})",
                            source=f"{path}:{number}",
                            record=line[:10_000],
                        )
                    )
        return records
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); is the export complete?",
            source=str(path),
        ) from exc
    if isinstance(data, dict) and isinstance(data.get("conversations"), list):
        return data["conversations"]
    if isinstance(data, list):
        return data
    raise InputError(
        "expected a list of conversations or an object with a 'conversations' list", source=str(path)
    )


def parse_generic_conversation(record: dict[str, Any], source: str) -> Interaction:
    """Turn one generic-format conversation into an Interaction; raise InputError if malformed."""
    if not isinstance(record, dict) or not record.get("id"):
        raise InputError("conversation has no 'id'", source=source, record=json.dumps(record)[:10_000])
    ident = str(record["id"])
    where = f"{source}#{ident}"
    messages = record.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InputError(
            f"conversation {ident} has no messages", source=where, record=json.dumps(record)[:10_000]
        )
    turns, hidden = [], 0
    for position, message in enumerate(messages):
        role = str(message.get("from", "")).lower() if isinstance(message, dict) else ""
        if role in NOT_SAID_TO_CUSTOMER:
            hidden += 1
            continue
        if role not in ROLE_TO_SPEAKER or not isinstance(message.get("text"), str):
            raise InputError(
                f"conversation {ident}, message {position}: needs 'from' "
                f"({'/'.join(sorted(ROLE_TO_SPEAKER))}) and 'text'",
                source=where,
                record=json.dumps(record)[:10_000],
            )
        if message["text"].strip():
            turns.append(Turn(speaker=ROLE_TO_SPEAKER[role], text=message["text"], at=message.get("at")))
    if not turns:
        raise InputError(f"conversation {ident} has no customer-visible text", source=where)
    agent = record.get("agent") or {}
    try:
        return Interaction(
            id=stable_id("chat", str(record.get("system") or "generic"), ident),
            channel="chat",
            agent_id=str(record.get("agent_id") or agent.get("id") or "unknown"),
            agent_name=record.get("agent_name") or agent.get("name"),
            team=record.get("team"),
            language=record.get("language"),
            started_at=record.get("started_at") or turns[0].at,
            source=source,
            turns=turns,
            metadata={"hidden_messages": hidden} if hidden else {},
        )
    except ValidationError as exc:
        raise InputError(
            f"conversation {ident}: {exc.errors()[0]['msg']} at {'.'.join(map(str, exc.errors()[0]['loc']))}",
            source=where,
        ) from exc


@chat_formats.register("generic")
def read_generic(path: Path) -> IngestResult:
    """Read one generic chat export (.json or .jsonl)."""
    result = IngestResult()
    try:
        records = load_records(path)
    except InputError as exc:
        result.quarantined.append(Quarantined.from_error("chat", exc, str(path)))
        return result
    for record in records:
        try:
            if isinstance(record, InputError):
                raise record
            result.interactions.append(parse_generic_conversation(record, str(path)))
        except InputError as exc:
            result.quarantined.append(Quarantined.from_error("chat", exc, str(path)))
    return result


def ingest_chats(paths: list[Path], fmt: str = "generic") -> IngestResult:
    """Read every chat export file in ``paths`` with the registered reader ``fmt``."""
    reader = chat_formats.get(fmt)
    result = IngestResult()
    for path in paths:
        result.extend(reader(path))
    return result
