"""Intercom conversations as the Intercom API returns them (``GET /conversations/{id}``).

A file holds conversation objects (a JSON list, ``{"conversations": [...]}``, or JSONL)
with their ``source`` (the opening message) and ``conversation_parts``. Parts of type
``note`` are internal; assignment, open, close and other state changes without a body
are system events; ``bot`` authors (Fin and custom bots) are the bot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qa_pipeline.errors import InputError
from qa_pipeline.settings import Settings
from qa_pipeline.sources import IngestResult, chat_formats
from qa_pipeline.sources.conversations import Message, build_interaction, plain, to_datetime
from qa_pipeline.sources.pull import Pager, api_root, expanders
from qa_pipeline.sources.records import read_records, record_copy

AUTHOR_TO_SPEAKER = {
    "admin": "agent",
    "team": "agent",
    "user": "customer",
    "lead": "customer",
    "contact": "customer",
    "bot": "bot",
}


def message_from(part: dict[str, Any], opening: bool = False) -> Message:
    """One Intercom part (or the opening ``source``) as a Message."""
    author = part.get("author") or {}
    speaker = AUTHOR_TO_SPEAKER.get(str(author.get("type")), "unknown")
    if author.get("from_ai_agent"):
        speaker = "bot"
    kind = "comment" if opening else part.get("part_type")
    text = plain(part.get("body"))
    visible = kind != "note" and bool(text)  # state changes carry no body unless replied with
    return Message(speaker=speaker, text=text, at=to_datetime(part.get("created_at")), visible=visible)


def parse_conversation(conversation: dict[str, Any], source: str) -> Any:
    """One conversation object -> Interaction."""
    ident = conversation.get("id")
    if not ident:
        raise InputError("conversation has no id", source=source, record=record_copy(conversation))
    opening = dict(conversation.get("source") or {})
    opening.setdefault("created_at", conversation.get("created_at"))
    parts = conversation.get("conversation_parts") or []
    if isinstance(parts, dict):  # the API wraps the list: {"type": "conversation_part.list", ...}
        parts = parts.get("conversation_parts") or []
    messages = [message_from(opening, opening=True)] + [message_from(p) for p in parts]
    assignee = conversation.get("admin_assignee_id")
    name = next(
        (
            p["author"].get("name")
            for p in parts
            if (p.get("author") or {}).get("type") == "admin" and str(p["author"].get("id")) == str(assignee)
        ),
        None,
    )
    stats = conversation.get("statistics") or {}
    author = opening.get("author") or {}
    contacts = (conversation.get("contacts") or {}).get("contacts") or [{}]
    contact = contacts[0] if isinstance(contacts[0], dict) else {}
    person = author if author.get("type") in {"user", "lead", "contact"} else {}
    closed = stats.get("last_close_at") if conversation.get("state") == "closed" else None
    return build_interaction(
        "intercom",
        str(ident),
        messages,
        source,
        agent_id=f"intercom:{assignee}" if assignee else None,
        agent_name=name,
        started_at=to_datetime(conversation.get("created_at")),
        resolved_at=to_datetime(closed),
        metadata={
            "state": conversation.get("state"),
            "team_assignee_id": conversation.get("team_assignee_id"),
        },
        customer={
            "email": person.get("email"),
            "id": f"intercom:{contact.get('id') or person.get('id')}"
            if contact.get("id") or person.get("id")
            else None,
        },
    )


@chat_formats.register("intercom")
def read_intercom(path: Path, settings: Settings | None = None) -> IngestResult:
    """Read a file of Intercom conversation objects."""
    return read_records(path, parse_conversation, key="conversations")


@expanders.register("intercom")
def expand_conversation(pager: Pager, listed: dict[str, Any], listing_url: str) -> dict[str, Any]:
    """A listed conversation (no parts) -> the full conversation with its parts."""
    return pager.get(f"{api_root(listing_url)}/conversations/{listed['id']}").json()
