"""qa score and qa ingest: files in, JSONL out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from qa_pipeline.cli._app import (
    ConfigOption,
    DeviceOption,
    ModelOption,
    OutOption,
    PathsArg,
    app,
    friendly,
    ingest_app,
    whisper_overrides,
)
from qa_pipeline.errors import QAError


@app.command()
@friendly
def score(
    source: Annotated[Path, typer.Argument(help="Interaction JSONL to score", exists=True, dir_okay=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Score JSONL to write")],
    rubric: Annotated[
        Path | None, typer.Option(help="rubric YAML for every interaction (default: routed by team/channel)")
    ] = None,
    redact: Annotated[bool, typer.Option(help="redact PII before scoring (evidence shows markers)")] = True,
    config: ConfigOption = None,
) -> None:
    """Score interactions from IN.jsonl into OUT.jsonl (the public Score contract).

    Bad lines are written to OUT.quarantine.jsonl with their reason, line number and a
    redacted copy; the rest are scored.
    """
    from qa_pipeline.interactions import Interaction, iter_jsonl, write_jsonl
    from qa_pipeline.pipeline import redact_all, score_routed
    from qa_pipeline.redact import Redactor
    from qa_pipeline.rubric import load_rubric
    from qa_pipeline.settings import load_settings
    from qa_pipeline.sources import Quarantined

    settings = load_settings(config)
    if rubric is not None:
        load_rubric(rubric)  # fail early, before reading the input
        settings.routing, settings.rubric = [], rubric
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
        quarantine.write_text(
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
    typer.echo(
        f"read {len(good) + len(bad)} = scored {len(results)} + quarantined {len(bad)}; wrote {output}"
        + (f" and {quarantine}" if bad else "")
    )


@ingest_app.callback(invoke_without_command=True)
def _ingest_help() -> None:
    """Turn raw sources into Interaction JSONL: qa ingest calls|chats|emails PATH -o OUT.jsonl."""


def _ingest(
    kind: str,
    paths: list[Path],
    output: Path,
    config: Path | None,
    fmt: str | None,
    whisper: dict | None = None,
) -> None:
    from qa_pipeline.interactions import write_jsonl
    from qa_pipeline.pipeline import CHANNEL_READERS, prepare, read_channel
    from qa_pipeline.settings import load_settings

    settings = load_settings(config)
    if whisper:
        settings.whisper = settings.whisper.model_copy(update=whisper)
    if fmt:
        settings.chat_format = fmt
    result = read_channel(kind, CHANNEL_READERS[kind].find(paths), settings)
    clean, quarantined = prepare(result, settings)
    write_jsonl(output, clean)
    for q in quarantined:
        typer.echo(f"quarantined: {q.source}: {q.reason}", err=True)
    typer.echo(f"read {result.read} = ingested {len(clean)} + quarantined {len(quarantined)}; wrote {output}")


@ingest_app.command("calls")
@friendly
def ingest_calls_cmd(
    paths: PathsArg,
    output: OutOption,
    config: ConfigOption = None,
    model: ModelOption = None,
    device: DeviceOption = None,
) -> None:
    """Transcribe recordings (WAV, MP3, FLAC, OGG, M4A) with their manifest.csv into interactions."""
    _ingest("call", paths, output, config, None, whisper_overrides(model, device))


@ingest_app.command("chats")
@friendly
def ingest_chats_cmd(
    paths: PathsArg,
    output: OutOption,
    config: ConfigOption = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="chat export format (default: from settings)")
    ] = None,
) -> None:
    """Read chat export files (.json / .jsonl) into interactions."""
    _ingest("chat", paths, output, config, fmt)


@ingest_app.command("emails")
@friendly
def ingest_emails_cmd(paths: PathsArg, output: OutOption, config: ConfigOption = None) -> None:
    """Read mbox files or .eml folders into one interaction per thread."""
    _ingest("email", paths, output, config, None)
