"""Interaction and Turn: the public JSONL contract (see DESIGN.md), with stable ids."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError

from qa_pipeline.errors import InputError

Channel = Literal["call", "chat", "email"]
Speaker = Literal["agent", "customer", "bot", "unknown"]

Model = TypeVar("Model", bound=BaseModel)


class Turn(BaseModel):
    """One utterance or message. Calls give ``start``/``end`` seconds; chats and emails ``at``."""

    speaker: Speaker
    text: str
    start: float | None = None
    end: float | None = None
    at: datetime | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class Interaction(BaseModel):
    """One call, chat or email thread between an agent and a customer."""

    id: str
    channel: Channel
    agent_id: str = "unknown"
    agent_name: str | None = None
    team: str | None = None
    language: str | None = None
    started_at: datetime | None = None
    source: str | None = None
    # Keyed hash of the customer's address, number or id (qa_pipeline.customers): repeat
    # contacts and first-contact resolution. Never the identifier itself.
    customer_key: str | None = None
    turns: list[Turn]
    metadata: dict[str, Any] = Field(default_factory=dict)

    def agent_turns(self) -> list[tuple[int, Turn]]:
        """Return (index, turn) for the agent's turns."""
        return [(i, t) for i, t in enumerate(self.turns) if t.speaker == "agent"]

    def text(self) -> str:
        """All turn texts joined: what language detection and search read."""
        return "\n".join(t.text for t in self.turns)


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
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield model.model_validate(json.loads(line))
            except (json.JSONDecodeError, ValidationError) as exc:
                summary = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                yield InputError(
                    f"line {number}: not a valid {model.__name__} ({summary})",
                    source=f"{path}:{number}",
                    record=line.rstrip("\n")[:10_000],
                )


def read_interactions(path: Path) -> list[Interaction]:
    """Return all interactions in a JSONL file; raise InputError on the first bad line."""
    items = []
    for item in iter_jsonl(path, Interaction):
        if isinstance(item, InputError):
            raise item
        items.append(item)
    return items


def write_jsonl(path: Path, items: Iterable[BaseModel]) -> int:
    """Write models as JSON lines (atomically: temp file then rename); return the count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    count = 0
    with open(tmp, "w", encoding="utf-8") as handle:
        for item in items:
            handle.write(item.model_dump_json(exclude_none=True) + "\n")
            count += 1
    tmp.replace(path)
    return count
