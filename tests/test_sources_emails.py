import pytest

from qa_pipeline.settings import Agent
from qa_pipeline.sources.emails import AgentDirectory, ingest_emails, strip_quotes_and_signature

DIRECTORY = AgentDirectory(
    [Agent(id="a17", name="Sarah K.", team="billing", emails=["sarah.k@acme.example"])], ["acme.example"]
)


@pytest.fixture
def result(data):
    return ingest_emails([data / "emails" / "thread.mbox"], DIRECTORY)


def test_threads_from_message_ids_in_date_order(result):
    refund = next(i for i in result.interactions if i.metadata["subject"] == "Refund")
    assert [t.speaker for t in refund.turns] == ["customer", "agent", "customer"]
    assert refund.agent_id == "a17" and refund.team == "billing"
    assert refund.metadata["messages"] == 3


def test_quotes_and_signature_are_cut(result):
    refund = next(i for i in result.interactions if i.metadata["subject"] == "Refund")
    reply = refund.turns[1].text
    assert "I have issued the refund." in reply
    assert "Where is my refund" not in reply and "+44" not in reply and "wrote:" not in reply
    assert refund.turns[2].text == "Thanks!"


def test_html_only_reply_and_agent_by_domain(result):
    thread = next(i for i in result.interactions if i.metadata["subject"] == "Dotaz")
    agent_turn = thread.turns[1]
    assert agent_turn.speaker == "agent" and thread.agent_id == "unknown"
    assert thread.agent_name and "@" not in thread.agent_name  # never the sender's address
    assert "omlouváme se, technik přijde zítra." in agent_turn.text
    assert "<p>" not in agent_turn.text and ".x{}" not in agent_turn.text and "napsal" not in agent_turn.text


def test_unknown_charset_is_decoded(result):
    lt = next(i for i in result.interactions if i.metadata["subject"] == "tarifas")
    assert lt.turns[0].text == "Laba diena, kokį planą turiu?"


def test_bad_message_and_non_mbox_file_are_quarantined(data):
    result = ingest_emails([data / "emails"], DIRECTORY)
    reasons = sorted(q.reason for q in result.quarantined)
    assert any("no valid From" in r for r in reasons)
    assert any("not an mbox file" in r for r in reasons)
    assert len(result.interactions) == 3


@pytest.mark.parametrize(
    ("body", "kept"),
    [
        ("Hello\n\nOn Mon, 1 Jan 2026, Bob <b@x.y> wrote:\n> hi", "Hello"),
        ("Dobrý den\n\nDne 20.11.2026 Jan napsal:\n> text", "Dobrý den"),
        ("Здравствуйте\n\n20.11.2026 Ольга пишет:\n> текст", "Здравствуйте"),
        ("Ok\n-- \nTom, Acme", "Ok"),
        ("Ok\n-----Original Message-----\nFrom: x", "Ok"),
    ],
)
def test_strip_quotes_in_several_languages(body, kept):
    assert strip_quotes_and_signature(body) == kept


@pytest.mark.parametrize(
    ("body", "kept", "gone"),
    [
        (
            "Dear Jane,\n\nI have issued the refund.\n\nThank you,\nSarah\n-- \nSarah K. | Acme\n\n"
            "On Fri, 20 Nov 2026 at 08:00, Jane <jane@example.org> wrote:\n> Where is my refund?\n",
            ["I have issued the refund.", "Thank you,"],
            ["Where is my refund", "Acme"],
        ),
        (
            "Dobrý den,\nfakturu jsem poslala.\n\nDěkuji,\nPetra\n\nDne po 20. 11. 2026 v 8:00 Jan Novák <jan@example.cz> napsal(a):\n> Kde je faktura?\n",
            ["fakturu jsem poslala", "Děkuji,"],
            ["Kde je faktura"],
        ),
        (
            "Hi,\nsee below.\n\nFrom: Bob <bob@example.net>\nSent: Friday\nTo: support@acme.example\nSubject: Invoice\n\nold text\n",
            ["see below."],
            ["old text"],
        ),
        (
            "Pozdravljeni,\nračun sem popravila.\n\nHvala,\nMaja\n\nV pet., 20. nov. 2026 je Luka napisal:\n> napačen račun\n",
            ["račun sem popravila", "Hvala,"],
            ["napačen račun"],
        ),
        (  # Outlook in Lithuanian
            "Laba diena,\nvis dar neveikia.\n\nAčiū,\nJonas\n\nNuo: Pagalba <pagalba@acme.example>\n"
            "Išsiųsta: 2026 m. lapkričio 20 d. 10:00\nKam: Jonas <jonas@example.lt>\nTema: RE: užsakymas\n\nsena žinutė\n",
            ["vis dar neveikia", "Ačiū,"],
            ["sena žinutė", "Nuo:"],
        ),
        (  # Outlook in Russian
            "Здравствуйте,\nвсё ещё не работает.\n\nСпасибо,\nОльга\n\nОт: Поддержка <help@acme.example>\n"
            "Отправлено: 20 ноября 2026 г. 10:00\nКому: Ольга <olga@example.ru>\nТема: RE: заказ\n\nстарый текст\n",
            ["всё ещё не работает", "Спасибо,"],
            ["старый текст", "От:"],
        ),
        (  # Gmail in Russian: no verb, only the date and the address
            "Спасибо, всё пришло.\n\nпн, 20 нояб. 2026 г. в 10:00, Поддержка <help@acme.example>:\n\nстарый текст\n",
            ["Спасибо, всё пришло."],
            ["старый текст", "нояб."],
        ),
        (  # Apple Mail / Thunderbird in Russian
            "Спасибо!\n\n20 нояб. 2026 г., в 10:00, Поддержка <help@acme.example> написал(а):\n\nстарый текст\n",
            ["Спасибо!"],
            ["старый текст"],
        ),
        (  # Gmail's forward in Russian
            "Пересылаю.\n\n---------- Пересылаемое сообщение ---------\nОт: Поддержка <help@acme.example>\nстарый текст\n",
            ["Пересылаю."],
            ["старый текст"],
        ),
        (  # an address with a colon but no date is the customer's own text, as is a lone "From:"
            "Write to us at <help@acme.example>:\nwe answer fast.\nFrom: Monday on it fails.\nThanks\n",
            ["we answer fast.", "From: Monday on it fails.", "Thanks"],
            [],
        ),
        (  # mail-parser-reply's Czech rules take a sentence opening "Od:" for a header: it stays
            "Dobrý den,\nOd: pondělí nefunguje internet.\nDěkuji, Jana\n",
            ["Od: pondělí nefunguje internet.", "Děkuji, Jana"],
            [],
        ),
        (  # ... and the real header block below it is still cut
            "Dobrý den,\nOd: pondělí nefunguje internet.\nDěkuji, Jana\n\nOd: Podpora <podpora@acme.example>\n"
            "Odesláno: pondělí 20. listopadu 2026 10:00\nKomu: jana@example.cz\nPředmět: RE: internet\n\nstarý text\n",
            ["Od: pondělí nefunguje internet.", "Děkuji, Jana"],
            ["starý text", "Odesláno"],
        ),
    ],
)
def test_new_text_keeps_the_reply_and_its_sign_off(body, kept, gone):
    from qa_pipeline.sources.emails import new_text

    text = new_text(body)
    assert all(k in text for k in kept), text
    assert not any(g in text for g in gone), text


def test_non_ascii_separator_attachments_and_eml_folders(data):
    result = ingest_emails([data / "emails-odd"], DIRECTORY)
    assert not result.quarantined
    by_subject = {i.metadata["subject"]: i for i in result.interactions}
    claim = by_subject["Reklamace"]  # the mbox whose first "From " line has a non-ASCII address
    assert [t.speaker for t in claim.turns] == ["customer", "agent"]
    assert claim.metadata["attachments"] == 1 and "PNG" not in claim.turns[0].text
    assert "Děkujeme," in claim.turns[1].text
    olga = by_subject["Счёт"]  # an .eml with an HTML-only KOI8-R body
    assert olga.turns[0].text == "Здравствуйте! Счёт неверный."


def _mail(sender: str, to: str, subject: str, minute: int, mid: str, irt: str = "") -> bytes:
    headers = f"From: {sender}\nTo: {to}\nSubject: {subject}\nDate: Fri, 20 Nov 2026 10:{minute:02d}:00 +0000\nMessage-ID: <{mid}>\n"
    if irt:
        headers += f"In-Reply-To: <{irt}>\n"
    return (headers + "Content-Type: text/plain; charset=utf-8\n\nHello, text " + mid + "\n").encode()


def test_subject_fallback_joins_replies_without_headers_only_between_participants(tmp_path):
    folder = tmp_path / "eml"
    folder.mkdir()
    mails = {
        "1.eml": _mail("jan@example.cz", "podpora@acme.example", "Faktura za říjen", 1, "a@x"),
        "2.eml": _mail(
            "petra.s@acme.example", "jan@example.cz", "Odp: Faktura za říjen", 5, "b@x"
        ),  # no In-Reply-To
        "3.eml": _mail(
            "eva@example.cz", "podpora@acme.example", "Re: Faktura za říjen", 7, "c@x"
        ),  # other customer
        "4.eml": _mail("ivan@example.ru", "support@acme.example", "Счёт", 8, "d@x"),
        "5.eml": _mail("ivan.r@acme.example", "ivan@example.ru", "Ответ: Счёт", 9, "e@x"),
    }
    for name, raw in mails.items():
        (folder / name).write_bytes(raw)
    result = ingest_emails([folder], DIRECTORY)
    sizes = sorted(len(i.turns) for i in result.interactions)
    assert sizes == [1, 2, 2]  # Jan + Petra, Ivan + his reply; Eva's "Re:" stays alone


def test_a_message_with_mangled_headers_is_quarantined_not_fatal(tmp_path):
    folder = tmp_path / "eml"
    folder.mkdir()
    (folder / "bad.eml").write_bytes(
        b"From: a@x.cz\\nTo: b@y.cz, Group: ;\\nSubject: x\\n\\nbody"
    )  # all on one line
    (folder / "good.eml").write_bytes(_mail("jan@example.cz", "podpora@acme.example", "Dotaz", 1, "g@x"))
    result = ingest_emails([folder], DIRECTORY)
    assert len(result.interactions) == 1
    assert len(result.quarantined) == 1 and "bad.eml" in result.quarantined[0].source
