"""Help-desk exports shaped as the vendors' APIs return them (fixtures in tests/data/helpdesk)."""

import json
from datetime import datetime

import pytest

from qa_pipeline.pipeline import fill_agent
from qa_pipeline.settings import Agent
from qa_pipeline.sources.chats import ingest_chats


def seconds_between(a: str, b: str) -> float:
    return (
        datetime.fromisoformat(b.replace("Z", "+00:00")) - datetime.fromisoformat(a.replace("Z", "+00:00"))
    ).total_seconds()


def test_zendesk_ticket_bundle(data):
    result = ingest_chats([data / "helpdesk" / "zendesk.json"], "zendesk")
    [ticket] = result.interactions
    assert (
        ticket.id == "chat:zendesk:48213"
        and ticket.agent_id == "zendesk:394"
        and ticket.agent_name == "Sarah K."
    )
    assert [t.speaker for t in ticket.turns] == ["customer", "bot", "agent", "customer"]
    assert all("Carrier lost it" not in t.text for t in ticket.turns)  # the private comment is a note
    assert ticket.metadata["hidden_messages"] == 1
    assert "I have issued a refund today." in ticket.turns[2].text and "<p>" not in ticket.turns[2].text
    raw = json.loads((data / "helpdesk" / "zendesk.json").read_text(encoding="utf-8"))[0]
    comments = raw["comments"]
    assert ticket.metadata["metrics"]["first_response_s"] == seconds_between(
        comments[0]["created_at"], comments[3]["created_at"]
    )
    assert ticket.metadata["metrics"]["resolution_s"] == seconds_between(
        comments[0]["created_at"], raw["ticket_metric"]["solved_at"]
    )
    reasons = sorted(q.reason for q in result.quarantined)
    assert (
        len(reasons) == 2
        and any("no comments list" in r for r in reasons)
        and any("no ticket.id" in r for r in reasons)
    )


def test_intercom_conversation(data):
    result = ingest_chats([data / "helpdesk" / "intercom.json"], "intercom")
    [conv] = result.interactions
    assert conv.id == "chat:intercom:147" and conv.agent_id == "intercom:814" and conv.agent_name == "Lina P."
    assert [t.speaker for t in conv.turns] == ["customer", "bot", "agent", "customer", "agent"]
    assert not any("JIRA-42" in t.text for t in conv.turns)  # note
    assert conv.metadata["hidden_messages"] == 2  # the note and the body-less assignment
    assert conv.turns[-1].text == "Thank you for your patience!"  # a close part with a reply is said
    assert conv.metadata["metrics"]["first_response_s"] == 1763633820 - 1763633700
    assert conv.metadata["metrics"]["resolution_s"] == 1763634600 - 1763633700
    assert [q.reason for q in result.quarantined] == ["conversation has no id"]


def test_freshdesk_ticket_with_conversations(data):
    result = ingest_chats([data / "helpdesk" / "freshdesk.jsonl"], "freshdesk")
    [ticket] = result.interactions
    assert ticket.id == "chat:freshdesk:20" and ticket.agent_id == "freshdesk:51"
    assert [t.speaker for t in ticket.turns] == ["customer", "agent", "customer"]
    assert ticket.turns[0].text == "Invoice for October is wrong." and ticket.metadata["hidden_messages"] == 1
    assert ticket.metadata["metrics"] == {"first_response_s": 45 * 60.0, "resolution_s": 4 * 3600.0}
    assert len(result.quarantined) == 2  # a bad timestamp and a line that is not JSON
    assert any("not a timestamp" in q.reason for q in result.quarantined)
    assert any("invalid JSON" in q.reason for q in result.quarantined)


def test_help_desk_ids_map_to_configured_agents(data):
    [ticket] = ingest_chats([data / "helpdesk" / "zendesk.json"], "zendesk").interactions
    agent = Agent(id="a17", name="Sarah Kowalski", team="billing", aliases=["zendesk:394"])
    mapped = fill_agent(ticket, {key: agent for key in (agent.id, *agent.aliases)})
    assert (mapped.agent_id, mapped.agent_name, mapped.team) == ("a17", "Sarah Kowalski", "billing")


@pytest.mark.parametrize("fmt", ["zendesk", "intercom", "freshdesk"])
def test_unreadable_file_is_quarantined_for_every_format(data, fmt):
    result = ingest_chats([data / "chats" / "truncated.json"], fmt)
    assert not result.interactions and len(result.quarantined) == 1


def test_scored_help_desk_chat_keeps_agent_points_out_of_bot_turns(data, rubric):
    from qa_pipeline.scoring import score_interactions

    [conv] = ingest_chats([data / "helpdesk" / "intercom.json"], "intercom").interactions
    [score] = score_interactions([conv], rubric)
    bot_turn = 1
    assert all(e.turn != bot_turn for r in score.criteria.values() for e in r.evidence)
    assert score.criteria["empathy"].result == "pass" and score.criteria["resolution"].result == "pass"


def test_zendesk_admin_export_with_inline_comments(tmp_path):
    export = tmp_path / "zendesk-export.jsonl"
    ticket = {
        "id": 7,
        "requester_id": 1,
        "assignee_id": 2,
        "created_at": "2026-11-20T08:00:00Z",
        "comments": [
            {
                "id": 1,
                "author_id": 1,
                "public": True,
                "created_at": "2026-11-20T08:00:00Z",
                "body": "Help, my order is late",
            },
            {
                "id": 2,
                "author_id": 2,
                "public": False,
                "created_at": "2026-11-20T08:01:00Z",
                "body": "internal",
            },
            {
                "id": 3,
                "author_id": 2,
                "public": True,
                "created_at": "2026-11-20T08:05:00Z",
                "body": "Hello, I have resent it.",
            },
        ],
    }
    export.write_text(json.dumps(ticket) + "\n", encoding="utf-8")
    [interaction] = ingest_chats([export], "zendesk").interactions
    assert [t.speaker for t in interaction.turns] == ["customer", "agent"]
    assert interaction.metadata["metrics"]["first_response_s"] == 300.0


def test_intercom_parts_as_a_bare_list(tmp_path):
    export = tmp_path / "intercom.json"
    conversation = {
        "id": "9",
        "created_at": 1763633700,
        "source": {"body": "<p>Hi</p>", "author": {"type": "user", "id": "u"}},
        "conversation_parts": [
            {
                "part_type": "comment",
                "created_at": 1763633760,
                "body": "Hello!",
                "author": {"type": "admin", "id": "7", "name": "Lina"},
            }
        ],
    }
    export.write_text(json.dumps([conversation]), encoding="utf-8")
    [interaction] = ingest_chats([export], "intercom").interactions
    assert [t.speaker for t in interaction.turns] == ["customer", "agent"]
