"""Zendesk tickets as the Zendesk API returns them.

A file holds one bundle per ticket (a JSON list, a ``{"tickets": [...]}`` object, or
JSONL), or tickets with their ``comments`` inside as the admin JSON export writes them:
the ticket (``GET /api/v2/tickets/{id}``'s ``ticket``), its comments
(``GET /api/v2/tickets/{id}/comments?include=users``: ``comments`` and side-loaded
``users``) and, optionally, ``ticket_metric`` (``solved_at``). Private comments are
internal notes; comments by Zendesk itself (author -1, or via a trigger) are the bot.
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

SYSTEM_AUTHOR = -1
AGENT_ROLES = {"agent", "admin"}


def speaker_for(comment: dict[str, Any], users: dict[Any, dict[str, Any]], requester: Any) -> str:
    """Who wrote a comment: from the author's side-loaded role, else the requester is the customer
    and anyone else (an export without users) is taken to be staff."""
    author = comment.get("author_id")
    via = (comment.get("via") or {}).get("channel")
    if author == SYSTEM_AUTHOR or via == "rule":
        return "bot"
    role = (users.get(author) or {}).get("role")
    if role in AGENT_ROLES:
        return "agent"
    if role == "end-user" or author == requester:
        return "customer"
    if not users and author is not None:
        return "agent"
    return "unknown"


def parse_ticket(bundle: dict[str, Any], source: str) -> Any:
    """One ticket bundle -> Interaction; InputError when it lacks a ticket id or comments."""
    # Zendesk's admin JSON export puts the comments inside each ticket, without users.
    ticket = bundle.get("ticket") or (bundle if "comments" in bundle and "id" in bundle else {})
    if not ticket.get("id"):
        raise InputError("bundle has no ticket.id", source=source, record=record_copy(bundle))
    comments = bundle.get("comments")
    if not isinstance(comments, list):
        raise InputError(f"ticket {ticket['id']} has no comments list", source=f"{source}#{ticket['id']}")
    users = {u.get("id"): u for u in bundle.get("users") or []}
    messages = [
        Message(
            speaker=speaker_for(c, users, ticket.get("requester_id")),
            text=c.get("plain_body") or plain(c.get("html_body") or c.get("body")),
            at=to_datetime(c.get("created_at")),
            visible=c.get("public", True) is not False,
        )
        for c in comments
    ]
    assignee = ticket.get("assignee_id")
    requester = ticket.get("requester_id")
    person = users.get(requester) or {}
    solved = (bundle.get("ticket_metric") or {}).get("solved_at")
    if not solved and ticket.get("status") in {"solved", "closed"}:
        solved = ticket.get("updated_at")
    return build_interaction(
        "zendesk",
        str(ticket["id"]),
        messages,
        source,
        agent_id=f"zendesk:{assignee}" if assignee else None,
        agent_name=(users.get(assignee) or {}).get("name"),
        started_at=to_datetime(ticket.get("created_at")),
        resolved_at=to_datetime(solved),
        metadata={
            "subject": ticket.get("subject"),
            "status": ticket.get("status"),
            "group_id": ticket.get("group_id"),
            "via": (ticket.get("via") or {}).get("channel"),
        },
        customer={
            "email": person.get("email"),
            "phone": person.get("phone"),
            "id": f"zendesk:{requester}" if requester else None,
        },
    )


@chat_formats.register("zendesk")
def read_zendesk(path: Path, settings: Settings | None = None) -> IngestResult:
    """Read a file of Zendesk ticket bundles."""
    return read_records(path, parse_ticket, key="tickets")


@expanders.register("zendesk")
def expand_ticket(pager: Pager, ticket: dict[str, Any], listing_url: str) -> dict[str, Any]:
    """A ticket from the incremental export -> the bundle read_zendesk reads (comments and users)."""
    url = f"{api_root(listing_url)}/api/v2/tickets/{ticket['id']}/comments.json"
    comments: list[dict[str, Any]] = []
    users: dict[Any, dict[str, Any]] = {}
    response = pager.get(url, {"include": "users"})
    while True:
        body = response.json()
        comments += body.get("comments", [])
        users.update({u.get("id"): u for u in body.get("users", [])})
        if not body.get("next_page"):
            break
        response = pager.get(body["next_page"])
    return {"ticket": ticket, "comments": comments, "users": list(users.values())}
