"""Shared by every chat/help-desk reader: messages -> one Interaction, with timing metrics.

A reader turns a vendor's records into ``Message`` objects (who, text, when, whether
the customer saw it) and calls ``build_interaction``; that keeps the rules for bots,
internal notes and response times identical across formats.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from qa_pipeline.contracts import Interaction, Speaker, Turn
from qa_pipeline.errors import InputError
from qa_pipeline.interactions import stable_id
from qa_pipeline.sources.emails import html_to_text


@dataclass
class Message:
    """One message of a conversation as a reader sees it."""

    speaker: str  # agent | customer | bot | unknown
    text: str
    at: datetime | None = None
    visible: bool = True  # False: internal note or system event, never scored or shown as said


# Timestamps outside these years are typos or units gone wrong (milliseconds read as seconds).
EARLIEST, LATEST = datetime(1990, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


def to_datetime(value: Any) -> datetime | None:
    """ISO-8601 strings and Unix seconds to aware datetimes; None stays None.

    Raise InputError for anything else: booleans, non-finite or huge numbers, and times
    before 1990 or after 2099, so one bad record is quarantined, not read as 1970.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InputError(f"not a timestamp: {str(value)[:80]!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value) or not EARLIEST.timestamp() <= value < LATEST.timestamp():
            raise InputError(f"timestamp {value!r} is not a time between 1990 and 2099 (Unix seconds)")
        return datetime.fromtimestamp(value, tz=UTC)
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"not a timestamp: {value[:80]!r}") from None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if not EARLIEST <= parsed < LATEST:
        raise InputError(f"timestamp {value[:80]!r} is not between 1990 and 2099")
    return parsed


def plain(text_or_html: str | None) -> str:
    """Text of a message body that may be HTML."""
    text = text_or_html or ""
    return html_to_text(text) if re.search(r"<[a-zA-Z][^>]*>", text) else text.strip()


def timing(messages: list[Message], resolved_at: datetime | None) -> dict[str, float | None]:
    """First response time and time to resolution, in seconds from the first customer message."""
    shown = [m for m in messages if m.visible and m.at is not None]
    first_customer = next((m.at for m in shown if m.speaker == "customer"), None)
    first_agent = next(
        (
            m.at
            for m in shown
            if m.speaker == "agent" and first_customer and m.at is not None and m.at >= first_customer
        ),
        None,
    )
    return {
        "first_response_s": (first_agent - first_customer).total_seconds()
        if first_agent and first_customer
        else None,
        "resolution_s": (resolved_at - first_customer).total_seconds()
        if resolved_at and first_customer
        else None,
    }


def build_interaction(
    system: str,
    native_id: str,
    messages: list[Message],
    source: str,
    *,
    agent_id: str | None = None,
    agent_name: str | None = None,
    team: str | None = None,
    language: str | None = None,
    started_at: datetime | None = None,
    resolved_at: datetime | None = None,
    metadata: dict[str, Any] | None = None,
    customer: dict[str, Any] | str | None = None,
) -> Interaction:
    """One chat Interaction from a conversation's messages; raise InputError if nothing was said.

    ``customer`` (email/phone/id, see ``qa_pipeline.customers``) rides in the metadata only
    until redaction turns it into a keyed hash.
    """
    turns = [
        Turn(speaker=cast(Speaker, m.speaker), text=m.text.strip(), at=m.at)
        for m in messages
        if m.visible and m.text.strip()
    ]
    if not turns:
        raise InputError(
            f"conversation {native_id} has no customer-visible text", source=f"{source}#{native_id}"
        )
    hidden = sum(1 for m in messages if not m.visible)
    meta = {**(metadata or {}), "metrics": timing(messages, resolved_at)}
    if hidden:
        meta["hidden_messages"] = hidden
    if isinstance(customer, dict):
        customer = {k: str(v) for k, v in customer.items() if v not in (None, "")} or None
    if customer:
        meta["customer"] = customer
    return Interaction(
        id=stable_id("chat", system, native_id),
        channel="chat",
        agent_id=agent_id or "unknown",
        agent_name=agent_name,
        team=team,
        language=language,
        started_at=started_at or next((t.at for t in turns if t.at), None),
        source=source,
        turns=turns,
        metadata=meta,
    )
