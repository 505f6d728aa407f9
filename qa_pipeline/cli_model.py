"""The classifier's commands: ``qa train``, ``qa evaluate``, ``qa feedback import``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qa_pipeline.cli import ConfigOption, app, friendly

feedback_app = typer.Typer(help="Graders' corrections of machine results.", no_args_is_help=True)
app.add_typer(feedback_app, name="feedback")

RubricOption = Annotated[Path | None, typer.Option(help="rubric YAML (default: the configured rubric)")]
ModelOption = Annotated[
    Path | None, typer.Option("--model", help="classifier artifact (default: models/turns.skops)")
]


@app.command()
@friendly
def train(
    labels: Annotated[
        list[Path] | None, typer.Option("--labels", help="extra label files (JSONL or CSV); repeatable")
    ] = None,
    bundled: Annotated[bool, typer.Option(help="include the bundled training set")] = True,
    weak_rules: Annotated[bool, typer.Option(help="include the rubric's phrases as weak labels")] = True,
    feedback: Annotated[bool, typer.Option(help="include graders' corrections from the database")] = True,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="artifact to write (default: models/turns.skops)")
    ] = None,
    target_precision: Annotated[
        float, typer.Option(min=0.5, max=1.0, help="per-criterion threshold aim")
    ] = 0.9,
    rubric: RubricOption = None,
    config: ConfigOption = None,
) -> None:
    """Train the turn classifier, cross-validate it, write the artifact and its model card."""
    from qa_pipeline.classifier import DEFAULT_MODEL
    from qa_pipeline.rubric import load_rubric
    from qa_pipeline.settings import load_settings
    from qa_pipeline.store import connect
    from qa_pipeline.training import collect_labels, render_training, train_and_save

    settings = load_settings(config)
    the_rubric = load_rubric(rubric or settings.rubric)
    engine = connect(settings.database_url) if feedback else None
    gathered = collect_labels(the_rubric, labels or [], bundled, weak_rules, engine)
    trained = train_and_save(
        gathered, the_rubric, output or settings.classifier or DEFAULT_MODEL, target_precision
    )
    typer.echo(render_training(trained.report))
    typer.echo(f"wrote {trained.artifact} and {trained.card}")


@app.command()
@friendly
def evaluate(
    labels: Annotated[
        Path | None,
        typer.Option("--labels", help="human labels (JSONL or CSV); default: the bundled held-out set"),
    ] = None,
    model: ModelOption = None,
    rubric: RubricOption = None,
    report: Annotated[Path | None, typer.Option("--json", help="also write the report as JSON here")] = None,
    noisy: Annotated[
        bool, typer.Option(help="also score a copy in lower case, without punctuation or diacritics")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Precision, recall, F1 and kappa of rules, model and hybrid against human labels."""
    from qa_pipeline.classifier import load_classifier
    from qa_pipeline.evaluate import decide, evaluation_report, noisy_copy, render_table, write_report
    from qa_pipeline.labels import BUNDLED_HELDOUT, read_labels
    from qa_pipeline.rubric import load_rubric
    from qa_pipeline.settings import load_settings

    settings = load_settings(config)
    classifier = load_classifier(model or settings.classifier)
    the_rubric, human = load_rubric(rubric or settings.rubric), read_labels(labels or BUNDLED_HELDOUT)
    result = evaluation_report(decide(human, the_rubric, classifier))
    result["model"] = classifier.name
    typer.echo(f"{classifier.name} on {labels or BUNDLED_HELDOUT}: {result['labels']} labels")
    typer.echo(render_table(result))
    if noisy:
        result["noisy"] = evaluation_report(decide(noisy_copy(human), the_rubric, classifier))
        typer.echo("\nthe same labels in lower case, without punctuation or diacritics:")
        typer.echo(render_table(result["noisy"]))
    if report:
        write_report(result, report)
        typer.echo(f"wrote {report}")


@feedback_app.command("import")
@friendly
def feedback_import(
    source: Annotated[Path, typer.Argument(help="graders' CSV export")],
    config: ConfigOption = None,
) -> None:
    """Store graders' corrections; they become training labels for the next `qa train`."""
    from qa_pipeline.feedback import disagreement, import_feedback
    from qa_pipeline.settings import load_settings
    from qa_pipeline.store import connect

    engine = connect(load_settings(config).database_url)
    result = import_feedback(engine, source)
    typer.echo(
        f"read {result.read} = stored {result.stored} + rejected {len(result.rejected)}; "
        f"{result.trainable} name a turn and will teach the next `qa train`"
    )
    for reason in result.rejected:
        typer.echo(f"  rejected: {reason}")
    typer.echo(f"{'criterion':18} {'reviewed':>8} {'disagree':>8} {'rate':>6}")
    for criterion, d in disagreement(engine).items():
        typer.echo(f"{criterion:18} {d['reviewed']:>8} {d['disagree']:>8} {d['rate']:>6.0%}")
    if result.rejected and not result.stored:
        raise typer.Exit(1)
