from qa_pipeline.sources.chats import ingest_chats


def test_generic_export_json(data):
    result = ingest_chats([data / "chats" / "export.json"])
    ids = [i.id for i in result.interactions]
    assert ids == ["chat:generic:1001", "chat:generic:1002"]
    first = result.interactions[0]
    assert first.agent_id == "a17" and first.agent_name == "Sarah K." and first.team == "billing"
    assert [t.speaker for t in first.turns] == ["bot", "agent", "customer", "agent", "agent"]
    assert all("INTERNAL" not in t.text for t in first.turns)  # internal notes never become turns
    assert first.metadata["hidden_messages"] == 1
    assert first.started_at is not None and first.turns[0].at is not None


def test_bad_records_are_quarantined_not_the_file(data):
    result = ingest_chats([data / "chats" / "export.json"])
    reasons = {q.source.rsplit("#", 1)[-1]: q.reason for q in result.quarantined}
    assert set(reasons) == {"1003", "1004"}
    assert "message 0" in reasons["1003"] and "no messages" in reasons["1004"]
    assert result.read == 4


def test_jsonl_bad_line_is_quarantined_with_its_line(data):
    result = ingest_chats([data / "chats" / "export.jsonl"])
    assert [i.id for i in result.interactions] == ["chat:generic:2001", "chat:generic:2003"]
    [bad] = result.quarantined
    assert bad.source.endswith(":2") and "invalid JSON" in bad.reason


def test_unreadable_file_is_quarantined_and_others_still_read(data):
    result = ingest_chats([data / "chats" / "truncated.json", data / "chats" / "export.jsonl"])
    assert any(
        q.source.endswith("truncated.json") and "not valid JSON" in q.reason for q in result.quarantined
    )
    assert len(result.interactions) == 2


def test_reingest_gives_the_same_ids(data):
    one = ingest_chats([data / "chats" / "export.json"])
    two = ingest_chats([data / "chats" / "export.json"])
    assert [i.id for i in one.interactions] == [i.id for i in two.interactions]


def test_csv_export_with_a_column_mapping(data):
    from qa_pipeline.settings import CsvMapping, Settings

    mapping = CsvMapping(
        conversation="Chat ID",
        speaker="Author",
        text="Message",
        at="Time",
        agent_id="Operator",
        team="Group",
        roles={"Operator": "agent", "Visitor": "customer", "System": "system"},
    )
    result = ingest_chats([data / "chats" / "livechat-export.csv"], "generic", Settings(chat_csv=mapping))
    [chat] = result.interactions
    assert chat.id == "chat:generic:LC-1" and chat.agent_id == "marta.v" and chat.team == "billing"
    assert [t.speaker for t in chat.turns] == ["agent", "customer", "agent"]  # the system event is hidden
    assert chat.metadata["metrics"]["first_response_s"] == 120.0
    [bad] = result.quarantined  # LC-2: the role "Robot" is not mapped
    assert "LC-2" in bad.source and "message 1" in bad.reason


def test_csv_without_the_mapped_column_is_quarantined_with_a_hint(data):
    result = ingest_chats([data / "chats" / "livechat-export.csv"])
    [bad] = result.quarantined
    assert "chat_csv.conversation" in bad.reason and "Chat ID" in bad.reason
