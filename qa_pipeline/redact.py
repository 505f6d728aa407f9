"""PII redaction before anything is stored or scored: cards, IBANs, emails, phones.

Each find becomes a marker such as ``[CARD]``. Card numbers must pass the Luhn check
and IBANs the ISO 7064 mod-97 check, so order numbers and amounts stay readable.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from qa_pipeline.interactions import Interaction

EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
PHONE = re.compile(r"(?<![\w+])\+?\d[\d ().-]{7,}\d(?!\w)")


def luhn_ok(digits: str) -> bool:
    """True when ``digits`` passes the Luhn checksum used by payment cards."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def iban_ok(candidate: str) -> bool:
    """True when ``candidate`` passes the IBAN mod-97 check."""
    s = candidate.replace(" ", "")
    rearranged = s[4:] + s[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


def _sub(pattern: re.Pattern[str], marker: str, keep: Callable[[str], bool] = lambda s: True):
    def apply(text: str) -> str:
        return pattern.sub(lambda m: marker if keep(m.group()) else m.group(), text)

    return apply


_STEPS = [
    _sub(EMAIL, "[EMAIL]"),
    _sub(IBAN, "[IBAN]", iban_ok),
    _sub(CARD, "[CARD]", lambda s: luhn_ok(re.sub(r"\D", "", s))),
    # Phone numbers: 9 to 15 digits, so years, amounts and short order numbers stay.
    _sub(PHONE, "[PHONE]", lambda s: 9 <= len(re.sub(r"\D", "", s)) <= 15),
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
