import pytest

from qa_pipeline.interactions import Interaction, Turn
from qa_pipeline.redact import iban_ok, luhn_ok, redact_interaction, redact_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my card is 4111 1111 1111 1111 thanks", "my card is [CARD] thanks"),
        ("card 5500-0000-0000-0004", "card [CARD]"),
        ("IBAN CZ65 0800 0000 1920 0014 5399 please", "IBAN [IBAN] please"),
        ("send it to GB33BUKB20201555555555", "send it to [IBAN]"),
        ("write to jan.novak@seznam.cz today", "write to [EMAIL] today"),
        ("call +420 601 123 456", "call [PHONE]"),
        ("моя почта olga.ivanova@mail.ru", "моя почта [EMAIL]"),
        ("card 4111.1111.1111.1111 ok", "card [CARD] ok"),
        ("iban cz65-0800-0000-1920-0014-5399", "iban [IBAN]"),
        ("rodné číslo 710319/2745 prosím", "rodné číslo [ID] prosím"),
        ("EMŠO 0101006500006", "EMŠO [ID]"),
        ("asmens kodas 33309240064", "asmens kodas [ID]"),
        ("ИНН 7707083893, СНИЛС 112-233-445 95", "ИНН [ID], СНИЛС [ID]"),
        ("паспорт 45 06 123456", "паспорт [ID]"),
    ],
)
def test_pii_is_replaced_by_a_marker(text, expected):
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "order 4111 1111 1111 1112 is late",  # fails Luhn: an order number, not a card
        "it costs 1250 CZK in 2026",
        "ticket number 88123",
        "IBAN CZ65 0800 0000 1920 0014 5398",  # fails mod-97
        "version 5.2.1 fixed it",
    ],
)
def test_numbers_that_are_not_pii_stay(text):
    assert redact_text(text) == text


@pytest.mark.parametrize("text", ["EMŠO 0101006500007", "СНИЛС 112-233-445 96", "rč 710319/2746"])
def test_wrong_check_digits_are_no_national_id(text):
    assert "[ID]" not in redact_text(text)  # (a long number may still be taken for a phone)


def test_checksums():
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("GB33BUKB20201555555555") and not iban_ok("GB34BUKB20201555555555")


def test_interaction_redaction_covers_every_turn_and_subject():
    item = Interaction(
        id="email:m:1",
        channel="email",
        metadata={"subject": "card 4111111111111111"},
        turns=[Turn(speaker="customer", text="mail me at a@b.cz", metadata={"from": "a@b.cz"})],
    )
    clean = redact_interaction(item)
    assert clean.turns[0].text == "mail me at [EMAIL]"
    assert clean.metadata["subject"] == "card [CARD]"
    assert "from" not in clean.turns[0].metadata
    assert item.turns[0].text == "mail me at a@b.cz"  # the original is untouched


def test_configured_patterns_are_redacted_and_bad_ones_refused(tmp_path):
    from qa_pipeline.errors import ConfigError
    from qa_pipeline.settings import load_settings

    config = tmp_path / "qa.toml"
    config.write_text('redact_patterns = ["\\\\bCUST-\\\\d{6}\\\\b"]\n', encoding="utf-8")
    extra = load_settings(config).compiled_redactions()
    assert (
        redact_text("customer CUST-123456 called, CUST-12 did not", extra)
        == "customer [REDACTED] called, CUST-12 did not"
    )
    config.write_text('redact_patterns = ["(unclosed"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="redact_patterns"):
        load_settings(config)
