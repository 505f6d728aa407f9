"""Customer keys (keyed hashes, never the identifier) and first-contact resolution."""

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from qa_pipeline.cli import app
from qa_pipeline.customers import customer_key, identifier, keyer, load_secret
from qa_pipeline.interactions import Interaction, Turn
from qa_pipeline.redact import redact_interaction
from qa_pipeline.scorecards import build_scorecards
from qa_pipeline.scoring import score_interactions
from qa_pipeline.store import first_contact_results, repeat_contacts, save_interactions, save_scores

SECRET = b"0123456789abcdef0123456789abcdef"
DAY0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("one", "other", "region"),
    [
        ("+420 603 123 456", "603123456", "CZ"),
        ("00420 603-123-456", "+420603123456", None),
        ("8 (912) 345-67-89", "+7 912 345 67 89", "RU"),
        ("041 123 456", "+386 41 123 456", "SI"),
        ("Jane.Doe@Example.org", " jane.doe@example.org", None),
    ],
)
def test_one_customer_written_two_ways_gets_one_key(one, other, region):
    assert customer_key(one, SECRET, region) == customer_key(other, SECRET, region)


def test_keys_differ_between_customers_and_secrets_and_hide_the_identifier():
    jane = customer_key({"email": "jane@example.org"}, SECRET)
    assert jane != customer_key({"email": "john@example.org"}, SECRET)
    assert jane != customer_key({"email": "jane@example.org"}, b"another secret, just as long....")
    assert "jane" not in jane and len(jane) == 32
    # email wins over phone and id; a dict with nothing usable names nobody
    assert identifier({"email": "a@b.cz", "phone": "+420603123456", "id": "zendesk:1"}) == "email:a@b.cz"
    assert identifier({"phone": "not a number", "id": "zendesk:1"}) == "id:zendesk:1"
    assert customer_key({"email": "", "phone": None}, SECRET) is None


def test_secret_is_made_once_private_and_a_configured_one_wins(tmp_path: Path):
    first = load_secret(None, tmp_path)
    assert load_secret(None, tmp_path) == first and len(first) >= 32
    assert stat.S_IMODE((tmp_path / "customer-key.secret").stat().st_mode) == 0o600
    assert load_secret("set by the operator", tmp_path) == b"set by the operator"


def test_threads_making_the_secret_at_once_all_get_the_same_one(tmp_path: Path):
    """The nightly run's ingest tasks start together on a fresh data folder: every one must
    read the one secret (an empty file, created before it was written, was read as "no
    usable secret" in 18 of 30 rounds like these)."""
    import threading

    def read(folder: Path, start: threading.Barrier, found: list, failed: list) -> None:
        start.wait()
        try:
            found.append(load_secret(None, folder))
        except Exception as exc:  # collected: the assertion names it
            failed.append(exc)

    for round_ in range(20):
        folder = tmp_path / f"var{round_}"
        start, found, failed = threading.Barrier(12), [], []
        threads = [threading.Thread(target=read, args=(folder, start, found, failed)) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not failed and len(found) == 12 and len(set(found)) == 1, failed
        assert [p.name for p in folder.iterdir()] == ["customer-key.secret"]  # no scratch file left


def test_redaction_turns_the_identifier_into_a_key_and_keeps_no_trace_of_it():
    item = Interaction(
        id="chat:t:1",
        channel="chat",
        turns=[Turn(speaker="customer", text="hi")],
        metadata={"customer": {"email": "jane@example.org"}, "status": "solved"},
    )
    keyed = redact_interaction(item, key=keyer(SECRET))
    assert keyed.customer_key == customer_key("jane@example.org", SECRET)
    assert "jane" not in keyed.model_dump_json() and keyed.metadata == {"status": "solved"}
    assert redact_interaction(item).customer_key is None  # no key function: dropped, not kept
    assert "customer" not in redact_interaction(item).metadata


def test_every_source_names_its_customer_and_ingest_writes_only_the_key(tmp_path: Path, data: Path):
    config = tmp_path / "qa.toml"
    config.write_text(f'data_dir = "{tmp_path / "var"}"\nagent_domains = ["acme.example"]\n')
    runner = CliRunner()
    found = {}
    for kind, path, fmt in [
        ("chats", data / "helpdesk" / "zendesk.json", "zendesk"),
        ("chats", data / "helpdesk" / "freshdesk.jsonl", "freshdesk"),
        ("chats", data / "helpdesk" / "intercom.json", "intercom"),
        ("emails", data / "emails" / "thread.mbox", None),
    ]:
        out = tmp_path / f"{path.stem}.jsonl"
        args = ["ingest", kind, str(path), "-o", str(out), "--config", str(config)]
        result = runner.invoke(app, args + (["--format", fmt] if fmt else []))
        assert result.exit_code == 0, result.output
        text = out.read_text(encoding="utf-8")
        rows = [json.loads(line) for line in text.splitlines()]
        found[path.stem] = [r.get("customer_key") for r in rows]
        assert not any("customer" in r.get("metadata", {}) for r in rows)
    for system in ("zendesk", "freshdesk", "intercom"):
        assert found[system] and all(found[system]), system
    secret = load_secret(None, tmp_path / "var")
    assert customer_key("jane@example.org", secret) in found["thread"]  # the customer, not the agent
    assert customer_key("sarah.k@acme.example", secret) not in found["thread"]


def contact(n: int, key: str | None, day: float, agent: str = "a1", text: str = "Thank you!") -> Interaction:
    return Interaction(
        id=f"chat:t:{n}",
        channel="chat",
        agent_id=agent,
        language="en",
        customer_key=key,
        started_at=DAY0 + timedelta(days=day),
        turns=[Turn(speaker="customer", text="It broke again."), Turn(speaker="agent", text=text)],
    )


def links(engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {r.interaction_id: r.repeat_id for r in conn.execute(repeat_contacts.select())}


def test_a_contact_within_the_window_marks_the_earlier_one_and_reruns_change_nothing(engine):
    first = [contact(1, "A", 0), contact(2, "A", 3), contact(3, "A", 12), contact(4, "B", 0)]
    save_interactions(engine, first)
    assert links(engine) == {"chat:t:1": "chat:t:2"}  # 9 days from 2 to 3: outside 7
    save_interactions(engine, first)
    assert links(engine) == {"chat:t:1": "chat:t:2"}
    # a later night brings B back after 6 days: the earlier B contact is now a repeat too
    save_interactions(engine, [contact(5, "B", 6)])
    assert links(engine) == {"chat:t:1": "chat:t:2", "chat:t:4": "chat:t:5"}
    # a wider window, configured by the QA lead, is applied when the customer is next saved
    save_interactions(engine, [contact(3, "A", 12)], fcr_window_days=10)
    assert links(engine)["chat:t:2"] == "chat:t:3"


def test_first_contact_results_wait_for_the_window_and_explain_themselves(engine):
    save_interactions(
        engine, [contact(1, "A", 0), contact(2, "A", 2.5), contact(3, "B", 1), contact(4, None, 0)]
    )
    before = first_contact_results(engine, None, 7)
    assert before["chat:t:1"][0] == "no" and "2.5 days later" in before["chat:t:1"][1]
    assert "chat:t:2" in before["chat:t:1"][1]
    assert before["chat:t:2"][0] == "pending" and before["chat:t:3"][0] == "pending"
    assert before["chat:t:4"][0] is None  # no customer key: unknown, never counted
    save_interactions(engine, [contact(5, "C", 20)])  # the data now reaches past both windows
    after = first_contact_results(engine, None, 7)
    assert after["chat:t:2"][0] == "yes" and after["chat:t:3"][0] == "yes"
    assert after["chat:t:5"][0] == "pending"


def test_the_pages_first_contact_results_are_the_stores(store, rubric):
    """Agent and team pages judge first contact from the rows they read: the same answers."""
    items = [
        contact(1, "A", 0),
        contact(2, "A", 2.5),
        contact(3, "B", 1),
        contact(4, None, 0),
        contact(5, "C", 20),
    ]
    store.save_interactions(items)
    store.save_scores(score_interactions(items, rubric))
    rows = store.period_results(agents=["a1"])
    assert store.first_contacts_of(rows, 7) == store.first_contact_results(None, 7)
    assert {r[0] for r in store.first_contacts_of(rows, 7).values()} == {"no", "yes", "pending", None}


def test_scorecards_show_the_fcr_rate_and_the_repeat_behind_it(engine, store, rubric, tmp_path: Path):
    items = [
        contact(1, "A", 0, "a1"),
        contact(2, "A", 1, "a2"),
        contact(3, "B", 0, "a1"),
        contact(4, "C", 1, "a1"),
        contact(5, "D", 20, "a2"),
    ]
    save_interactions(engine, items)
    save_scores(engine, score_interactions(items, rubric))
    files = build_scorecards(store, tmp_path / "cards", period="month")
    table = pd.read_csv(files.csv).set_index("agent_id")
    # a1: contact 1 came back (no), 3 and 4 settled without a repeat (yes): 2 of 3
    assert table.loc["a1", "fcr_rate"] == pytest.approx(2 / 3, abs=0.001)
    assert table.loc["a1", "fcr_settled"] == 3 and table.loc["a1", "repeat_contacts"] == 1
    # a2: contact 2 settled (yes); 5 is the newest, still inside its window
    assert table.loc["a2", "fcr_rate"] == 1.0 and table.loc["a2", "fcr_settled"] == 1
    page = (files.index.parent / "agents" / "a1.html").read_text(encoding="utf-8")
    assert "Not resolved at first contact" in page and "chat:t:2" in page
    assert "<dt>First-contact resolution</dt><dd>67% of 3</dd>" in page


def test_qa_show_explains_the_score_evidence_and_first_contact(tmp_path: Path, rubric):
    from qa_pipeline.store import connect

    url = f"sqlite:///{tmp_path / 'qa.db'}"
    config = tmp_path / "qa.toml"
    config.write_text(f'database_url = "{url}"\ndata_dir = "{tmp_path}"\n')
    engine = connect(url)
    items = [
        contact(1, "A", 0, text="Hello, I'm sorry to hear that. Thank you for your patience!"),
        contact(2, "A", 2),
    ]
    save_interactions(engine, items)
    save_scores(engine, score_interactions(items, rubric))
    runner = CliRunner()
    result = runner.invoke(app, ["show", "chat:t:1", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "came back 2.0 days later (chat chat:t:2)" in result.output
    assert "I'm sorry to hear that" in result.output and "transcript:" in result.output
    body = json.loads(runner.invoke(app, ["show", "chat:t:1", "--json", "--config", str(config)]).output)
    assert body["first_contact"]["result"] == "no"
    assert body["scores"][0]["criteria"]["empathy"]["result"] == "pass"
    missing = runner.invoke(app, ["show", "chat:t:99", "--config", str(config)])
    assert missing.exit_code == 2 and "qa search" in missing.output


def test_generic_chats_name_the_customer_in_json_and_csv(tmp_path: Path):
    from qa_pipeline.settings import CsvMapping, Settings
    from qa_pipeline.sources.chats import ingest_chats

    export = tmp_path / "chats.json"
    export.write_text(
        json.dumps(
            [
                {"id": "1", "customer_phone": "603 123 456", "messages": [{"from": "agent", "text": "Hi"}]},
                {"id": "2", "customer": "+420603123456", "messages": [{"from": "agent", "text": "Hi"}]},
                {"id": "3", "messages": [{"from": "agent", "text": "Hi"}]},
            ]
        )
    )
    table = tmp_path / "chats.csv"
    table.write_text("conv,who,msg,client\nc1,agent,Hello,jane@example.org\nc1,customer,Hi,\n")
    mapping = CsvMapping(conversation="conv", speaker="who", text="msg", customer="client")
    items = (
        ingest_chats([export]).interactions
        + ingest_chats([table], "generic", Settings(chat_csv=mapping)).interactions
    )
    key = keyer(SECRET, "CZ")
    keys = [redact_interaction(i, key=key).customer_key for i in items]
    assert keys[0] == keys[1] == customer_key("+420 603 123 456", SECRET)
    assert keys[2] is None
    assert keys[3] == customer_key("jane@example.org", SECRET)
