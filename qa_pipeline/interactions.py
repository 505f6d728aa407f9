"""Interaction and Turn: the public JSONL contract (see DESIGN.md), with stable ids."""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from qa_pipeline.contracts import (  # noqa: F401  (re-exported: the contract's long-standing home)
    MAX_TURN_CHARS,
    MAX_TURNS,
    RECORD_COPY_CHARS,
    Channel,
    Interaction,
    Speaker,
    Turn,
    valid_unicode,
)
from qa_pipeline.errors import InputError

Model = TypeVar("Model", bound=BaseModel)


# Limits on one input, so a hostile or broken export costs its own record, not the run.
MAX_DEPTH = 64  # nesting of one JSON record
MAX_LINE_BYTES = 16 * 1024 * 1024  # one JSONL line
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def nesting_depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """How deeply lists and dicts nest in ``value``, counted up to ``limit + 1``."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth > limit:
                return depth
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def json_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed value or InputError) for each non-blank line of a JSONL file.

    Each line is decoded and parsed on its own, so invalid UTF-8, a line over
    ``MAX_LINE_BYTES``, nesting deeper than ``MAX_DEPTH`` or bad JSON cost that line only.
    """
    with open(path, "rb") as handle:
        head = handle.read(2)
        handle.seek(0)
        if head in UTF16_BOMS:  # saved as "Unicode" by Windows tools: UTF-16 throughout
            lines: Iterable[bytes] = (
                line.encode("utf-8") for line in io.TextIOWrapper(handle, encoding="utf-16", errors="replace")
            )
        else:
            lines = handle
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                yield number, _json_line(raw, number, path)
            except InputError as exc:
                exc.source, exc.position = exc.source or f"{path}:{number}", number
                yield number, exc


def _json_line(raw: bytes, number: int, path: Path) -> Any:
    if len(raw) > MAX_LINE_BYTES:
        raise InputError(
            f"line {number}: {len(raw):,} bytes, over the limit of {MAX_LINE_BYTES:,} for one record"
        )
    try:
        line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"line {number}: not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
            "re-export the file as UTF-8",
            record=raw[:RECORD_COPY_CHARS].decode("utf-8", errors="replace"),
        ) from None
    too_deep = InputError(
        f"line {number}: nested more than {MAX_DEPTH} levels deep; not a conversation export",
        record=line[:1_000],
    )
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        copy = line[:RECORD_COPY_CHARS]
        raise InputError(f"line {number}: invalid JSON ({exc.msg})", record=copy) from None
    except RecursionError:
        raise too_deep from None
    if nesting_depth(value) > MAX_DEPTH:
        raise too_deep
    return value


def validation_summary(exc: ValidationError) -> str:
    """The first problem of a validation error, without the offending value (it may be PII)."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}" if where else f"{first['msg']}{more}"


def stable_id(channel: str, system: str, native_id: str) -> str:
    """Return ``channel:system:native_id``: the same source always gives the same id."""
    clean = native_id.strip().replace(" ", "_")
    return f"{channel}:{system}:{clean}"


def content_hash(*parts: str, length: int = 16) -> str:
    """Short SHA-256 of the parts: an id for sources that carry none of their own."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:length]


def iter_jsonl(path: Path, model: type[Model]) -> Iterator[Model | InputError]:
    """Yield one model per line of ``path``; a bad line yields an InputError instead.

    Yielding the error (not raising it) lets callers quarantine that record and go on.
    """
    for number, value in json_lines(path):
        if isinstance(value, InputError):
            yield value
            continue
        try:
            yield model.model_validate(value)
        except ValidationError as exc:
            yield InputError(
                f"line {number}: not a valid {model.__name__} ({validation_summary(exc)})",
                source=f"{path}:{number}",
                record=json.dumps(value, ensure_ascii=False)[:RECORD_COPY_CHARS],
                position=number,
            )


def read_interactions(path: Path) -> list[Interaction]:
    """Return all interactions in a JSONL file; raise InputError on the first bad line."""
    items = []
    for item in iter_jsonl(path, Interaction):
        if isinstance(item, InputError):
            raise item
        items.append(item)
    return items


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path to write; on success it atomically replaces ``path``."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_jsonl(path: Path, items: Iterable[BaseModel]) -> int:
    """Write models as JSON lines (atomically: temp file then rename); return the count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with replacing(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        for item in items:
            handle.write(item.model_dump_json(exclude_none=True) + "\n")
            count += 1
    return count
