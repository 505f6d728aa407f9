"""The nightly QA batch as a Prefect flow: ingest calls, chats, emails -> score -> scorecards.

Tasks wrap the plain functions in ``qa_pipeline.pipeline`` and map over batches of
file paths or interaction ids, never single interactions (a Prefect task costs
milliseconds). The task runner comes from settings, so the same flow runs on threads
here or on a Dask cluster (``task_runner = "dask://host:8786"``, needs prefect-dask).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

from qa_pipeline.alerts import flag_summary, send_alert
from qa_pipeline.errors import ConfigError
from qa_pipeline.faults import checkpoint
from qa_pipeline.pipeline import (
    BatchReport,
    batches,
    chat_groups,
    discover,
    ingest_batch,
    pull_batch,
    quarantine_report,
    salvage,
    score_batch,
    summarise_reports,
    unmatched_sources,
)
from qa_pipeline.rubric import criterion_names
from qa_pipeline.scorecards import build_scorecards
from qa_pipeline.settings import PullSource, Settings, load_settings
from qa_pipeline.sources import Quarantined
from qa_pipeline.store import open_store


class TaskFailed(Exception):
    """A task's error with personal data redacted: Prefect logs and stores what a task raises."""


@contextmanager
def redacted_errors(settings: Settings) -> Iterator[None]:
    """Re-raise any error as TaskFailed with its message redacted and its chain cut (the
    original's message would reach Prefect's log table with the traceback)."""
    try:
        yield
    except Exception as exc:
        raise TaskFailed(settings.redactor().text(f"{type(exc).__name__}: {exc}")) from None


TRANSCRIPTION_TAG = "transcription"


@task(name="ingest", retries=2, retry_delay_seconds=5)
def ingest_task(
    channel: str,
    paths: list[str],
    settings: Settings,
    run_id: str,
    fmt: str | None = None,
    team: str | None = None,
) -> BatchReport:
    with redacted_errors(settings):
        return ingest_batch(channel, [Path(p) for p in paths], settings, run_id, fmt, team)


# No task retries: the Pager already retries 429/5xx with back-off; a retry here would
# only repeat the whole pull.
@task(name="pull")
def pull_task(source: PullSource, settings: Settings, run_id: str) -> tuple[BatchReport, str]:
    with redacted_errors(settings):
        report, started = pull_batch(source, settings, run_id)
    return report, started.isoformat()


def _settle_pull(
    future: Any, source: PullSource, settings: Settings, run_id: str
) -> tuple[BatchReport, str | None]:
    """A pull that failed after its retries is one quarantined source (in the quarantine table
    too); its watermark stays, so the next night pulls the same records again."""
    try:
        return future.result()
    except Exception as exc:
        failed = settings.redactor().quarantined(
            Quarantined("chat", f"pull {source.name} ({source.url})", f"{type(exc).__name__}: {exc}")
        )
        return quarantine_report("chat", [failed], open_store(settings.database_url), run_id, read=1), None


@task(name="score")
def score_task(channel: str, ids: list[str], settings: Settings, run_id: str) -> BatchReport:
    with redacted_errors(settings):
        return score_batch(channel, ids, settings, run_id)


@task(name="scorecards")
def scorecards_task(settings: Settings) -> str:
    with redacted_errors(settings):
        files = build_scorecards(
            open_store(settings.database_url),
            settings.scorecard_dir,
            fcr_window_days=settings.fcr_window_days,
            criteria=criterion_names(settings.rubric_paths()),
        )
    return str(files.index)


@task(name="alert", retries=1, retry_delay_seconds=3)
def _deliver(settings: Settings, run_id: str) -> dict[str, Any]:
    with redacted_errors(settings):
        summary = flag_summary(open_store(settings.database_url), run_id)
        send_alert(settings.alert_url or "", summary)
    return summary


def alert_task(settings: Settings, run_id: str) -> str:
    """Send the run's flag summary; an undeliverable alert is reported, never fails the run."""
    try:
        summary = _deliver(settings, run_id)
    except Exception as exc:
        return f"not sent: {exc}"
    return f"sent: {summary['flagged_interactions']} flagged interactions"


def _settle(
    future: Any, stage: str, channel: str, items: list[str], settings: Settings, run_id: str, *extra: Any
) -> BatchReport:
    """A batch whose task failed after its retries is done again item by item (``salvage``):
    only what fails alone is quarantined; the run goes on."""
    try:
        return future.result()
    except Exception as exc:  # the task's own error, already retried
        return salvage(stage, channel, items, exc, settings, run_id, *extra)


def default_night() -> date:
    """The night a run covers by default: yesterday (UTC)."""
    return (datetime.now(UTC) - timedelta(days=1)).date()


@flow(name="nightly_qa", log_prints=True)
def nightly_qa(
    night: str | None = None, config: str | None = None, whisper: dict | None = None
) -> dict[str, Any]:
    """Run the whole batch for one night; return the run summary (read = scored + quarantined)."""
    logger = get_run_logger()
    settings = load_settings(Path(config) if config else None)
    if whisper:
        settings.whisper = settings.whisper.model_copy(update=whisper)
    the_night = date.fromisoformat(night) if night else default_night()
    run_id = f"nightly-{the_night.isoformat()}-{uuid.uuid4().hex[:8]}"
    store = open_store(settings.database_url)
    interrupted = store.start_run(run_id, the_night.isoformat())
    checkpoint("run.started")
    if interrupted:
        logger.warning(
            "earlier runs killed before they finished, marked interrupted: %s", ", ".join(interrupted)
        )
    try:
        found = discover(settings, the_night)
        logger.info("inputs: %s", {c: len(p) for c, p in found.items()})
        empty = unmatched_sources(settings, the_night)
        for warning in empty:
            logger.warning(warning)
        # (channel, files, chat format, team). Mail threads can span files, so all mail
        # files of the night are one batch.
        plan: list[tuple[str, list[Path], str | None, str | None]] = [
            ("call", b, None, None) for b in batches(found["call"], settings.batch_size)
        ]
        plan += [
            ("chat", b, source.format, source.team)
            for source, paths in chat_groups(settings, the_night)
            for b in batches(paths, settings.batch_size)
        ]
        plan += [("email", found["email"], None, None)] if found["email"] else []
        ingest_futures = [
            (
                (channel, paths, fmt, team),
                ingest_task.with_options(
                    name=f"ingest-{channel}s",
                    retries=settings.ingest_retries,
                    # a tag concurrency limit on "transcription" bounds how many Whisper models
                    # load at once across every run and worker (prefect.yaml says how)
                    tags={TRANSCRIPTION_TAG} if channel == "call" else set(),
                ).submit(channel, [str(p) for p in paths], settings, run_id, fmt, team),
            )
            for channel, paths, fmt, team in plan
        ]
        pull_futures = [
            (source, pull_task.with_options(name=f"pull-{source.name}").submit(source, settings, run_id))
            for source in settings.sources.pulls
        ]
        ingested = [
            _settle(f, "ingest", c, [str(p) for p in paths], settings, run_id, fmt, team)
            for (c, paths, fmt, team), f in ingest_futures
        ]
        pulled = [_settle_pull(f, source, settings, run_id) for source, f in pull_futures]
        ingested += [report for report, _ in pulled]
        score_futures = [
            (r.channel, ids, score_task.submit(r.channel, ids, settings, run_id))
            for r in ingested
            for ids in batches(r.ids, settings.score_batch_size)
        ]
        checkpoint("run.ingested")
        scored = [_settle(f, "score", c, ids, settings, run_id) for c, ids, f in score_futures]
        checkpoint("run.scored")
        summary = summarise_reports(ingested + scored)
        summary.warnings = empty
        index = scorecards_task(settings)
        # Only now, with everything stored and scored, do the pulled sources' watermarks move.
        for (source, _), (_, started) in zip(pull_futures, pulled, strict=True):
            if started:
                store.set_watermark(source.name, datetime.fromisoformat(started), run_id)
    except Exception as exc:
        store.finish_run(
            run_id, "failed", {"error": settings.redactor().text(f"{type(exc).__name__}: {exc}")}
        )
        raise
    result = {"run_id": run_id, "night": the_night.isoformat(), **summary.as_dict(), "scorecards": index}
    if settings.alert_url:
        result["alert"] = alert_task(settings, run_id)
    checkpoint("run.before_finish")
    store.finish_run(run_id, "ok" if summary.balanced else "unbalanced", result)
    logger.info("run summary\n%s", summary.render(run_id))
    return result


def task_runner_for(settings: Settings) -> Any:
    """The task runner named in settings: threads (default), local processes or a Dask cluster."""
    if settings.task_runner == "threads":
        return ThreadPoolTaskRunner(max_workers=settings.max_workers)
    if settings.task_runner == "processes":
        # Scoring is mostly pure Python under one GIL: threads use one core, processes all
        # of them (each process loads its own models once). On 2 cores it did not pay
        # (benchmarks/dask_results.md): it is for bigger machines.
        return ProcessPoolTaskRunner(max_workers=settings.max_workers)
    if settings.task_runner.startswith("dask"):
        try:
            from prefect_dask import DaskTaskRunner
        except ImportError:
            raise ConfigError("task_runner 'dask' needs prefect-dask: pip install prefect-dask") from None
        address = settings.task_runner.removeprefix("dask").removeprefix("://") or None
        return DaskTaskRunner(address=f"tcp://{address}" if address else None)
    raise ConfigError(
        f"unknown task_runner '{settings.task_runner}'; use 'threads', 'processes' or 'dask://HOST:PORT'"
    )


def run_nightly(
    config: Path | None, night: date | None, whisper: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Run the flow with the task runner from settings; return its summary.

    ``whisper`` overrides Whisper settings for this run (e.g. ``{"model": "base-multilingual"}``).
    """
    settings = load_settings(config)
    configured = nightly_qa.with_options(task_runner=task_runner_for(settings))
    return configured(
        night=night.isoformat() if night else None,
        config=str(config) if config else None,
        whisper=whisper or None,
    )


def nightly_deployment(config: Path | None, cron: str, timezone: str | None = None) -> Any:
    """The scheduled deployment of nightly_qa: runs every night at ``cron`` with this config."""
    from prefect.schedules import Cron

    return nightly_qa.to_deployment(
        name="nightly",
        schedule=Cron(cron, timezone=timezone) if timezone else Cron(cron),
        parameters={"config": str(config.resolve()) if config else None},
    )


def serve_nightly(config: Path | None, cron: str, timezone: str | None = None) -> None:
    """Serve the deployment until stopped (needs a Prefect server: ``prefect server start``)."""
    from prefect import serve

    serve(nightly_deployment(config, cron, timezone))
