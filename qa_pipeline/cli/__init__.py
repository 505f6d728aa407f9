"""The ``qa`` command. Each command parses options, calls one library function, and turns
our exceptions into a one-line error (exit code 2). ``_app`` holds the Typer app and the
options the groups share; each module beside it is one command group."""

from qa_pipeline.cli import ingest, runs, rubric, db, model, web  # noqa: F401, I001  (register their commands, in --help order)
from qa_pipeline.cli._app import app, friendly, main

__all__ = ["app", "friendly", "main"]
