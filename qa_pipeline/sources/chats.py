"""Chat exports -> chat Interactions. Each export format is one registered reader.

Built in: ``generic``, a documented JSON/JSONL format (README: "Chat export format"),
and ``zendesk``, ``intercom`` and ``freshdesk`` (their API objects, one module each).
One bad conversation quarantines that conversation; an unreadable file quarantines
the file.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from qa_pipeline.errors import InputError
from qa_pipeline.interactions import Interaction
from qa_pipeline.settings import CsvMapping, Settings
from qa_pipeline.sources import IngestResult, Quarantined, chat_formats
from qa_pipeline.sources.conversations import Message, build_interaction, to_datetime
from qa_pipeline.sources.records import (  # noqa: F401  (load_records re-exported)
    load_records,
    read_records,
    record_copy,
)

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


def parse_generic_conversation(record: dict[str, Any], source: str) -> Interaction:
    """Turn one generic-format conversation into an Interaction; raise InputError if malformed."""
    if not record.get("id"):
        raise InputError("conversation has no 'id'", source=source, record=record_copy(record))
    ident = str(record["id"])
    where = f"{source}#{ident}"
    messages = record.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InputError(f"conversation {ident} has no messages", source=where, record=record_copy(record))
    parsed = []
    for position, message in enumerate(messages):
        role = str(message.get("from", "")).lower() if isinstance(message, dict) else ""
        if role in NOT_SAID_TO_CUSTOMER:
            parsed.append(Message("unknown", str(message.get("text", "")), visible=False))
            continue
        if role not in ROLE_TO_SPEAKER or not isinstance(message.get("text"), str):
            raise InputError(
                f"conversation {ident}, message {position}: needs 'from' "
                f"({'/'.join(sorted(ROLE_TO_SPEAKER))}) and 'text'",
                source=where,
                record=record_copy(record),
            )
        parsed.append(Message(ROLE_TO_SPEAKER[role], message["text"], to_datetime(message.get("at"))))
    agent = record.get("agent") or {}
    return build_interaction(
        str(record.get("system") or "generic"),
        ident,
        parsed,
        source,
        agent_id=str(record.get("agent_id") or agent.get("id") or "unknown"),
        agent_name=record.get("agent_name") or agent.get("name"),
        team=record.get("team"),
        language=record.get("language"),
        started_at=to_datetime(record.get("started_at")),
        resolved_at=to_datetime(record.get("resolved_at")),
        customer=record.get("customer") or {k: record.get(f"customer_{k}") for k in ("email", "phone", "id")},
    )


def csv_conversations(path: Path, mapping: CsvMapping) -> list[dict[str, Any]]:
    """Rows of a one-message-per-row CSV grouped into generic-format conversations, in file order."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot read CSV ({exc})", source=str(path)) from exc
    if rows and mapping.conversation not in rows[0]:
        raise InputError(
            f"no column '{mapping.conversation}'; set chat_csv.conversation to the column "
            f"that identifies a conversation (columns: {', '.join(rows[0])})",
            source=str(path),
        )
    roles = {k.lower(): v for k, v in mapping.roles.items()}
    conversations: dict[str, dict[str, Any]] = {}
    for row in rows:
        ident = (row.get(mapping.conversation) or "").strip()
        conversation = conversations.setdefault(
            ident,
            {
                "id": ident,
                "agent_id": row.get(mapping.agent_id) or None,
                "agent_name": row.get(mapping.agent_name) or None,
                "team": row.get(mapping.team) or None,
                "language": row.get(mapping.language) or None,
                "customer": row.get(mapping.customer) or None,
                "messages": [],
            },
        )
        role = (row.get(mapping.speaker) or "").strip()
        conversation["messages"].append(
            {
                "from": roles.get(role.lower(), role),
                "text": row.get(mapping.text),
                "at": row.get(mapping.at) or None,
            }
        )
        for key, column in (
            ("agent_id", mapping.agent_id),
            ("agent_name", mapping.agent_name),
            ("customer", mapping.customer),
        ):
            conversation[key] = conversation[key] or row.get(column) or None
    return list(conversations.values())


@chat_formats.register("generic")
def read_generic(path: Path, settings: Settings | None = None) -> IngestResult:
    """Read one generic chat export: .json, .jsonl, or .csv (columns named by the settings'
    ``chat_csv``)."""
    if path.suffix.lower() != ".csv":
        return read_records(path, parse_generic_conversation)
    result = IngestResult()
    try:
        conversations = csv_conversations(path, settings.chat_csv if settings else CsvMapping())
    except InputError as exc:
        result.quarantined.append(Quarantined.from_error("chat", exc, str(path)))
        return result
    for record in conversations:
        try:
            result.interactions.append(parse_generic_conversation(record, str(path)))
        except InputError as exc:
            result.quarantined.append(Quarantined.from_error("chat", exc, str(path)))
    return result


def ingest_chats(paths: list[Path], fmt: str = "generic", settings: Settings | None = None) -> IngestResult:
    """Read every chat export file in ``paths`` with the registered reader ``fmt``.

    Every reader has one shape: ``read(path, settings) -> IngestResult`` (``settings`` may be
    None: a reader then uses its defaults)."""
    reader = chat_formats.get(fmt)
    result = IngestResult()
    for path in paths:
        try:
            result.extend(reader(path, settings))
        except Exception as exc:  # a reader's bug costs its own file, never the batch
            result.quarantined.append(
                Quarantined(
                    "chat",
                    str(path),
                    f"the {fmt} reader failed on this file ({type(exc).__name__}: {exc})"[:500],
                )
            )
    return result
