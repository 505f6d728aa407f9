"""Records of a JSON or JSONL export, each parsed on its own: one bad record costs only itself.

Every JSON help-desk reader (generic, Zendesk, Intercom, Freshdesk, a user's own) reads its
file through ``read_records`` with a function that turns one record into an Interaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from qa_pipeline.contracts import RECORD_COPY_CHARS, Interaction
from qa_pipeline.errors import InputError
from qa_pipeline.interactions import MAX_DEPTH, json_lines, nesting_depth, validation_summary
from qa_pipeline.sources import IngestResult, Quarantined


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
                raise InputError("record is not a JSON object", source=str(path), record=record_copy(record))
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
                    record=record_copy(record),
                    position=position,
                )
            )
    return result


def _at(item: Quarantined, position: int) -> Quarantined:
    """The quarantined record with its position in the file, unless the reader gave one."""
    return item if item.position is not None else replace(item, position=position)


def record_copy(record: Any) -> str | None:
    """A bounded copy of a bad record for the quarantine (redacted before it is stored)."""
    try:
        return json.dumps(record, ensure_ascii=False, default=str)[:RECORD_COPY_CHARS]
    except (ValueError, TypeError, RecursionError):
        return None
