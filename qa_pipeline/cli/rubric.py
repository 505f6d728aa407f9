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
