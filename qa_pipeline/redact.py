"""PII redaction before anything is stored or scored: cards, IBANs, emails, national ids, phones.

Each find becomes a marker such as ``[CARD]``. Card numbers must pass the Luhn check, IBANs
the ISO 7064 mod-97 check and national ids (``[ID]``: Czech/Slovak birth numbers, Slovene
EMŠO, Lithuanian personal codes, Russian INN and SNILS) their check digits, so order
numbers and amounts stay readable; separators may be spaces, dots or dashes, in any case.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import regex
from stdnum import iban, luhn
from stdnum.cz import rc
from stdnum.lt import asmens
from stdnum.ru import inn
from stdnum.si import emso

from qa_pipeline.contracts import Quarantined
from qa_pipeline.errors import InputError
from qa_pipeline.interactions import Interaction
from qa_pipeline.patterns import TIME_LIMIT_S

PSEUDONYM_LENGTH = 10  # hex characters of the keyed hash in a pseudonym

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


class Pattern(Protocol):
    """A compiled user pattern: ``re`` or ``regex`` (whose ``sub`` takes a ``timeout``)."""

    def sub(self, repl: Any, string: str, *args: Any, **kwargs: Any) -> str: ...


Mark = Callable[[str, str], str]  # (kind, the matched value) -> what replaces it


def marker(kind: str, value: str) -> str:
    """The marker redacted text gets: ``[EMAIL]``, ``[CARD]``."""
    return f"[{kind}]"


def _iban_step(text: str, mark: Mark) -> str:
    """The longest valid IBAN at the start of each match, marked; the pattern may have run on
    into the next word ("CZ65 0800 ... 5399 please")."""

    def one(match: re.Match[str]) -> str:
        found = match.group()
        for cut in [len(found), *(m.start() for m in reversed(list(re.finditer(r"[ .-]", found))))]:
            if iban_ok(found[:cut]):
                return mark("IBAN", found[:cut]) + found[cut:]
        return found

    return IBAN.sub(one, text)


def _sub(pattern: re.Pattern[str], kind: str, keep: Callable[[str], bool] = lambda s: True):
    def apply(text: str, mark: Mark) -> str:
        return pattern.sub(lambda m: mark(kind, m.group()) if keep(m.group()) else m.group(), text)

    return apply


def _passport_step(text: str, mark: Mark) -> str:
    return PASSPORT_RU.sub(lambda m: m.group(1) + mark("ID", m.group(2)), text)


_STEPS: list[Callable[[str, Mark], str]] = [
    _sub(EMAIL, "EMAIL"),
    _iban_step,
    _sub(CARD, "CARD", lambda s: luhn_ok(digits(s))),
    _passport_step,
    _sub(EMSO, "ID", emso.is_valid),
    _sub(ASMENS_KODAS, "ID", asmens.is_valid),
    _sub(SNILS, "ID", snils_ok),
    _sub(BIRTH_NUMBER, "ID", lambda s: rc.is_valid(digits(s))),
    _sub(INN, "ID", inn.is_valid),
    # Phone numbers: 9 to 15 digits, so years, amounts and short order numbers stay.
    _sub(PHONE, "PHONE", lambda s: 9 <= len(digits(s)) <= 15),
]


def redact_text(text: str, extra: Sequence[Pattern] | None = None, mark: Mark = marker) -> str:
    """Return ``text`` with PII replaced by ``mark`` (``[EMAIL]``…); ``extra`` patterns by ``[REDACTED]``."""
    for step in _STEPS:
        text = step(text, mark)
    for pattern in extra or []:
        replace_with = lambda m: mark("REDACTED", m.group())  # noqa: E731
        if isinstance(pattern, regex.Pattern):
            text = pattern.sub(replace_with, text, timeout=TIME_LIMIT_S)
        else:
            text = pattern.sub(replace_with, text)
    return text


def redact_interaction(
    interaction: Interaction,
    extra: Sequence[Pattern] | None = None,
    key: Callable[[Any], str | None] | None = None,
) -> Interaction:
    """``Redactor(extra, customer_key=key).interaction(...)``: the turns, metadata and
    customer redacted, ids kept (no secret to key them with)."""
    return Redactor(tuple(extra or ()), customer_key=key).interaction(interaction)


@dataclass(frozen=True)
class Redactor:
    """Everything the pipeline writes or prints passes through one of these.

    ``text``: free text (turns, subjects, reasons, quarantined records) with markers such as
    ``[EMAIL]``. ``name``: identifiers (interaction ids, sources, file paths, Message-IDs)
    with each personal value replaced by a keyed pseudonym (``EMAIL-1f3a9c0b2e``): the
    same value always gives the same pseudonym under one installation's ``secret``, so ids
    stay unique and stable; without a secret, ids are left as they are. ``customer_key``
    (``customers.keyer``) turns the source's customer identifier into its keyed hash.
    """

    extra: tuple[Pattern, ...] = ()
    secret: bytes | None = None
    customer_key: Callable[[Any], str | None] | None = None

    def text(self, text: str) -> str:
        """``text`` with PII replaced by markers; a user pattern over its time limit raises InputError."""
        try:
            return redact_text(text, self.extra)
        except TimeoutError:
            raise InputError(
                f"a redact_patterns entry took more than {TIME_LIMIT_S:g} s on this text; "
                "simplify the pattern"
            ) from None

    def name(self, value: str) -> str:
        """An identifier with each personal value in it replaced by its keyed pseudonym."""
        if self.secret is None:
            return value
        try:
            return redact_text(value, self.extra, mark=self._pseudonym)
        except TimeoutError:
            return self._pseudonym("ID", value)

    def _pseudonym(self, kind: str, value: str) -> str:
        assert self.secret is not None
        digest = hmac.new(self.secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
        return f"{kind}-{digest[:PSEUDONYM_LENGTH]}"

    def deep(self, value: Any, name_keys: frozenset[str] = frozenset({"message_id"})) -> Any:
        """Every string inside lists and dicts redacted; values under ``name_keys`` as names."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.deep(v, name_keys) for v in value]
        if isinstance(value, dict):
            return {
                k: self.name(v) if k in name_keys and isinstance(v, str) else self.deep(v, name_keys)
                for k, v in value.items()
            }
        return value

    def interaction(self, interaction: Interaction, agents: frozenset[str] = frozenset()) -> Interaction:
        """A copy with the turns' text and the metadata redacted, ids and source as names.

        The source's customer identifier (``metadata["customer"]``) never survives: it becomes
        ``customer_key`` (with a ``customer_key`` function) or is dropped; so are senders.
        An agent configured in ``agents`` keeps its id and name as the QA lead wrote them.
        """
        configured = interaction.agent_id in agents
        metadata = dict(interaction.metadata)
        customer = metadata.pop("customer", None)
        metadata.pop("from", None)
        turns = [
            t.model_copy(
                update={
                    "text": self.text(t.text),
                    "metadata": self.deep({k: v for k, v in t.metadata.items() if k != "from"}),
                }
            )
            for t in interaction.turns
        ]
        update: dict[str, Any] = {
            "id": self.name(interaction.id),
            "source": self.name(interaction.source) if interaction.source else interaction.source,
            "agent_id": interaction.agent_id if configured else self.name(interaction.agent_id),
            "agent_name": (
                self.text(interaction.agent_name)
                if interaction.agent_name and not configured
                else interaction.agent_name
            ),
            "turns": turns,
            "metadata": self.deep(metadata),
        }
        if self.customer_key is not None and customer is not None and not interaction.customer_key:
            update["customer_key"] = self.customer_key(customer)
        return interaction.model_copy(update=update)

    def quarantined(self, item: Quarantined) -> Quarantined:
        """A quarantined input as it may be stored and shown: source as a name, reason and the
        copy of the record redacted; the pointer (source, position) to the original stays."""
        try:
            record = self.text(item.record) if item.record is not None else None
        except InputError:
            record = None  # a record our own patterns cannot finish on is not kept at all
        try:
            reason = self.text(item.reason)
        except InputError as exc:
            reason = exc.reason
        return replace(item, source=self.name(item.source), reason=reason, record=record)
