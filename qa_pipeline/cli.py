"""The ``qa`` command. Each command parses options, calls one library function, and
turns our exceptions into a one-line error (exit code 2)."""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from qa_pipeline.errors import QAError

app = typer.Typer(
    help="Score every customer interaction against a QA rubric.", no_args_is_help=True, add_completion=False
)
ingest_app = typer.Typer(help="Turn raw sources into Interaction JSONL.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
rubric_app = typer.Typer(help="Check and explain rubrics.", no_args_is_help=True)
app.add_typer(rubric_app, name="rubric")
db_app = typer.Typer(help="The results database: schema revision and migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _version(show: bool) -> None:
    if show:
        from qa_pipeline import __version__

        typer.echo(f"qa-pipeline {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="print the version and exit"),
    ] = False,
) -> None:
    """Score every customer interaction against a QA rubric."""


ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="qa.toml to read (default: ./qa.toml)")
]


def friendly(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a QAError into ``error: message`` on stderr and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except QAError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None

    return wrapper


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
    from qa_pipeline.pipeline import read_channel, redact_all
    from qa_pipeline.settings import load_settings

    settings = load_settings(config)
    if whisper:
        settings.whisper = settings.whisper.model_copy(update=whisper)
    if fmt:
        settings.chat_format = fmt
    if kind == "call":
        from qa_pipeline.sources.calls import find_recordings

        paths = find_recordings(paths)
    elif kind == "chat":
        paths = [p for path in paths for p in (sorted(path.glob("*.[jc][sv]*")) if path.is_dir() else [path])]
    result = read_channel(kind, paths, settings)
    redactor = settings.redactor()
    clean, unusable = redact_all(result.interactions, redactor, frozenset(a.id for a in settings.agents))
    write_jsonl(output, clean)
    for q in (redactor.quarantined(q) for q in result.quarantined + unusable):
        typer.echo(f"quarantined: {q.source}: {q.reason}", err=True)
    typer.echo(
        f"read {result.read} = ingested {len(clean)} + quarantined {len(result.quarantined) + len(unusable)};"
        f" wrote {output}"
    )


ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        help="tiny.en (bundled, English), base-multilingual (bundled), auto (tiny.en for English calls, "
        "base-multilingual for the rest), a model name or a folder",
    ),
]
DeviceOption = Annotated[str | None, typer.Option("--device", help="cpu, cuda or auto")]


def whisper_overrides(model: str | None, device: str | None) -> dict:
    """Whisper settings given on the command line (over qa.toml and QA_WHISPER__*)."""
    return {k: v for k, v in {"model": model, "device": device}.items() if v}


PathsArg = Annotated[list[Path], typer.Argument(help="files or folders", exists=True)]
OutOption = Annotated[Path, typer.Option("--output", "-o", help="Interaction JSONL to write")]


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


@rubric_app.command("validate")
@friendly
def rubric_validate(
    files: Annotated[list[Path], typer.Argument(help="rubric YAML files", dir_okay=False)],
) -> None:
    """Check rubric files; print each one's id, version and criteria, or the first error."""
    from qa_pipeline.rubric import load_rubric

    for path in files:
        rubric = load_rubric(path)
        langs = ", ".join(rubric.languages)
        typer.echo(f"ok: {path}: {rubric.ref}, {len(rubric.criteria)} criteria, languages {langs}")


@rubric_app.command("explain")
@friendly
def rubric_explain(file: Annotated[Path, typer.Argument(help="rubric YAML file", dir_okay=False)]) -> None:
    """Say in plain words what each criterion of a rubric looks for."""
    from qa_pipeline.rubric import explain_rubric, load_rubric

    typer.echo(explain_rubric(load_rubric(file)), nl=False)


@app.command()
@friendly
def nightly(
    night: Annotated[
        str | None, typer.Option("--date", help="night to run, YYYY-MM-DD (default: yesterday)")
    ] = None,
    config: ConfigOption = None,
    serve: Annotated[
        bool, typer.Option("--serve", help="serve as a scheduled Prefect deployment instead")
    ] = False,
    cron: Annotated[str, typer.Option(help="schedule for --serve")] = "0 2 * * *",
    timezone: Annotated[str | None, typer.Option(help="time zone of --cron, e.g. Europe/Prague")] = None,
    model: ModelOption = None,
    device: DeviceOption = None,
) -> None:
    """Run the whole nightly batch (the Prefect flow nightly_qa) and print the run summary."""
    from qa_pipeline.flows.nightly import run_nightly, serve_nightly
    from qa_pipeline.pipeline import RunSummary

    if serve:
        serve_nightly(config, cron, timezone)
        return
    try:
        the_night = date.fromisoformat(night) if night else None
    except ValueError:
        raise QAError(f"--date {night!r} is not a date; use YYYY-MM-DD") from None
    started = time.perf_counter()
    result = run_nightly(config, the_night, whisper_overrides(model, device))
    summary = RunSummary(
        channels=result["channels"],
        reasons=result["reasons"],
        notes=result.get("notes", []),
        warnings=result.get("warnings", []),
    )
    typer.echo(f"\nrun {result['run_id']} (night {result['night']}) in {time.perf_counter() - started:.1f}s")
    typer.echo(summary.render())
    typer.echo(f"\nscorecards: {Path(result['scorecards']).resolve()}")
    if "alert" in result:
        typer.echo(f"alert: {result['alert']}")
    if not summary.balanced:
        raise typer.Exit(1)


@app.command()
@friendly
def scorecards(
    config: ConfigOption = None,
    period: Annotated[str, typer.Option(help="day, week or month")] = "day",
    out: Annotated[Path | None, typer.Option(help="folder to write (default: DATA_DIR/scorecards)")] = None,
) -> None:
    """Write per-agent scorecards (CSV, Parquet, HTML) from the stored scores."""
    from qa_pipeline.scorecards import PERIODS, build_scorecards
    from qa_pipeline.settings import load_settings
    from qa_pipeline.store import connect

    if period not in PERIODS:
        raise QAError(f"--period must be one of {', '.join(PERIODS)}")
    settings = load_settings(config)
    files = build_scorecards(
        connect(settings.database_url),
        out or settings.scorecard_dir,
        period,
        fcr_window_days=settings.fcr_window_days,
    )
    typer.echo(
        f"{files.rows} agent-period rows, {len(files.agent_pages)} agent pages\n"
        f"overview: {files.index.resolve()}\ncsv: {files.csv}\nparquet: {files.parquet}"
    )


@app.command()
@friendly
def search(
    query: Annotated[
        str, typer.Argument(help='words (all must match), "a phrase", or word* for a prefix')
    ] = "",
    agent: Annotated[str | None, typer.Option(help="agent id")] = None,
    team: Annotated[str | None, typer.Option(help="team")] = None,
    channel: Annotated[str | None, typer.Option(help="call, chat or email")] = None,
    since: Annotated[str | None, typer.Option(help="from this date, YYYY-MM-DD")] = None,
    until: Annotated[str | None, typer.Option(help="before this date, YYYY-MM-DD")] = None,
    flag: Annotated[
        str | None, typer.Option(help="flag code, e.g. escalation, critical_fail, low_score")
    ] = None,
    failed: Annotated[str | None, typer.Option(help="criterion that failed, e.g. empathy")] = None,
    min_score: Annotated[float | None, typer.Option(help="lowest score")] = None,
    max_score: Annotated[float | None, typer.Option(help="highest score")] = None,
    limit: Annotated[int, typer.Option(help="most results")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="JSON for tools instead of a table")] = False,
    config: ConfigOption = None,
) -> None:
    """Search scored interactions by text and filters; best match first, with a snippet and flags."""
    from qa_pipeline.search import SearchFilters, search_interactions
    from qa_pipeline.search import as_json as hits_json
    from qa_pipeline.settings import load_settings
    from qa_pipeline.store import connect

    def day(value: str | None, option: str) -> datetime | None:
        try:
            return datetime.fromisoformat(value) if value else None
        except ValueError:
            raise QAError(f"--{option} {value!r} is not a date; use YYYY-MM-DD") from None

    filters = SearchFilters(
        agent=agent,
        team=team,
        channel=channel,
        since=day(since, "since"),
        until=day(until, "until"),
        flag=flag,
        failed=failed,
        min_score=min_score,
        max_score=max_score,
    )
    hits = search_interactions(connect(load_settings(config).database_url), query, filters, limit)
    if as_json:
        typer.echo(hits_json(hits))
        return
    if not hits:
        typer.echo("no interactions match")
        return
    for h in hits:
        score = f"{h.score:5.1f}" if h.score is not None else "    -"
        typer.echo(
            f"{score}  {h.started_at or '':16}  {h.channel:5}  {h.agent_name or h.agent_id:14.14}  "
            f"{h.interaction_id}  {' '.join(h.flags)}"
        )
        if h.snippet:
            typer.echo(f"       turn {h.turn}: {h.snippet}")


@app.command()
@friendly
def show(
    interaction_id: Annotated[str, typer.Argument(help="interaction id, e.g. chat:zendesk:48213")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON for tools instead of text")] = False,
    config: ConfigOption = None,
) -> None:
    """Show one interaction: its score, each criterion with the sentences behind it, first contact."""
    from qa_pipeline.review import describe, describe_json
    from qa_pipeline.settings import load_settings
    from qa_pipeline.store import connect

    settings = load_settings(config)
    engine = connect(settings.database_url)
    show_it = describe_json if as_json else describe
    typer.echo(show_it(engine, interaction_id, settings.fcr_window_days), nl=False)


@db_app.command("upgrade")
@friendly
def db_upgrade(config: ConfigOption = None) -> None:
    """Migrate the database in database_url to this version's schema (commands do it on start too)."""
    from qa_pipeline.migrations import current_revision
    from qa_pipeline.settings import load_settings
    from qa_pipeline.store import connect

    engine = connect(load_settings(config).database_url)
    typer.echo(
        f"{engine.url.render_as_string(hide_password=True)}: schema revision {current_revision(engine)}"
    )


@db_app.command("status")
@friendly
def db_status(config: ConfigOption = None) -> None:
    """Show the database's schema revision and the newest one, without changing anything."""
    from sqlalchemy import create_engine

    from qa_pipeline.migrations import current_revision, head_revision
    from qa_pipeline.settings import load_settings

    engine = create_engine(load_settings(config).database_url)
    current, head = current_revision(engine), head_revision()
    state = "up to date" if current == head else "needs `qa db upgrade`"
    typer.echo(
        f"{engine.url.render_as_string(hide_password=True)}: revision {current or 'none'}, "
        f"newest {head} ({state})"
    )


# Registers qa train / evaluate / feedback on ``app`` (kept apart: this module stays small).
from qa_pipeline import cli_model  # noqa: E402, F401


def main() -> None:
    """Console entry point."""
    # Offline machines: Prefect's analytics would try the network on every run.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # The temporary server's first start migrates its database; 20 s is too short on 2 cores.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    sys.exit(app())


if __name__ == "__main__":
    main()
