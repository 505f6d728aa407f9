"""The nightly run and what it leaves: qa nightly, qa runs, qa quarantine, qa scorecards, qa search,
qa show."""

from __future__ import annotations

import time
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer

from qa_pipeline.cli._app import (
    ConfigOption,
    DeviceOption,
    ModelOption,
    app,
    friendly,
    whisper_overrides,
)
from qa_pipeline.errors import QAError


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
    typer.echo(summary.render(result["run_id"]))
    typer.echo(f"\nscorecards: {Path(result['scorecards']).resolve()}")
    if "alert" in result:
        typer.echo(f"alert: {result['alert']}")
    if not summary.balanced:
        raise typer.Exit(1)


@app.command()
@friendly
def runs(
    limit: Annotated[int, typer.Option(help="how many of the newest runs")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="JSON for tools instead of a table")] = False,
    config: ConfigOption = None,
) -> None:
    """List the newest runs: night, start, status (ok, unbalanced, failed, interrupted, running)
    and read = scored + quarantined."""
    from qa_pipeline.review import describe_runs, runs_json
    from qa_pipeline.settings import load_settings
    from qa_pipeline.store import open_store

    store = open_store(load_settings(config).database_url)
    typer.echo((runs_json if as_json else describe_runs)(store, limit), nl=False)


@app.command()
@friendly
def quarantine(
    run: Annotated[
        str, typer.Option(help="run id (qa runs lists them), latest, or all: every run's quarantined inputs")
    ] = "latest",
    channel: Annotated[str | None, typer.Option(help="call, chat or email")] = None,
    reason: Annotated[str | None, typer.Option(help="only reasons containing this text, e.g. empty")] = None,
    limit: Annotated[int, typer.Option(help="most inputs listed (0: all); the counts cover all")] = 50,
    records: Annotated[bool, typer.Option("--records", help="also print each input's redacted copy")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON for tools instead of text")] = False,
    config: ConfigOption = None,
) -> None:
    """List quarantined inputs and why: counts per reason, then each file or record with its
    position, for the latest run by default. Fix the input and run the night again."""
    from qa_pipeline.pipeline import CHANNELS
    from qa_pipeline.review import describe_quarantine, quarantine_json, run_scope
    from qa_pipeline.settings import load_settings
    from qa_pipeline.store import open_store

    if channel is not None and channel not in CHANNELS:
        raise QAError(f"--channel {channel!r} is not a channel; use one of {', '.join(CHANNELS)}")
    if limit < 0:
        raise QAError("--limit must be 0 (all) or more")
    store = open_store(load_settings(config).database_url)
    run_id = run_scope(store, run)
    listing = store.quarantined(run_id, channel, reason, limit or None)
    typer.echo(
        quarantine_json(listing) if as_json else describe_quarantine(listing, run_id, records), nl=False
    )


@app.command()
@friendly
def scorecards(
    config: ConfigOption = None,
    period: Annotated[str, typer.Option(help="day, week or month")] = "day",
    out: Annotated[Path | None, typer.Option(help="folder to write (default: DATA_DIR/scorecards)")] = None,
) -> None:
    """Write per-agent scorecards (CSV, Parquet, HTML) from the stored scores."""
    from qa_pipeline.rubric import criterion_names
    from qa_pipeline.scorecards import PERIODS, build_scorecards
    from qa_pipeline.settings import load_settings
    from qa_pipeline.store import open_store

    if period not in PERIODS:
        raise QAError(f"--period must be one of {', '.join(PERIODS)}")
    settings = load_settings(config)
    files = build_scorecards(
        open_store(settings.database_url),
        out or settings.scorecard_dir,
        period,
        fcr_window_days=settings.fcr_window_days,
        criteria=criterion_names(settings.rubric_paths()),
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
        str | None, typer.Option(help="flag code, e.g. escalation, critical_fail, low_score; any: any flag")
    ] = None,
    failed: Annotated[str | None, typer.Option(help="criterion that failed, e.g. empathy")] = None,
    min_score: Annotated[float | None, typer.Option(help="lowest score")] = None,
    max_score: Annotated[float | None, typer.Option(help="highest score")] = None,
    limit: Annotated[int, typer.Option(help="most results")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="JSON for tools instead of a table")] = False,
    config: ConfigOption = None,
) -> None:
    """Search scored interactions by text and filters; best match first, with a snippet and flags."""
    from qa_pipeline.contracts import FLAG_LABELS
    from qa_pipeline.rubric import criterion_names
    from qa_pipeline.search import SearchFilters, check_filters
    from qa_pipeline.search import as_json as hits_json
    from qa_pipeline.settings import load_settings
    from qa_pipeline.store import open_store

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
    settings = load_settings(config)
    store = open_store(settings.database_url)
    criteria = list(criterion_names(settings.rubric_paths()))
    problems = check_filters(filters, store.known_values(), criteria, list(FLAG_LABELS))
    if problems:
        raise QAError("; ".join(problems))
    hits = store.search(query, filters, limit)
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
    from qa_pipeline.store import open_store

    settings = load_settings(config)
    show_it = describe_json if as_json else describe
    typer.echo(show_it(open_store(settings.database_url), interaction_id, settings.fcr_window_days), nl=False)
