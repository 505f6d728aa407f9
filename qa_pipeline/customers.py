"""Who the customer is, without keeping who the customer is: keyed hashes for repeat contacts.

A source names the customer the way its system does (an email address, a phone number, a
help-desk user id) in ``metadata["customer"]``. Redaction turns that into
``Interaction.customer_key``, an HMAC-SHA256 of the normalised identifier under this
installation's secret, and drops the raw value, so no address or number is stored. The same
customer gives the same key on every run and channel (when identified the same way); without
the secret a key cannot be tested against a guessed address.

First-contact resolution reads those keys: a contact from the same customer within
``fcr_window_days`` after an interaction means that interaction did not resolve the matter
at first contact (see ``store.link_repeat_contacts``).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import secrets
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import phonenumbers

from qa_pipeline.errors import ConfigError

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE_CHARS = re.compile(r"\+?[\d ()./-]{6,}")
KEY_LENGTH = 32  # hex characters (128 bits): plenty for one centre's customers
SECRET_FILE = "customer-key.secret"
# The order in which identifiers are preferred when a source gives several.
KINDS = ("email", "phone", "id")


def normalise_phone(value: str, region: str | None) -> str | None:
    """E.164 form of a phone number (``+420603123456``); national numbers need ``region``."""
    if not PHONE_CHARS.fullmatch(value.strip()):
        return None
    value = value.strip()
    if value.startswith("00"):  # the international prefix of Europe and Russia (ITU-T E.164)
        value = "+" + value[2:]
    try:
        parsed = phonenumbers.parse(value, region.upper() if region else None)
    except phonenumbers.NumberParseException:
        digits = re.sub(r"\D", "", value)
        return f"digits:{digits.lstrip('0')}" if 7 <= len(digits) <= 15 else None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def identifier(customer: Any, region: str | None = None) -> str | None:
    """The normalised identifier of a source's customer field, or None if it names nobody.

    ``customer`` is a dict with any of ``email``, ``phone`` and ``id`` (a system-qualified id
    such as ``zendesk:3901``), or a plain string: an address, a number, or an id.
    """
    if isinstance(customer, str):
        text = customer.strip()
        if EMAIL.fullmatch(text):
            customer = {"email": text}
        elif normalise_phone(text, region):
            customer = {"phone": text}
        else:
            customer = {"id": text}
    if not isinstance(customer, dict):
        return None
    for kind in KINDS:
        value = str(customer.get(kind) or "").strip()
        if not value:
            continue
        if kind == "email" and EMAIL.fullmatch(value):
            return f"email:{value.lower()}"
        if kind == "phone" and (phone := normalise_phone(value, region)):
            return f"phone:{phone}"
        if kind == "id":
            return f"id:{value}"
    return None


def customer_key(customer: Any, secret: bytes, region: str | None = None) -> str | None:
    """The keyed hash of a customer identifier (see ``identifier``), or None."""
    ident = identifier(customer, region)
    if ident is None:
        return None
    return hmac.new(secret, ident.encode("utf-8"), hashlib.sha256).hexdigest()[:KEY_LENGTH]


def keyer(secret: bytes, region: str | None = None) -> Callable[[Any], str | None]:
    """``customer_key`` with the secret and phone region bound: what redaction calls."""
    return lambda customer: customer_key(customer, secret, region)


def load_secret(configured: str | None, data_dir: Path) -> bytes:
    """The installation's key secret: the configured one, else one kept in ``data_dir``.

    A missing file is created once (random, readable by its owner only). Losing or changing the
    secret only means earlier contacts no longer match later ones.
    """
    if configured:
        return configured.encode("utf-8")
    path = data_dir / SECRET_FILE
    if not path.exists():
        _make_secret(path)
    try:
        value = path.read_text(encoding="ascii").strip()
    except OSError as exc:
        raise ConfigError(
            f"cannot read the customer key secret {path} ({exc.strerror}); "
            "set QA_CUSTOMER_KEY_SECRET or fix the file's permissions"
        ) from exc
    if len(value) < 32:
        raise ConfigError(f"{path} holds no usable secret; delete it to make a new one")
    return value.encode("ascii")


def _make_secret(path: Path) -> None:
    """Write a new random secret to ``path`` whole or not at all: written to a file of its own,
    then linked into place, which fails if another thread or process got there first. (An
    empty file created first and written after let a concurrent reader find no secret.)"""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, scratch = tempfile.mkstemp(dir=path.parent, prefix=".secret-")  # readable by its owner only
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32))
        with contextlib.suppress(FileExistsError):  # another made it first: theirs is kept
            os.link(scratch, path)
    finally:
        os.unlink(scratch)


def days(seconds: float) -> str:
    """A gap in words: '5 hours', '2.5 days'."""
    hours = seconds / 3600
    return f"{hours:.0f} hours" if hours < 48 else f"{hours / 24:.1f} days"


def first_contact(
    started_at: datetime | None,
    customer_key: str | None,
    repeat: dict[str, Any] | None,
    horizon: datetime | None,
    window_days: float,
) -> tuple[str | None, str]:
    """First-contact resolution of one interaction, and the sentence that explains it.

    ``repeat``: its row in ``repeat_contacts`` (``repeat_id``, ``repeat_channel``, ``gap_s``);
    ``horizon``: the newest contact stored. Results: ``no`` (the customer came back within
    the window), ``yes`` (the window has passed, as far as the stored data reaches, without a
    repeat), ``pending`` (the window is still open), None (no customer key or no start time).
    """
    if repeat is not None:
        return "no", (
            f"not resolved at first contact: the same customer came back {days(repeat['gap_s'])} later"
            f" ({repeat.get('repeat_channel') or 'contact'} {repeat['repeat_id']}),"
            f" within the {window_days:g}-day window"
        )
    if customer_key is None or started_at is None:
        return None, "first-contact resolution unknown: the source names no customer"
    if horizon is not None and (horizon - started_at).total_seconds() >= window_days * 86_400:
        return (
            "yes",
            f"resolved at first contact: no contact from the same customer within {window_days:g} days",
        )
    return "pending", f"first-contact resolution pending: the {window_days:g}-day window is still open"
