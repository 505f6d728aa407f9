"""Writes the hostile-input corpus in this folder (python tests/data/hostile/make_hostile.py).

Small files, each one class of input that once crashed a command, hung, or went silently
wrong; tests/test_hostile.py says what must happen to each. Every bad record sits between
good ones, so a test can check that nothing valid is lost.
"""

import json
from pathlib import Path

HERE = Path(__file__).parent

# Personal data planted in every place a source can carry it; test_hostile scans every
# table, log and output for these values (in all their spellings) after a whole run.
PLANTED = {
    "email": "jana.novakova@example.cz",
    "phone": "+420 601 123 456",
    "phone_digits": "420601123456",
    "iban": "CZ65 0800 0000 1920 0014 5399",
    "card": "4111 1111 1111 1111",
    "birth_number": "710319/2745",
}


def conversation(ident: str, at: object, agent: str = "a1", name: str = "Agent One") -> dict:
    return {
        "id": ident,
        "agent": {"id": agent, "name": name},
        "language": "en",
        "started_at": "2026-11-20T08:00:00Z",
        "messages": [
            {"from": "agent", "text": "Hello, thanks for contacting us!", "at": at},
            {"from": "customer", "text": "My parcel is late.", "at": "2026-11-20T08:01:00Z"},
            {"from": "agent", "text": "I have sent a new one today. Thank you for waiting!"},
        ],
    }


def main() -> None:
    good = "2026-11-20T08:00:00Z"
    timestamps = [
        conversation("ts-good-1", good),
        conversation("ts-huge", 1e20),
        conversation("ts-infinite", float("inf")),  # written as Infinity, which json.loads accepts
        conversation("ts-bool", True),
        conversation("ts-year-9999", "9999-01-01T00:00:00Z"),
        conversation("ts-millis", 1763625600000),  # milliseconds read as seconds
        conversation("ts-list", [2026, 11, 20]),
        conversation("ts-good-2", 1763625600),
    ]
    (HERE / "chats-timestamps.json").write_text(json.dumps(timestamps, indent=1) + "\n")
    # The same conversation id in two files of one night: the first is kept, the second quarantined.
    (HERE / "chats-dup-a.json").write_text(json.dumps([conversation("dup-1", good)], indent=1) + "\n")
    (HERE / "chats-dup-b.json").write_text(
        json.dumps([conversation("dup-1", good), conversation("dup-2", good), conversation("dup-2", good)])
        + "\n"
    )
    # Agent ids that a careless file name would merge; a name a spreadsheet would run.
    agents = [
        conversation("ag-slash", good, agent="ag/1", name="Slash"),
        conversation("ag-colon", good, agent="ag:1", name="Colon"),
        conversation("ag-formula", good, agent="ag2", name='=HYPERLINK("http://evil.example","x")'),
    ]
    (HERE / "chats-agents.json").write_text(json.dumps(agents, indent=1, ensure_ascii=False) + "\n")
    write_pii()
    write_unreadable_lines()
    write_mail()
    (HERE / "rubric-backtracking.yaml").write_text(
        "id: slow\nversion: 1\nname: Backtracking\nlanguages: [en]\ncriteria:\n"
        "  - id: greeting\n    name: Greeting\n    weight: 1\n    phrases: {en: [hello]}\n"
        '    patterns: {en: [[{TEXT: {REGEX: "(a+)+$"}}]]}\n'
    )
    (HERE / "config-backtracking.toml").write_text('redact_patterns = ["(\\\\w+\\\\s?)*$"]\n')
    (HERE / "rubric-infinite-weight.yaml").write_text(
        "id: bad\nversion: 1\nname: Infinite weight\nlanguages: [en]\ncriteria:\n"
        "  - id: greeting\n    name: Greeting\n    weight: .inf\n    phrases: {en: [hello]}\n"
    )


def write_pii() -> None:
    """A night's inbox whose every field that can hold personal data holds some."""
    p = PLANTED
    folder = HERE / "pii"
    folder.mkdir(exist_ok=True)
    said = conversation("pii-turns", "2026-11-20T08:00:00Z")
    said["messages"][1]["text"] = (
        f"I am {p['email']}, call me on {p['phone']}; IBAN {p['iban']}, card {p['card']}, "
        f"rodné číslo {p['birth_number']}."
    )
    said["customer"] = {"email": p["email"], "phone": p["phone"]}
    in_the_id = conversation(f"callback {p['phone']}", "2026-11-20T08:00:00Z", name=p["email"])
    bad_time = conversation("pii-bad-time", p["card"])  # its reason quotes the value
    no_messages = {"id": "pii-no-messages", "note": f"customer {p['email']} IBAN {p['iban']}"}
    (folder / f"chats-{p['email']}.json").write_text(
        json.dumps([said, in_the_id, bad_time, no_messages], indent=1, ensure_ascii=False) + "\n"
    )
    mail = (
        f"From: Jana Novakova <{p['email']}>\nTo: help@acme.example\n"
        f"Subject: refund to {p['iban']}\nMessage-ID: <{p['email'].replace('@', '.')}@mail.example>\n"
        "Date: Thu, 20 Nov 2026 09:00:00 +0000\nContent-Type: text/plain; charset=utf-8\n\n"
        f"Please call {p['phone']}.\n"
    )
    (folder / "mail.eml").write_text(mail)


def write_unreadable_lines() -> None:
    """JSONL whose bad lines must cost only themselves: invalid UTF-8, a lone surrogate,
    nesting 200 deep, broken JSON; a good line before and after each."""

    def line(ident: str, text: str = "Hello, thank you for calling!") -> bytes:
        record = conversation(ident, "2026-11-20T08:00:00Z")
        record["messages"][0]["text"] = text
        return json.dumps(record).encode() + b"\n"

    deep = conversation("deep", "2026-11-20T08:00:00Z")
    deep["extra"] = json.loads("[" * 200 + "]" * 200)
    lines = [
        line("line-good-1"),
        line("line-latin1").replace(b"Hello", "Dobr\u00fd den".encode("latin-1")),
        line("line-good-2"),
        line("line-surrogate", "Hello \ud83d"),  # json.dumps writes the lone half as \\ud83d
        json.dumps(deep).encode() + b"\n",
        b'{"id": "line-broken", "messages": [\n',
        line("line-good-3"),
    ]
    (HERE / "chats-lines.jsonl").write_bytes(b"".join(lines))
    interactions = [
        {
            "id": f"score-{n}",
            "channel": "chat",
            "agent_id": "a1",
            "turns": [{"speaker": "agent", "text": "Hello, thank you for contacting us!"}],
        }
        for n in range(3)
    ]
    broken = json.dumps(interactions[1]).replace("Hello", "Hello \\udc00")
    (HERE / "score-lines.jsonl").write_bytes(
        json.dumps(interactions[0]).encode()
        + b"\n"
        + json.dumps(interactions[1]).replace("Hello", "Dobr\u00fd").encode("latin-1")
        + b"\n"
        + broken.encode()
        + b"\n"
        + json.dumps(interactions[2]).encode()
        + b"\n"
    )


def mail(ident: str, sender: str, subject: str, charset: str, body: bytes, day: int = 20) -> bytes:
    return (
        (
            f"From {sender} Thu Nov {day} 09:00:00 2026\nFrom: {sender}\nTo: help@acme.example\n"
            f"Subject: {subject}\nMessage-ID: <{ident}>\nDate: Thu, {day} Nov 2026 09:00:00 +0000\n"
            f"MIME-Version: 1.0\nContent-Type: text/plain; charset={charset}\n"
            "Content-Transfer-Encoding: 8bit\n\n"
        ).encode()
        + body
        + b"\n\n"
    )


def write_mail() -> None:
    """Bodies whose declared charset lies, and two strangers' mails with one Message-ID."""
    czech = "Dobrý den, děkuji za rychlou odpověď, žluťoučký kůň."
    russian = "Здравствуйте, спасибо за быстрый ответ."
    (HERE / "mail-charsets.mbox").write_bytes(
        mail("cs-1@x.example", "petr@x.example", "a", "utf-8", czech.encode("cp1250"))
        + mail("cs-2@x.example", "eva@x.example", "b", "iso-8859-1", czech.encode("utf-8"))
        + mail("ru-1@x.example", "ivan@x.example", "c", "koi8-r", russian.encode("cp1251"))
        + mail("cs-3@x.example", "jan@x.example", "d", "windows-1250", czech.encode("cp1250"))
    )
    (HERE / "mail-shared-id.mbox").write_bytes(
        mail("same@broken.example", "anna@x.example", "Order 1", "utf-8", b"Where is order 1?")
        + mail("same@broken.example", "boris@y.example", "Invoice", "utf-8", b"Wrong invoice total.", 21)
        + mail("same@broken.example", "anna@x.example", "Order 1", "utf-8", b"Where is order 1?")  # a copy
    )


if __name__ == "__main__":
    main()
