"""Freshdesk tickets as the Freshdesk API returns them
(``GET /api/v2/tickets/{id}?include=conversations,stats``).

A file holds ticket objects (a JSON list, ``{"tickets": [...]}``, or JSONL). The
ticket's ``description_text`` is the customer's opening message; in ``conversations``,
``incoming`` marks the customer's replies and ``private`` the internal notes.
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


def parse_ticket(ticket: dict[str, Any], source: str) -> Any:
    """One Freshdesk ticket -> Interaction."""
    ident = ticket.get("id")
    if not ident:
        raise InputError("ticket has no id", source=source, record=record_copy(ticket))
    messages = [
        Message(
            "customer",
            ticket.get("description_text") or plain(ticket.get("description")),
            to_datetime(ticket.get("created_at")),
        )
    ]
    for c in ticket.get("conversations") or []:
        messages.append(
            Message(
                speaker="customer" if c.get("incoming") else "agent",
                text=c.get("body_text") or plain(c.get("body")),
                at=to_datetime(c.get("created_at")),
                visible=not c.get("private", False),
            )
        )
    responder = ticket.get("responder_id")
    requester = ticket.get("requester") or {}  # with ?include=requester
    stats = ticket.get("stats") or {}
    return build_interaction(
        "freshdesk",
        str(ident),
        messages,
        source,
        agent_id=f"freshdesk:{responder}" if responder else None,
        started_at=to_datetime(ticket.get("created_at")),
        resolved_at=to_datetime(stats.get("resolved_at")),
        metadata={
            "subject": ticket.get("subject"),
            "status": ticket.get("status"),
            "group_id": ticket.get("group_id"),
        },
        customer={
            "email": requester.get("email") or ticket.get("email"),
            "phone": requester.get("mobile") or requester.get("phone") or ticket.get("phone"),
            "id": f"freshdesk:{ticket['requester_id']}" if ticket.get("requester_id") else None,
        },
    )


@chat_formats.register("freshdesk")
def read_freshdesk(path: Path, settings: Settings | None = None) -> IngestResult:
    """Read a file of Freshdesk tickets with their conversations."""
    return read_records(path, parse_ticket, key="tickets")


@expanders.register("freshdesk")
def expand_ticket(pager: Pager, ticket: dict[str, Any], listing_url: str) -> dict[str, Any]:
    """A listed ticket -> the ticket with all its conversations (paged through Link headers)."""
    conversations: list[dict[str, Any]] = []
    for page in pager.pages(
        f"{api_root(listing_url)}/api/v2/tickets/{ticket['id']}/conversations", None, None
    ):
        conversations += page
    return {**ticket, "conversations": conversations}
