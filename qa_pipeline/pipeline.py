"""The nightly batch as plain functions: discover, ingest, score, report.

Prefect flows (``flows/nightly.py``) only wire these together. Each function takes
and returns small things (file paths, ids, counts), so a task can run anywhere.
"""

from __future__ import annotations

import glob
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from qa_pipeline.classifier import load_classifier
from qa_pipeline.errors import InputError, QAError
from qa_pipeline.faults import checkpoint
from qa_pipeline.hybrid import uses_classifier
from qa_pipeline.interactions import Interaction, iter_jsonl, replacing, write_jsonl
from qa_pipeline.overrides import apply_overrides
from qa_pipeline.redact import Redactor
from qa_pipeline.rubric import cached_rubric
from qa_pipeline.rules import RuleEngine
from qa_pipeline.scoring import InteractionScore, score_interactions
from qa_pipeline.settings import ChatFiles, PullSource, Settings, WhisperSettings
from qa_pipeline.sources import IngestResult, Quarantined
from qa_pipeline.sources.calls import find_recordings, ingest_calls
from qa_pipeline.sources.chats import ingest_chats
from qa_pipeline.sources.emails import AgentDirectory, ingest_emails
from qa_pipeline.sources.pull import Pager, pull_source
from qa_pipeline.store import Store, open_store
from qa_pipeline.transcribe import Transcriber, make_transcriber

CHANNELS = ("call", "chat", "email")
T = TypeVar("T")


@dataclass
class BatchReport:
    """What one batch did: the ids it stored and how many inputs it read and quarantined."""

    channel: str
    ids: list[str] = field(default_factory=list)
    read: int = 0
    scored: int = 0
    quarantined: int = 0
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # scored, but someone should look

    def add(self, other: BatchReport) -> BatchReport:
        """This report with ``other``'s ids, counts, reasons and notes added."""
        self.ids += other.ids
        self.read += other.read
        self.scored += other.scored
        self.quarantined += other.quarantined
        self.reasons += other.reasons
        self.notes += other.notes
        return self


@dataclass
class RunSummary:
    """Per channel: read = scored + quarantined, or the run says where the gap is."""

    channels: dict[str, dict[str, int]]
    reasons: list[str]
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # about the run's set-up, e.g. empty sources

    @property
    def balanced(self) -> bool:
        return all(c["read"] == c["scored"] + c["quarantined"] for c in self.channels.values())

    def as_dict(self) -> dict[str, Any]:
        """The summary as the run record and the flow's result keep it: the first
        ``REASONS_KEPT`` quarantine reasons (the quarantine table has every one, with its
        input), every note and warning, and whether read = scored + quarantined."""
        return {**asdict(self), "reasons": self.reasons[: self.REASONS_KEPT], "balanced": self.balanced}

    # The summary names at most this many quarantined inputs: a night of thousands would bury
    # the table (and printing them cost 0.1 s per 2,500 in the flow); qa quarantine lists all.
    REASONS_SHOWN = 20
    # ... and the run record and the flow's result keep this many: a night of 1,000,000
    # chats could otherwise carry a JSON list of every bad one through Prefect into the runs table.
    REASONS_KEPT = 100

    def render(self, run_id: str | None = None) -> str:
        """The per-channel table, warnings, the first ``REASONS_SHOWN`` quarantined inputs
        (with how to list the rest) and the notes."""
        lines = [f"{'channel':<8} {'read':>6} {'scored':>7} {'quarantined':>12}"]
        totals = {"read": 0, "scored": 0, "quarantined": 0}
        for channel, c in self.channels.items():
            lines.append(f"{channel:<8} {c['read']:>6} {c['scored']:>7} {c['quarantined']:>12}")
            for k in totals:
                totals[k] += c[k]
        lines.append(f"{'total':<8} {totals['read']:>6} {totals['scored']:>7} {totals['quarantined']:>12}")
        if not self.balanced:
            lines.append("WARNING: read != scored + quarantined; see the run record in the database")
        lines += [f"WARNING: {w}" for w in self.warnings]
        shown = self.reasons[: self.REASONS_SHOWN]
        lines += [f"  quarantined: {r}" for r in shown]
        if totals["quarantined"] > len(shown):  # the reasons may have been cut (as_dict)
            lines.append(
                f"  ... {totals['quarantined'] - len(shown)} more quarantined, counted by reason: "
                f"qa quarantine --run {run_id or 'latest'}"
            )
        lines += [f"  note: {n}" for n in self.notes[: self.REASONS_SHOWN]]
        if len(self.notes) > self.REASONS_SHOWN:
            lines.append(
                f"  ... {len(self.notes) - self.REASONS_SHOWN} more notes: qa runs --json lists them"
            )
        return "\n".join(lines)


def summarise_reports(reports: list[BatchReport]) -> RunSummary:
    """Add up batch reports into one summary, per channel."""
    channels = {c: {"read": 0, "scored": 0, "quarantined": 0} for c in CHANNELS}
    reasons: list[str] = []
    notes: list[str] = []
    for r in reports:
        for key in ("read", "scored", "quarantined"):
            channels[r.channel][key] += getattr(r, key)
        reasons += r.reasons
        notes += r.notes
    return RunSummary(channels=channels, reasons=reasons, notes=notes)


def expand(patterns: list[str], night: date | None) -> list[Path]:
    """Paths matching the patterns (globs, ``{date}`` replaced by the night), sorted, unique."""
    found: set[Path] = set()
    for pattern in patterns:
        text = pattern.replace("{date}", night.isoformat()) if night else pattern
        matches = glob.glob(text, recursive=True) if glob.has_magic(text) else [text]
        found.update(Path(m) for m in matches if Path(m).exists())
    return sorted(found)


def unmatched_sources(settings: Settings, night: date | None) -> list[str]:
    """A warning for each configured source path or glob that finds no file for the night."""
    patterns = [
        *(("calls", p) for p in settings.sources.calls),
        *(("chats", c.path) for c in settings.sources.chat_files()),
        *(("emails", p) for p in settings.sources.emails),
    ]
    return [
        f"sources.{kind}: {pattern!r} matched no file"
        + (f" for {night.isoformat()}" if night and "{date}" in pattern else "")
        + " (relative paths in a config file are read from its folder)"
        for kind, pattern in patterns
        if not expand([pattern], night)
    ]


def discover(settings: Settings, night: date | None) -> dict[str, list[Path]]:
    """The night's inputs per channel: recordings, chat export files, mail files."""
    return {
        "call": find_recordings(expand(settings.sources.calls, night)),
        "chat": [p for _, paths in chat_groups(settings, night) for p in paths],
        "email": expand(settings.sources.emails, night),
    }


def chat_groups(settings: Settings, night: date | None) -> list[tuple[ChatFiles, list[Path]]]:
    """Each chat source with its files for the night (format and team travel with them)."""
    return [
        (source, [p for p in expand([source.path], night) if p.is_file()])
        for source in settings.sources.chat_files()
    ]


def batches(items: list[T], size: int) -> list[list[T]]:
    """Split a list into consecutive batches of at most ``size``."""
    return [items[i : i + size] for i in range(0, len(items), size)]


_transcribe_lock = threading.Lock()


@lru_cache(maxsize=4)
def _transcriber(whisper: WhisperSettings) -> Transcriber:
    return make_transcriber(whisper)


def _read_calls(paths: list[Path], settings: Settings, fmt: str | None) -> IngestResult:
    # One model per process and one batch of calls at a time; inside a batch,
    # whisper.workers calls run at once (more would only oversubscribe the cores).
    with _transcribe_lock:
        return ingest_calls(paths, _transcriber(settings.whisper), settings.agent_channel)


def _read_chats(paths: list[Path], settings: Settings, fmt: str | None) -> IngestResult:
    return ingest_chats(paths, fmt or settings.chat_format, settings)


def _read_emails(paths: list[Path], settings: Settings, fmt: str | None) -> IngestResult:
    return ingest_emails(paths, AgentDirectory(settings.agents, settings.agent_domains))


def _chat_files(paths: list[Path]) -> list[Path]:
    return [p for path in paths for p in (sorted(path.glob("*.[jc][sv]*")) if path.is_dir() else [path])]


@dataclass(frozen=True)
class Channel:
    """How one channel's inputs are found among given paths (files or folders) and read.

    ``read(paths, settings, fmt)``: the channel's reader over the files (``fmt``: the chat
    format; the readers behind it are plug-ins: chat formats, mail readers, transcribers)."""

    find: Callable[[list[Path]], list[Path]]
    read: Callable[[list[Path], Settings, str | None], IngestResult]


CHANNEL_READERS: dict[str, Channel] = {
    "call": Channel(find_recordings, _read_calls),
    "chat": Channel(_chat_files, _read_chats),
    "email": Channel(list, _read_emails),  # ingest_emails walks folders itself
}


def read_channel(channel: str, paths: list[Path], settings: Settings, fmt: str | None = None) -> IngestResult:
    """Run the channel's source reader over ``paths`` (chats: with format ``fmt``)."""
    return CHANNEL_READERS[channel].read(paths, settings, fmt)


def ingest_batch(
    channel: str,
    paths: list[Path],
    settings: Settings,
    run_id: str,
    fmt: str | None = None,
    team: str | None = None,
) -> BatchReport:
    """Read, redact and store one batch of source files; quarantine what cannot be used."""
    return store_result(channel, read_channel(channel, paths, settings, fmt), settings, run_id, team=team)


def ingest_files(
    channel: str, paths: list[Path], output: Path, settings: Settings
) -> tuple[int, int, list[Quarantined]]:
    """``qa ingest``: the channel's inputs among ``paths`` (files or folders) read, mapped and
    redacted as the nightly run does (``prepare``), and written to ``output`` as Interaction
    JSONL. Returns how many inputs were read, how many interactions written, and what was
    quarantined (redacted)."""
    result = read_channel(channel, CHANNEL_READERS[channel].find(paths), settings)
    clean, quarantined = prepare(result, settings)
    write_jsonl(output, clean)
    return result.read, len(clean), quarantined


@dataclass
class ScoredFile:
    """What ``score_file`` did: read = scored + quarantined."""

    read: int
    scored: int
    quarantined: int
    quarantine_file: Path


def score_file(source: Path, output: Path, settings: Settings, redact: bool = True) -> ScoredFile:
    """``qa score``: Interaction JSONL in, Score JSONL out, with the rubric each interaction is
    routed to. Bad lines go to OUTPUT.quarantine.jsonl with their line, reason and a copy
    (redacted unless ``redact`` is off, as is the text that is scored)."""
    good, bad = [], []
    redactor = settings.redactor() if redact else Redactor()
    for item in iter_jsonl(source, Interaction):
        if isinstance(item, QAError):
            bad.append(Quarantined.from_error("", item))
        else:
            good.append(item)
    if redact:
        good, unusable = redact_all(good, redactor, frozenset(a.id for a in settings.agents))
        bad += unusable
    results = score_routed(good, settings)
    write_jsonl(output, results)
    quarantine = output.with_suffix(".quarantine.jsonl")
    if bad:
        rows = [redactor.quarantined(q) if redact else q for q in bad]
        with replacing(quarantine) as temporary:
            temporary.write_text(
                "".join(
                    json.dumps(
                        {"source": q.source, "line": q.position, "reason": q.reason, "record": q.record},
                        ensure_ascii=False,
                    )
                    + "\n"
                    for q in rows
                ),
                encoding="utf-8",
            )
    else:
        quarantine.unlink(missing_ok=True)  # an earlier run's, which no longer describes this output
    return ScoredFile(len(good) + len(bad), len(results), len(bad), quarantine)


def store_result(
    channel: str, result: IngestResult, settings: Settings, run_id: str, team: str | None = None
) -> BatchReport:
    """Map agents, redact and store what a reader produced; record what it quarantined."""
    checkpoint("ingest.read")
    clean, quarantined = prepare(result, settings, team)
    store = open_store(settings.database_url)
    clean, duplicates = drop_duplicates(clean, store.stored_in_run([i.id for i in clean], run_id))
    quarantined += duplicates
    store.save_interactions(clean, run_id, fcr_window_days=settings.fcr_window_days)
    checkpoint("ingest.stored")
    store.save_quarantined(quarantined, run_id)
    checkpoint("ingest.quarantined")
    return BatchReport(
        channel=channel,
        ids=[i.id for i in clean],
        read=result.read,
        quarantined=len(quarantined),
        notes=[unknown_agent_note(i) for i in clean if i.agent_id == "unknown"]
        + [f"[{i.channel}] {i.source}: {w}" for i in clean for w in i.metadata.get("warnings", [])],
        reasons=[_reason(q) for q in quarantined],
    )


def prepare(
    result: IngestResult, settings: Settings, team: str | None = None
) -> tuple[list[Interaction], list[Quarantined]]:
    """What a reader produced, made ready to store or write: help-desk aliases mapped to the
    configured agents, a source's team filled in, everything redacted (quarantined items too).
    The nightly run and ``qa ingest`` both go through here, so they give the same interactions."""
    agents = {key: a for a in settings.agents for key in (a.id, *a.aliases)}
    redactor = settings.redactor()
    clean, unusable = redact_all(
        (fill_agent(i, agents) for i in result.interactions),
        redactor,
        frozenset(a.id for a in settings.agents),
    )
    if team:
        clean = [i if i.team else i.model_copy(update={"team": team}) for i in clean]
    return clean, [redactor.quarantined(q) for q in result.quarantined + unusable]


def redact_all(
    items: Iterable[Interaction], redactor: Redactor, agents: frozenset[str] = frozenset()
) -> tuple[list[Interaction], list[Quarantined]]:
    """Each interaction redacted; one that redaction cannot finish (a user pattern over its
    time limit) is quarantined alone, with no copy of its text."""
    clean, unusable = [], []
    for item in items:
        try:
            clean.append(redactor.interaction(item, agents))
        except InputError as exc:
            unusable.append(Quarantined(item.channel, item.source or item.id, exc.reason))
    return clean, unusable


def drop_duplicates(
    items: list[Interaction], taken: dict[str, str | None]
) -> tuple[list[Interaction], list[Quarantined]]:
    """Keep the first record of each id; a later one with the same id (in this batch, or
    already stored by this run from another file) is quarantined, never silently overwritten.

    ``taken``: ids this run stored before, with their source. The same source again is a
    retried task re-reading its own file: that replaces, as any re-run does.
    """
    kept, dropped, seen = [], [], set()
    for item in items:
        if item.id in seen or (item.id in taken and taken[item.id] != item.source):
            dropped.append(
                Quarantined(
                    item.channel,
                    item.source or "",
                    f"duplicate id {item.id}: another record of this run has it (the first one was kept)",
                )
            )
            continue
        seen.add(item.id)
        kept.append(item)
    return kept, dropped


def pull_batch(
    source: PullSource, settings: Settings, run_id: str, pager: Pager | None = None
) -> tuple[BatchReport, datetime]:
    """Pull a source since its watermark, ingest what came, and return the report and the pull's start.

    The caller moves the watermark to that start only once the whole run succeeded, so a
    failed run pulls the same records again next night (stable ids keep them single).
    """
    store = open_store(settings.database_url)
    started = datetime.now(UTC)
    folder = settings.data_dir / "pulls" / source.name
    for left in folder.glob("*.jsonl"):  # a killed run's staging file: pulled again below
        left.unlink()
    staging = folder / f"{run_id}.jsonl"
    path, _ = pull_source(
        source.url,
        key=source.key,
        since_param=source.since_param,
        since=store.get_watermark(source.name),
        since_format=source.since_format,
        out=staging,
        token=settings.token(source),
        fmt=source.format,
        pager=pager or Pager(settings.token(source), retries=source.retries, backoff=source.backoff_s),
    )
    try:
        result = ingest_chats([path], source.format, settings)
        report = store_result("chat", result, settings, run_id, team=source.team)
    finally:
        # The raw records hold personal data; once stored redacted (quarantined ones with a
        # redacted copy and their record number) the staging copy goes.
        path.unlink(missing_ok=True)
    return report, started


def salvage(
    stage: str,
    channel: str,
    items: list[str],
    error: BaseException,
    settings: Settings,
    run_id: str,
    fmt: str | None = None,
    team: str | None = None,
) -> BatchReport:
    """After a batch task failed for good, process its items one by one, so only the items
    that fail alone are quarantined (with the error, redacted, in the quarantine table).

    ``stage``: ``ingest`` (items are files) or ``score`` (items are interaction ids).
    """
    redactor = settings.redactor()
    report = BatchReport(channel=channel)
    for item in items:
        try:
            if stage == "ingest":
                report.add(ingest_batch(channel, [Path(item)], settings, run_id, fmt, team))
            else:
                report.add(score_batch(channel, [item], settings, run_id))
        except Exception as exc:
            why = f"{stage} failed after retries and alone ({type(exc).__name__}: {exc}; the batch: {error})"
            lost = redactor.quarantined(Quarantined(channel, item, why[:1_000]))
            report.add(
                quarantine_report(
                    channel, [lost], open_store(settings.database_url), run_id, read=stage == "ingest"
                )
            )
    return report


def quarantine_report(
    channel: str, lost: list[Quarantined], store: Store, run_id: str, read: int = 0
) -> BatchReport:
    """Store quarantined items (already redacted) and report them: ``read`` counts the inputs
    they stand for that no other report counted yet."""
    store.save_quarantined(lost, run_id)
    return BatchReport(channel, read=read, quarantined=len(lost), reasons=[_reason(q) for q in lost])


def unknown_agent_note(interaction: Interaction) -> str:
    """Why an interaction has no agent, and how to give it one."""
    hints = {
        "call": "no manifest row, and the file name is not AGENTID_YYYYMMDDTHHMMSS_CALLID",
        "email": "no sender is a configured agent address or agent domain",
        "chat": "the export names no agent",
    }
    return f"[{interaction.channel}] {interaction.source}: agent unknown ({hints[interaction.channel]})"


def fill_agent(interaction: Interaction, agents: dict) -> Interaction:
    """Map a help-desk alias to the configured agent; take its name, and its team if the source has none."""
    agent = agents.get(interaction.agent_id)
    if agent is None:
        return interaction
    return interaction.model_copy(
        update={
            "agent_id": agent.id,  # a help-desk alias becomes the agent's own id
            "agent_name": agent.name or interaction.agent_name or None,
            "team": interaction.team or agent.team or None,
        }
    )


def _reason(q: Quarantined) -> str:
    return f"[{q.channel}] {q.source}: {q.reason}"


@lru_cache(maxsize=16)
def _engine_for(rubric_path: Path) -> RuleEngine:
    return RuleEngine(cached_rubric(rubric_path))


def score_routed(items: list[Interaction], settings: Settings) -> list[InteractionScore]:
    """Score each interaction with the rubric its team and channel are routed to; keep the order."""
    groups: dict[Path, list[int]] = {}
    for n, item in enumerate(items):
        groups.setdefault(settings.rubric_path(item.team, item.channel), []).append(n)
    results: list[InteractionScore | None] = [None] * len(items)
    for path, positions in groups.items():
        rubric = cached_rubric(path)
        classifier = load_classifier(settings.classifier) if uses_classifier(rubric) else None
        scored = score_interactions([items[n] for n in positions], rubric, _engine_for(path), classifier)
        for n, result in zip(positions, scored, strict=True):
            results[n] = result
    return [r for r in results if r is not None]


def with_overrides(
    results: list[InteractionScore], items: list[Interaction], settings: Settings, store: Store
) -> list[InteractionScore]:
    """Scores with the results QA leads decided in accepted disputes in place of the machine's:
    re-scoring an interaction never undoes a decision."""
    overrides = store.accepted_overrides([r.interaction_id for r in results])
    if not overrides:
        return results
    routed = {i.id: settings.rubric_path(i.team, i.channel) for i in items}
    return [
        apply_overrides(r, overrides[r.interaction_id], cached_rubric(routed[r.interaction_id]))
        if r.interaction_id in overrides
        else r
        for r in results
    ]


def score_batch(channel: str, ids: list[str], settings: Settings, run_id: str) -> BatchReport:
    """Score stored interactions by id with their routed rubrics, and store the scores."""
    store = open_store(settings.database_url)
    items = store.load_interactions(ids)
    report = BatchReport(channel=channel)
    missing = sorted(set(ids) - {i.id for i in items})
    if missing:
        lost = [Quarantined(channel, m, "stored interaction not found at scoring time") for m in missing]
        report.add(quarantine_report(channel, lost, store, run_id))
    results = with_overrides(score_routed(items, settings), items, settings, store)
    checkpoint("score.scored")
    store.save_scores(results, run_id)
    checkpoint("score.saved")
    report.scored = len(results)
    return report
