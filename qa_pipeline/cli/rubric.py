"""qa rubric validate | explain."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qa_pipeline.cli._app import (
    friendly,
    rubric_app,
)


@rubric_app.command("validate")
@friendly
def rubric_validate(
    files: Annotated[list[Path], typer.Argument(help="rubric YAML files", dir_okay=False)],
    model: Annotated[
        Path | None,
        typer.Option(
            "--model", help="classifier artifact whose criteria hybrid/model methods need (default: shipped)"
        ),
    ] = None,
) -> None:
    """Check rubric files and report every problem in each (criterion and field named): the
    schema, token patterns, unknown language codes, declared languages a criterion has no
    phrases in, and classifier methods on criteria the model was not trained for."""
    import json

    from qa_pipeline.classifier import DEFAULT_MODEL, card_path
    from qa_pipeline.rubric import coverage_problems, listed, rubric_problems, untrained_problems

    artifact = model or DEFAULT_MODEL
    try:
        card = json.loads(card_path(artifact).read_text(encoding="utf-8"))
        trained: set[str] | None = set(card.get("thresholds") or {})
    except (OSError, ValueError):
        trained = None  # no card: the classifier check is skipped, and said so
        typer.echo(f"note: no model card beside {artifact}; classifier methods not checked")
    failed = False
    for path in files:
        rubric, problems = rubric_problems(path)
        if rubric is not None:
            problems += coverage_problems(rubric)
        if rubric is not None and trained is not None:
            problems += untrained_problems(rubric, trained, artifact)
        if problems or rubric is None:
            failed = True
            typer.echo(f"error: {path}: {listed(problems)}", err=True)
            continue
        langs = ", ".join(rubric.languages)
        typer.echo(f"ok: {path}: {rubric.ref}, {len(rubric.criteria)} criteria, languages {langs}")
    if failed:
        raise typer.Exit(2)  # as every other command's errors


@rubric_app.command("explain")
@friendly
def rubric_explain(file: Annotated[Path, typer.Argument(help="rubric YAML file", dir_okay=False)]) -> None:
    """Say in plain words what each criterion of a rubric looks for."""
    from qa_pipeline.rubric import explain_rubric, load_rubric

    typer.echo(explain_rubric(load_rubric(file)), nl=False)
