"""Chat exports -> chat Interactions. Each export format is one registered reader.

Built in: ``generic``, a documented JSON/JSONL format (README: "Chat export format"),
and ``zendesk``, ``intercom`` and ``freshdesk`` (their API objects, one module each).
One bad conversation quarantines that conversation; an unreadable file quarantines
the file.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from qa_pipeline.errors import InputError
from qa_pipeline.interactions import MAX_DEPTH, Interaction, json_lines, nesting_depth, validation_summary
from qa_pipeline.settings import CsvMapping
from qa_pipeline.sources import IngestResult, Quarantined, chat_formats
from qa_pipeline.sources.conversations import Message, build_interaction, to_datetime

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


def load_records(path: Path, key: str = "conversations") -> list[tuple[int, Any]]:
    """(position, record) of a .json file (a list, or an object with a ``key`` list) or a
    .jsonl file; the position is the JSONL line, or the record's number in the list.

    A bad JSONL line becomes an InputError in the list, so only that record is
    quarantined; an unreadable file raises InputError.
    """
    if path.suffix.lower() == ".jsonl":
        try:
            return list(json_lines(path))
        except OSError as exc:
            raise InputError(f"cannot read file ({exc.strerror})", source=str(path)) from exc
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read file ({exc})", source=str(path)) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); is the export complete?",
            source=str(path),
        ) from exc
    except RecursionError:
        raise InputError("JSON nested too deeply to be a conversation export", source=str(path)) from None
    if isinstance(data, dict) and isinstance(data.get(key), list):
        return list(enumerate(data[key], start=1))
    if isinstance(data, list):
        return list(enumerate(data, start=1))
    raise InputError(f"expected a list of records or an object with a '{key}' list", source=str(path))


def read_records(
    path: Path, parse: Callable[[Any, str], Interaction], key: str = "conversations"
) -> IngestResult:
    """Parse every record of a file with ``parse``; quarantine bad records, or the file if unreadable."""
    result = IngestResult()
    try:
        records = load_records(path, key)
    except InputError as exc:
        result.quarantined.append(Quarantined.from_error("chat", exc, str(path)))
        return result
    for position, record in records:
        try:
            if isinstance(record, InputError):
                raise record
            if not isinstance(record, dict):
                raise InputError("record is not a JSON object", source=str(path), record=_copy(record))
            if nesting_depth(record) > MAX_DEPTH:
                raise InputError(f"record nested more than {MAX_DEPTH} levels deep", source=str(path))
            result.interactions.append(parse(record, str(path)))
        except InputError as exc:
            result.quarantined.append(_at(Quarantined.from_error("chat", exc, str(path)), position))
        except (ValidationError, TypeError, ValueError, AttributeError, OverflowError, RecursionError) as exc:
            ident = record.get("id", "?") if isinstance(record, dict) else "?"
            why = (
                validation_summary(exc)
                if isinstance(exc, ValidationError)
                else f"{type(exc).__name__}: {exc}"
            )
            result.quarantined.append(
                Quarantined(
                    "chat",
                    f"{path}#{ident}",
                    f"malformed record ({why})"[:500],
                    record=_copy(record),
                    position=position,
                )
            )
    return result


def _at(item: Quarantined, position: int) -> Quarantined:
    """The quarantined record with its position in the file, unless the reader gave one."""
    return item if item.position is not None else replace(item, position=position)


def _copy(record: Any) -> str | None:
    """A bounded copy of a bad record for the quarantine (redacted before it is stored)."""
    try:
        return json.dumps(record, ensure_ascii=False, default=str)[:10_000]
    except (ValueError, TypeError, RecursionError):
        return None


def parse_generic_conversation(record: dict[str, Any], source: str) -> Interaction:
    """Turn one generic-format conversation into an Interaction; raise InputError if malformed."""
    if not record.get("id"):
        raise InputError("conversation has no 'id'", source=source, record=json.dumps(record)[:10_000])
    ident = str(record["id"])
    where = f"{source}#{ident}"
    messages = record.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InputError(
            f"conversation {ident} has no messages", source=where, record=json.dumps(record)[:10_000]
        )
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
                record=json.dumps(record)[:10_000],
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
def read_generic(path: Path, csv_mapping: CsvMapping | None = None) -> IngestResult:
    """Read one generic chat export: .json, .jsonl, or .csv (columns named by ``csv_mapping``)."""
    if path.suffix.lower() != ".csv":
        return read_records(path, parse_generic_conversation)
    result = IngestResult()
    try:
        conversations = csv_conversations(path, csv_mapping or CsvMapping())
    except InputError as exc:
        result.quarantined.append(Quarantined.from_error("chat", exc, str(path)))
        return result
    for record in conversations:
        try:
            result.interactions.append(parse_generic_conversation(record, str(path)))
        except InputError as exc:
            result.quarantined.append(Quarantined.from_error("chat", exc, str(path)))
    return result


def ingest_chats(
    paths: list[Path], fmt: str = "generic", csv_mapping: CsvMapping | None = None
) -> IngestResult:
    """Read every chat export file in ``paths`` with the registered reader ``fmt``."""
    reader = chat_formats.get(fmt)
    result = IngestResult()
    for path in paths:
        try:
            result.extend(reader(path, csv_mapping) if fmt == "generic" else reader(path))
        except Exception as exc:  # a reader's bug costs its own file, never the batch
            result.quarantined.append(
                Quarantined(
                    "chat",
                    str(path),
                    f"the {fmt} reader failed on this file ({type(exc).__name__}: {exc})"[:500],
                )
            )
    return result


# The built-in help-desk formats register themselves on import, as a user's would.
from qa_pipeline.sources import freshdesk, intercom, zendesk  # noqa: E402, F401
