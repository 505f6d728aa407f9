"""Raw sources -> Interactions. Built-in formats register here exactly as a user's would.

A chat reader takes a path and returns an :class:`IngestResult`. Register one with
``@chat_formats.register("name")`` in a module ``registrations.py`` lists, or as an entry
point in the group ``qa_pipeline.chat_formats`` from another package; ``qa ingest chats
--format name`` then finds it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from qa_pipeline.errors import InputError
from qa_pipeline.interactions import Interaction
from qa_pipeline.registry import Registry

RECORD_COPY_CHARS = 10_000  # of a bad record kept in the quarantine


def storable(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, unpaired surrogates replaced by U+FFFD."""
    return text[:limit].encode("utf-8", errors="surrogatepass").decode("utf-8", errors="replace")


@dataclass
class Quarantined:
    """An input that could not be used, and why.

    ``source`` and ``position`` point at the original (the file, and the line, record or
    message number in it); ``record`` is a copy of the bad record, redacted before storing.
    """

    channel: str
    source: str
    reason: str
    record: str | None = None
    position: int | None = None

    def __post_init__(self) -> None:
        # What is kept must be storable: bounded, and valid UTF-8 (no lone surrogates).
        self.source, self.reason = storable(self.source, 2_000), storable(self.reason, 2_000)
        self.record = storable(self.record, RECORD_COPY_CHARS) if self.record is not None else None

    @classmethod
    def from_error(cls, channel: str, error: InputError, source: str = "") -> Quarantined:
        return cls(
            channel=channel,
            source=error.source or source,
            reason=error.reason,
            record=error.record,
            position=error.position,
        )


@dataclass
class IngestResult:
    """What one ingest produced: good interactions and quarantined inputs, never silently fewer."""

    interactions: list[Interaction] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)

    @property
    def read(self) -> int:
        return len(self.interactions) + len(self.quarantined)

    def extend(self, other: IngestResult) -> None:
        self.interactions.extend(other.interactions)
        self.quarantined.extend(other.quarantined)


chat_formats: Registry[Callable[..., IngestResult]] = Registry("chat format", "qa_pipeline.chat_formats")
email_readers: Registry[Callable[..., tuple[list, list[Quarantined]]]] = Registry(
    "email reader", "qa_pipeline.email_readers"
)
