"""PII redaction before anything is stored or scored: cards, IBANs, emails, national ids, phones.

Each find becomes a marker such as ``[CARD]``. Card numbers must pass the Luhn check, IBANs
the ISO 7064 mod-97 check and national ids (``[ID]``: Czech/Slovak birth numbers, Slovene
EMŠO, Lithuanian personal codes, Russian INN and SNILS) their check digits, so order
numbers and amounts stay readable; separators may be spaces, dots or dashes, in any case.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from stdnum import iban, luhn
from stdnum.cz import rc
from stdnum.lt import asmens
from stdnum.ru import inn
from stdnum.si import emso

from qa_pipeline.interactions import Interaction

EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# Separators people type inside long numbers: spaces, dots, dashes.
IBAN = re.compile(r"\b[A-Za-z]{2}\d{2}(?:[ .-]?[A-Za-z0-9]{4}){2,7}(?:[ .-]?[A-Za-z0-9]{1,4})?\b")
CARD = re.compile(r"(?<!\d)(?:\d[ .-]?){12,18}\d(?!\d)")
PHONE = re.compile(r"(?<![\w+])\+?\d[\d ().-]{7,}\d(?!\w)")
# National ids of our markets; each must also pass its check digits (python-stdnum).
BIRTH_NUMBER = re.compile(r"(?<![\d/])\d{6} ?/ ?\d{3,4}(?![\d/])|(?<!\d)\d{9,10}(?!\d)")  # CZ and SK
EMSO = re.compile(r"(?<!\d)\d{13}(?!\d)")  # Slovenia
ASMENS_KODAS = re.compile(r"(?<!\d)[1-6]\d{10}(?!\d)")  # Lithuania
INN = re.compile(r"(?<!\d)(?:\d{10}|\d{12})(?!\d)")  # Russia
SNILS = re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{3}[ -]?\d{2}(?!\d)")  # Russia
# A Russian passport number has no check digit: only with the word before it.
PASSPORT_RU = re.compile(r"(?i)(паспорт\w*\s*(?:№|n|номер)?\s*)(\d{2}\s?\d{2}\s?\d{6})(?!\d)")


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def luhn_ok(number: str) -> bool:
    """True when ``number`` passes the Luhn checksum used by payment cards."""
    return luhn.is_valid(number)


def iban_ok(candidate: str) -> bool:
    """True when ``candidate`` (any case, spaces, dots or dashes) is a valid IBAN."""
    return iban.is_valid(re.sub(r"[ .-]", "", candidate).upper())


def snils_ok(candidate: str) -> bool:
    """Russian SNILS: 9 digits and a two-digit check number (weights 9..1, mod 101)."""
    number = digits(candidate)
    if len(number) != 11:
        return False
    total = sum(int(d) * w for d, w in zip(number[:9], range(9, 0, -1), strict=True))
    check = total if total < 100 else 0 if total in (100, 101) else total % 101 % 100
    return check == int(number[9:])


def _iban_marker(match: re.Match[str]) -> str:
    """The longest valid IBAN at the start of the match, marked; the pattern may have run on
    into the next word ("CZ65 0800 ... 5399 please")."""
    found = match.group()
    for cut in [len(found), *(m.start() for m in reversed(list(re.finditer(r"[ .-]", found))))]:
        if iban_ok(found[:cut]):
            return "[IBAN]" + found[cut:]
    return found


def _sub(pattern: re.Pattern[str], marker: str, keep: Callable[[str], bool] = lambda s: True):
    def apply(text: str) -> str:
        return pattern.sub(lambda m: marker if keep(m.group()) else m.group(), text)

    return apply


_STEPS = [
    _sub(EMAIL, "[EMAIL]"),
    lambda text: IBAN.sub(_iban_marker, text),
    _sub(CARD, "[CARD]", lambda s: luhn_ok(digits(s))),
    lambda text: PASSPORT_RU.sub(lambda m: m.group(1) + "[ID]", text),
    _sub(EMSO, "[ID]", emso.is_valid),
    _sub(ASMENS_KODAS, "[ID]", asmens.is_valid),
    _sub(SNILS, "[ID]", snils_ok),
    _sub(BIRTH_NUMBER, "[ID]", lambda s: rc.is_valid(digits(s))),
    _sub(INN, "[ID]", inn.is_valid),
    # Phone numbers: 9 to 15 digits, so years, amounts and short order numbers stay.
    _sub(PHONE, "[PHONE]", lambda s: 9 <= len(digits(s)) <= 15),
]


def redact_text(text: str, extra: list[re.Pattern[str]] | None = None) -> str:
    """Return ``text`` with PII replaced by markers; ``extra`` patterns become ``[REDACTED]``."""
    for step in _STEPS:
        text = step(text)
    for pattern in extra or []:
        text = pattern.sub("[REDACTED]", text)
    return text


def redact_interaction(
    interaction: Interaction,
    extra: list[re.Pattern[str]] | None = None,
    key: Callable[[Any], str | None] | None = None,
) -> Interaction:
    """Return a copy with every turn's text (and an email subject) redacted.

    The source's customer identifier (``metadata["customer"]``) never survives: with ``key``
    (``customers.keyer``) it becomes ``customer_key``, a keyed hash; without, it is dropped.
    """
    turns = [t.model_copy(update={"text": redact_text(t.text, extra)}) for t in interaction.turns]
    metadata = dict(interaction.metadata)
    if "subject" in metadata:
        metadata["subject"] = redact_text(str(metadata["subject"]), extra)
    metadata.pop("from", None)
    for t in turns:
        t.metadata.pop("from", None)
    customer = metadata.pop("customer", None)
    update: dict[str, Any] = {"turns": turns, "metadata": metadata}
    if key is not None and customer is not None and not interaction.customer_key:
        update["customer_key"] = key(customer)
    return interaction.model_copy(update=update)
