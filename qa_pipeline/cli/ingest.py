"""qa score and qa ingest: files in, JSONL out."""

from __future__ import annotations

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
    from qa_pipeline.pipeline import score_file
    from qa_pipeline.rubric import load_rubric
    from qa_pipeline.settings import load_settings

    settings = load_settings(config)
    if rubric is not None:
        load_rubric(rubric)  # fail early, before reading the input
        settings.routing, settings.rubric = [], rubric
    done = score_file(source, output, settings, redact)
    typer.echo(
        f"read {done.read} = scored {done.scored} + quarantined {done.quarantined}; wrote {output}"
        + (f" and {done.quarantine_file}" if done.quarantined else "")
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
    from qa_pipeline.pipeline import ingest_files
    from qa_pipeline.settings import load_settings

    settings = load_settings(config)
    if whisper:
        settings.whisper = settings.whisper.model_copy(update=whisper)
    if fmt:
        settings.chat_format = fmt
    read, clean, quarantined = ingest_files(kind, paths, output, settings)
    for q in quarantined:
        typer.echo(f"quarantined: {q.source}: {q.reason}", err=True)
    typer.echo(f"read {read} = ingested {clean} + quarantined {len(quarantined)}; wrote {output}")


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
