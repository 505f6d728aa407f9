"""Mail (mbox files, .eml folders) -> email Interactions, one per thread.

Threads come from Message-ID / In-Reply-To / References. A message is the agent's
when its sender is a configured agent address or in a configured agent domain.
Quoted replies and signatures are cut before scoring.
"""

from __future__ import annotations

import email
import email.policy
import mailbox
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

from mailparser_reply import EmailReplyParser

from qa_pipeline.errors import InputError
from qa_pipeline.interactions import Interaction, Turn, content_hash, stable_id
from qa_pipeline.settings import Agent
from qa_pipeline.sources import IngestResult, Quarantined, email_readers
from qa_pipeline.sources.encodings import decode_bytes

# A line that introduces a quoted reply, in the languages we serve: "On ... wrote:", "Dne ...
# napsal(a):", "... napisala:", "... rašė:", "... написал(а):" (Apple Mail, Thunderbird), or
# any line with a date that ends in the quoted sender's address and a colon (Gmail in Russian
# writes "пн, 20 нояб. 2026 г. в 10:00, Ольга <olga@example.ru>:", with no verb at all).
QUOTE_HEADER = re.compile(
    r"^\s*(on\b.*\bwrote:|.*\b(wrote|napsal|napisal|написал)(a|а|\(a\)|\(а\))?:|.*\b(rašė|пишет):"
    r"|.*\d.*<[^<>\s@]+@[^<>\s]+>\s*:)\s*$",
    re.IGNORECASE,
)
# Outlook's header block above the quoted message, in the languages we serve (and German):
# "From:" / "Od:" / "Nuo:" / "От:" followed within three lines by its "Sent:" / "Odesláno:" /
# "Poslano:" / "Išsiųsta:" / "Отправлено:" (or a date) line.
OUTLOOK_FROM = re.compile(r"^\s*\*?(from|od|nuo|от|von)\s*:\*?\s*\S", re.IGNORECASE)
OUTLOOK_SENT = re.compile(
    r"^\s*\*?(sent|date|odesláno|datum|poslano|išsiųsta|data|отправлено|дата|gesendet)\s*:", re.IGNORECASE
)
# Languages whose reply headers mail-parser-reply knows and our customers' mail uses.
REPLY_PARSER_LANGUAGES = ("en", "cs", "de", "pl")
REPLY_PREFIX = re.compile(
    r"^\s*((re|fw|fwd|aw|wg|odp|odg|ats|sv|vs|ответ|отв)(\[\d+\])?\s*:\s*)+", re.IGNORECASE
)
FORWARD_MARKER = re.compile(
    r"^\s*-{2,}\s*(original message|forwarded message|původní zpráva|přeposlaná zpráva"
    r"|prvotno sporočilo|posredovano sporočilo|originalus laiškas|persiųstas laiškas"
    r"|исходное сообщение|пересылаемое сообщение)",
    re.IGNORECASE,
)


@dataclass
class Message:
    """One parsed mail message."""

    message_id: str
    parents: list[str]
    sender: str
    sender_name: str
    recipients: frozenset[str]
    subject: str
    date: datetime | None
    body: str
    language: str | None
    attachments: int
    source: str
    notes: list[str] = field(default_factory=list)  # read, but someone should know


# Not visible text, or (blockquote) the quoted history of an HTML reply.
SKIPPED_TAGS = {"style", "script", "head", "blockquote"}


class _TextFromHTML(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in SKIPPED_TAGS:
            self._skip += 1
        elif tag in {"br", "p", "div", "tr", "li", "h1", "h2", "h3", "table"}:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED_TAGS and self._skip:
            self._skip -= 1
        elif tag in {"p", "div"}:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Visible text of an HTML body, with block elements as line breaks."""
    parser = _TextFromHTML()
    parser.feed(html)
    return re.sub(r"\n\s*\n+", "\n\n", "".join(parser.parts)).strip()


@lru_cache(maxsize=1)
def _reply_parser() -> EmailReplyParser:
    return EmailReplyParser(languages=list(REPLY_PARSER_LANGUAGES))


def new_text(body: str) -> str:
    """The text the sender wrote in this message: quoted history and signature block removed.

    mail-parser-reply finds where quoted history starts (reply headers in the languages
    it knows); its ``full_body`` is used because its ``body`` also drops sign-offs such
    as "Thank you," or "Děkuji," - the very sentences the thanks criterion scores. Our
    own rules then cover the languages it lacks (sl, lt, ru), ``>`` lines and "-- ".
    """
    replies = _reply_parser().read(body).replies if body.strip() else []
    if not replies:
        return strip_quotes_and_signature(body)
    parts = [replies[0].full_body]
    for reply in replies[1:]:  # a sentence that starts "Od:" is the sender's own text
        if not _lone_from_line(reply.headers):
            break
        parts.append(reply.content)
    return strip_quotes_and_signature("\n".join(parts))


def _lone_from_line(headers: str) -> bool:
    """Whether the header lines mail-parser-reply cut at are a sentence, not a header:
    "Od: pondělí nefunguje internet." opens with the Czech "From:" but names no address
    and has no Sent or Date line after it."""
    lines = [line for line in headers.splitlines() if line.strip()]
    return bool(
        lines
        and OUTLOOK_FROM.match(lines[0])
        and "@" not in headers
        and not any(OUTLOOK_SENT.match(line) for line in lines[1:])
    )


def strip_quotes_and_signature(text: str) -> str:
    """Return the new text of a reply: without quoted lines, quoted history or signature."""
    kept: list[str] = []
    lines = text.splitlines()
    for n, line in enumerate(lines):
        if line.rstrip() == "--":  # the standard signature separator "-- "
            break
        if QUOTE_HEADER.match(line) or FORWARD_MARKER.match(line) or _outlook_block(lines, n):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def _outlook_block(lines: list[str], n: int) -> bool:
    """Whether line ``n`` opens an Outlook header block: a From line whose Sent line follows
    within the next three non-empty lines (a lone "Od: ..." in the text is not one)."""
    if not OUTLOOK_FROM.match(lines[n]):
        return False
    following = [line for line in lines[n + 1 : n + 8] if line.strip()][:3]
    return any(OUTLOOK_SENT.match(line) for line in following)


def _body(message: EmailMessage) -> tuple[str, int, str | None]:
    """Return the best text body, the number of attachments, and a note on its charset."""
    attachments = sum(1 for _ in message.iter_attachments()) if message.is_multipart() else 0
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return "", attachments, None
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return "", attachments, None
    content, note = decode_bytes(payload, part.get_content_charset())
    if part.get_content_subtype() == "html":
        content = html_to_text(content)
    return content, attachments, note


def parse_message(message: EmailMessage, source: str) -> Message:
    """Parse one mail message; raise InputError when it is unusable (no sender, mangled headers)."""
    try:
        return _parse_message(message, source)
    except InputError:
        raise
    except (AttributeError, ValueError, TypeError, IndexError, LookupError) as exc:
        # The standard library's header parser fails in these ways on mangled headers.
        raise InputError(f"malformed message headers ({type(exc).__name__}: {exc})", source=source) from exc


def _parse_message(message: EmailMessage, source: str) -> Message:
    _, sender = parseaddr(str(message.get("From", "")))
    if "@" not in sender:
        raise InputError(
            "message has no valid From address", source=source, record=str(message.get("Subject", ""))[:500]
        )
    body, attachments, charset_note = _body(message)
    text = new_text(body)
    message_id = str(message.get("Message-ID", "")).strip()
    if not message_id:
        message_id = "<" + content_hash(sender, str(message.get("Date", "")), body) + "@no-message-id>"
    parents = str(message.get("References", "")).split() + str(message.get("In-Reply-To", "")).split()
    try:
        date = parsedate_to_datetime(str(message["Date"])) if message.get("Date") else None
    except (TypeError, ValueError):
        date = None
    return Message(
        message_id=message_id,
        parents=[p for p in parents if p != message_id],
        sender=sender.lower(),
        sender_name=parseaddr(str(message.get("From", "")))[0],
        recipients=frozenset(
            a.lower() for _, a in getaddresses([str(message.get(h, "")) for h in ("To", "Cc")]) if a
        ),
        subject=str(message.get("Subject", "")),
        date=date,
        body=text,
        language=(str(message.get("Content-Language", "")).split(",")[0].strip()[:2].lower() or None),
        attachments=attachments,
        source=source,
        notes=[charset_note] if charset_note else [],
    )


def distinct_ids(messages: list[Message]) -> list[Message]:
    """One message per Message-ID. The same mail found twice (Sent and Inbox) is kept once;
    a different mail that reuses an id (a broken mailer) gets an id of its own, so it is
    never merged into a stranger's thread."""
    seen: dict[str, Message] = {}
    kept = []
    for m in messages:
        first = seen.setdefault(m.message_id, m)
        if first is m:
            kept.append(m)
        elif (first.sender, first.date, first.body) != (m.sender, m.date, m.body):
            own = f"{m.message_id}#{content_hash(m.sender, str(m.date), m.body, length=12)}"
            kept.append(replace(m, message_id=own, parents=[p for p in m.parents if p != m.message_id]))
    return kept


def base_subject(subject: str) -> str:
    """A subject without reply/forward prefixes, lower-case: what a thread's messages share."""
    return REPLY_PREFIX.sub("", subject).strip().lower()


def thread_messages(
    messages: list[Message], ours: Callable[[str], bool] = lambda address: False
) -> list[list[Message]]:
    """Group messages into threads by Message-ID links (subject as a fallback); each sorted by date.

    ``ours`` tells the contact centre's own addresses, which every thread shares and so
    never prove that two messages belong together.
    """
    parent = {m.message_id: m.message_id for m in messages}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for m in messages:
        for ref in m.parents:
            if ref in parent:
                parent[find(m.message_id)] = find(ref)
    # Fallback for clients that drop the headers: a reply ("Re:", "Odp:", "Ответ:" ...)
    # with no known parent joins the latest earlier message with the same subject and a
    # shared participant.
    # Near-linear: the latest earlier message per (subject, participant), not a scan back.
    order = lambda m: (m.date.timestamp() if m.date else 0.0, m.message_id)  # noqa: E731
    latest: dict[tuple[str, str], tuple[int, Message]] = {}
    for n, m in enumerate(sorted(messages, key=order)):
        subject = base_subject(m.subject)
        if REPLY_PREFIX.match(m.subject) and not any(ref in parent for ref in m.parents):
            people = {a for a in (m.sender, *m.recipients) if not ours(a)}
            found = [latest[(subject, p)] for p in people if (subject, p) in latest]
            if found:
                match = max(found, key=lambda pair: pair[0])[1]
                parent[find(m.message_id)] = find(match.message_id)
        for address in (m.sender, *m.recipients):
            latest[(subject, address)] = (n, m)
    groups: dict[str, list[Message]] = {}
    for m in messages:
        groups.setdefault(find(m.message_id), []).append(m)
    return sorted((sorted(g, key=order) for g in groups.values()), key=lambda g: order(g[0]))


class AgentDirectory:
    """Decides whether a sender is an agent, and which one."""

    def __init__(self, agents: Iterable[Agent] = (), domains: Iterable[str] = ()):
        self.by_email = {e.lower(): a for a in agents for e in a.emails}
        self.domains = {d.lower().lstrip("@") for d in domains}

    def lookup(self, address: str) -> Agent | None:
        if address in self.by_email:
            return self.by_email[address]
        domain = address.rsplit("@", 1)[-1]
        if domain in self.domains:
            # Not the address itself: it would reach scorecards and search unredacted.
            return Agent(id="unknown", name=f"unlisted agent at {domain}")
        return None


def thread_to_interaction(thread: list[Message], directory: AgentDirectory) -> Interaction:
    """One thread -> one email Interaction; its agent is the first agent who wrote."""
    turns, agent = [], None
    for m in thread:
        found = directory.lookup(m.sender)
        if found and agent is None:
            agent = found
        if m.body:
            turns.append(
                Turn(
                    speaker="agent" if found else "customer",
                    text=m.body,
                    at=m.date,
                    metadata={"message_id": m.message_id, "from": m.sender},
                )
            )
    if not turns:
        raise InputError("thread has no message with text", source=thread[0].source)
    root = thread[0]
    sender = next((t.metadata["from"] for t in turns if t.speaker == "customer"), None)
    return Interaction(
        id=stable_id("email", "mail", content_hash(root.message_id)),
        channel="email",
        agent_id=agent.id if agent else "unknown",
        agent_name=agent.name if agent else None,
        team=agent.team if agent and agent.team else None,
        language=next((m.language for m in thread if m.language), None),
        started_at=root.date,
        source=root.source,
        turns=turns,
        metadata={
            "subject": root.subject,
            "messages": len(thread),
            "attachments": sum(m.attachments for m in thread),
            **({"customer": {"email": sender}} if sender else {}),
            **({"warnings": notes} if (notes := [n for m in thread for n in m.notes]) else {}),
        },
    )


def _parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


@email_readers.register("mbox")
def read_mbox(path: Path) -> tuple[list[Message], list[Quarantined]]:
    """Parse all messages of one mbox file."""
    messages, bad = [], []
    try:
        box = mailbox.mbox(str(path), factory=None, create=False)
        keys = box.keys()
    except (OSError, mailbox.Error) as exc:
        raise InputError(f"cannot open mbox ({exc})", source=str(path)) from exc
    if not keys:
        raise InputError("no messages found: not an mbox file (no 'From ' separator lines)", source=str(path))
    for key in keys:
        source = f"{path}#{key}"
        try:
            messages.append(parse_message(_parse(box.get_bytes(key)), source))
        except InputError as exc:
            bad.append(Quarantined.from_error("email", exc, source))
    return messages, bad


@email_readers.register("eml")
def read_eml(path: Path) -> tuple[list[Message], list[Quarantined]]:
    """Parse one .eml file."""
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError("empty .eml file", source=str(path))
    return [parse_message(_parse(raw), str(path))], []


def ingest_emails(paths: list[Path], directory: AgentDirectory | None = None) -> IngestResult:
    """Read mbox / .eml files (or folders of them) into one interaction per thread."""
    directory = directory or AgentDirectory()
    result = IngestResult()
    messages: list[Message] = []
    files = [
        p for path in paths for p in (sorted(path.rglob("*")) if path.is_dir() else [path]) if p.is_file()
    ]
    for path in files:
        suffix = path.suffix.lower().lstrip(".")
        reader = email_readers.get(suffix if suffix in email_readers.names() else "mbox")
        try:
            found, bad = reader(path)
        except InputError as exc:
            result.quarantined.append(Quarantined.from_error("email", exc, str(path)))
            continue
        messages += found
        result.quarantined += bad
    for thread in thread_messages(
        distinct_ids(messages), lambda address: directory.lookup(address) is not None
    ):
        try:
            result.interactions.append(thread_to_interaction(thread, directory))
        except InputError as exc:
            result.quarantined.append(Quarantined.from_error("email", exc))
    return result
