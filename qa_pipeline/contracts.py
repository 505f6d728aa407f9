"""The public data contracts (DESIGN.md): Interaction and Turn in, InteractionScore out;
Quarantined and IngestResult for what a reader could and could not use.

Plain pydantic models that import nothing else of qa-pipeline, so every module (store,
search, scorecards, a plugin in another package) can use them without loading spaCy,
Whisper or the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

Channel = Literal["call", "chat", "email"]
Speaker = Literal["agent", "customer", "bot", "unknown"]

# Limits on one input, so a hostile or broken export costs its own record, not the run.
MAX_TURN_CHARS = 100_000  # about 40 pages: no message is longer; a pasted mailbox is
MAX_TURNS = 5_000


def valid_unicode(text: str) -> str:
    """``text`` if it can be stored as UTF-8; a lone surrogate (broken ``\\ud83d`` escaping
    in an export) raises ValueError."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"text holds an unpaired surrogate {text[exc.start]!r} at character {exc.start}: "
            "the export's Unicode escaping is broken"
        ) from None
    return text


class Turn(BaseModel):
    """One utterance or message. Calls give ``start``/``end`` seconds; chats and emails ``at``."""

    speaker: Speaker
    text: str
    start: float | None = None
    end: float | None = None
    at: datetime | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("text")
    @classmethod
    def _usable_text(cls, text: str) -> str:
        if len(text) > MAX_TURN_CHARS:
            raise ValueError(f"a turn of {len(text):,} characters is over the limit of {MAX_TURN_CHARS:,}")
        return valid_unicode(text)


class Interaction(BaseModel):
    """One call, chat or email thread between an agent and a customer."""

    id: str
    channel: Channel
    agent_id: str = "unknown"
    agent_name: str | None = None
    team: str | None = None
    language: str | None = None
    started_at: datetime | None = None
    source: str | None = None
    # Keyed hash of the customer's address, number or id (qa_pipeline.customers): repeat
    # contacts and first-contact resolution. Never the identifier itself.
    customer_key: str | None = None
    turns: list[Turn] = Field(max_length=MAX_TURNS)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id", "source", "agent_id", "agent_name", "team")
    @classmethod
    def _usable_name(cls, value: str | None) -> str | None:
        return valid_unicode(value) if value is not None else None

    def agent_turns(self) -> list[tuple[int, Turn]]:
        """Return (index, turn) for the agent's turns."""
        return [(i, t) for i, t in enumerate(self.turns) if t.speaker == "agent"]

    def text(self) -> str:
        """All turn texts joined: what language detection and search read."""
        return "\n".join(t.text for t in self.turns)


# Results are built from data validated where it entered (Interaction, Rubric), so scoring
# constructs them with model_construct: validating each object again cost a third of
# rules-only scoring time (benchmarks/bench_scoring.py).


class Evidence(BaseModel):
    """Where a criterion was decided: a sentence of one turn, by character offsets."""

    turn: int
    start: int
    end: int
    text: str
    match: str | None = None
    # customer: the customer's own words on the outcome (rubric ``customer_outcome``);
    # cue: a supervisor cue phrase behind an escalation or upset-customer flag;
    # topic: the sentence that made a topic-conditional criterion apply (rubric ``applies_when``)
    kind: Literal["phrase", "negative", "na", "model", "customer", "cue", "topic"] = "phrase"


class CriterionResult(BaseModel):
    result: Literal["pass", "fail", "na"]
    score: float | None
    confidence: float
    method: Literal["rule", "model"] = "rule"
    evidence: list[Evidence] = Field(default_factory=list)
    reason: str | None = None
    # Set when a QA lead accepted a dispute: the machine's own result, and the dispute's number.
    original: Literal["pass", "fail", "na"] | None = None
    dispute: int | None = None


class Flag(BaseModel):
    code: str
    criterion: str | None = None
    reason: str
    evidence: list[Evidence] = Field(default_factory=list)


# Every flag code scoring raises, in plain words (pages, search filters, alerts).
FLAG_LABELS = {
    "critical_fail": "a critical criterion failed",
    "negative_language": "negative language by the agent",
    "no_agent_turns": "the agent never spoke",
    "low_transcription_confidence": "the transcript is unreliable",
    "long_silence": "a long silence",
    "escalation": "the customer asked to escalate",
    "customer_upset_at_end": "the customer was still upset at the end",
    "low_score": "the score is under the team's threshold",
}


class InteractionScore(BaseModel):
    """One line of the Score contract."""

    interaction_id: str
    agent_id: str
    channel: str
    rubric: str
    model: str = "rules-only"
    language: str | None = None
    score: float
    criteria: dict[str, CriterionResult]
    flags: list[Flag] = Field(default_factory=list)


@dataclass(frozen=True)
class Override:
    """An accepted dispute: the result a QA lead decided for one criterion of an interaction."""

    criterion: str
    result: str
    dispute_id: int
    decided_by: str


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
    def from_error(cls, channel: str, error: Any, source: str = "") -> Quarantined:
        """From an ``errors.InputError`` (its reason, source, record copy and position)."""
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
