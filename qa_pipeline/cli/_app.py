"""The Typer app of ``qa``, its command groups and shared options; the commands live in the
modules beside this one, one per group, and register themselves on these objects."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
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
db_app = typer.Typer(
    help="The results database: schema revision, migrations, and the day totals.", no_args_is_help=True
)
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


def store_for(config: Path | None) -> Any:
    """The results database the configuration names (``store.Store``), migrated on first use."""
    from qa_pipeline.settings import load_settings
    from qa_pipeline.store import open_store

    return open_store(load_settings(config).database_url)


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


feedback_app = typer.Typer(help="Graders' corrections of machine results.", no_args_is_help=True)
app.add_typer(feedback_app, name="feedback")
corpus_app = typer.Typer(help="Public labelled corpora for training and evaluation.", no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")
surveys_app = typer.Typer(help="Survey responses: CSAT, NPS and CES.", no_args_is_help=True)
app.add_typer(surveys_app, name="surveys")
csat_app = typer.Typer(
    help="Customer-satisfaction ratings (qa surveys import --type csat).", no_args_is_help=True
)
app.add_typer(csat_app, name="csat")
users_app = typer.Typer(help="Accounts of the web app (qa serve).", no_args_is_help=True)
app.add_typer(users_app, name="users")


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


def main() -> None:
    """Console entry point."""
    # Offline machines: Prefect's analytics would try the network on every run.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # The temporary server's first start migrates its database; 20 s is too short on 2 cores.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    sys.exit(app())
