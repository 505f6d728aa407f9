"""The classifier's commands: qa corpus, qa train, qa evaluate, qa feedback import."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qa_pipeline.cli._app import (
    ConfigOption,
    app,
    corpus_app,
    csat_app,
    feedback_app,
    friendly,
    store_for,
    surveys_app,
)

CorpusOption = Annotated[
    list[Path] | None,
    typer.Option("--corpus", help="labels made by `qa corpus prepare` (var/corpora/NAME.jsonl); repeatable"),
]


@corpus_app.command("list")
@friendly
def corpus_list() -> None:
    """The corpora `qa corpus prepare` knows: repository, licence, criteria, languages."""
    from qa_pipeline.corpora import RESERVED, known_corpora

    for corpus in known_corpora().values():
        use = "" if corpus.commercial_use else "  NON-COMMERCIAL licence"
        use += "  EVALUATION ONLY (never trained on)" if corpus.evaluation_only else ""
        typer.echo(f"{corpus.name:18} {corpus.repository}")
        typer.echo(
            f"{'':18} {corpus.licence}{use}; {', '.join(corpus.criteria)}; {', '.join(corpus.languages)}"
        )
    reserved = sorted(set(RESERVED.values()))
    typer.echo(f"reserved for independent evaluation, never prepared: {'; '.join(reserved)}")


@corpus_app.command("prepare")
@friendly
def corpus_prepare(
    name: Annotated[str, typer.Argument(help="corpus name (see `qa corpus list`)")],
    paths: Annotated[list[Path], typer.Argument(help="checkout folder(s) of the corpus repository")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="labels JSONL, or folder for NAME.jsonl (default: var/corpora)"),
    ] = None,
    commit: Annotated[
        str | None, typer.Option(help="the corpus commit, when PATH is not a git checkout")
    ] = None,
) -> None:
    """Turn a fetched public corpus into labels (JSONL) and a manifest with its provenance."""
    from qa_pipeline.corpora import prepare_corpus

    target = output or Path("var/corpora")
    if target.is_dir() or not target.suffix:
        target = target / f"{name}.jsonl"
    prepared = prepare_corpus(name, paths, target, commit)
    typer.echo(f"wrote {prepared.labels} and {prepared.manifest}")
    typer.echo(
        "dialogues per split: " + ", ".join(f"{k} {v}" for k, v in prepared.counts["dialogues"].items())
    )
    for row, n in prepared.counts.get("labels", {}).items():
        typer.echo(f"  {row:48} {n:>7}")


RubricOption = Annotated[Path | None, typer.Option(help="rubric YAML (default: the configured rubric)")]
ClassifierOption = Annotated[
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
        float,
        typer.Option(min=0.5, max=1.0, help="threshold aim for criteria no corpus validates (precision)"),
    ] = 0.9,
    corpus: CorpusOption = None,
    threshold_corpus: Annotated[
        list[Path] | None,
        typer.Option(
            help="prepared corpus whose validation half only chooses thresholds, never trained on "
            "(evaluation-only corpora such as midas allowed; the test half stays unread); repeatable"
        ),
    ] = None,
    features: Annotated[
        str, typer.Option(help="feature set: e5 (multilingual embeddings, shipped), tfidf (fast) or tfidf+e5")
    ] = "e5",
    noisy_copies: Annotated[
        bool,
        typer.Option(
            help="also learn from each training text in lower case, without punctuation or diacritics "
            "(as chats and transcripts come; on by default)"
        ),
    ] = True,
    rubric: RubricOption = None,
    config: ConfigOption = None,
) -> None:
    """Train the turn classifier, choose thresholds on real validation text, write the artifact and card."""
    from qa_pipeline.classifier import DEFAULT_MODEL
    from qa_pipeline.corpora import describe, read_corpora, threshold_split, training_splits
    from qa_pipeline.rubric import load_rubric
    from qa_pipeline.settings import load_settings
    from qa_pipeline.store import open_store
    from qa_pipeline.training import collect_labels, render_training, train_and_save

    settings = load_settings(config)
    the_rubric = load_rubric(rubric or settings.rubric)
    store = open_store(settings.database_url) if feedback else None
    gathered = collect_labels(the_rubric, labels or [], bundled, weak_rules, store)
    real, manifests = read_corpora(corpus or [], training=True)
    checks, check_manifests = read_corpora(threshold_corpus or [])
    if both := {m["corpus"] for m in manifests} & {m["corpus"] for m in check_manifests}:
        raise typer.BadParameter(
            f"{', '.join(sorted(both))}: given to both --corpus and --threshold-corpus; --corpus already "
            "chooses thresholds on its validation split"
        )
    trained = train_and_save(
        [*gathered, *training_splits(real), *threshold_split(checks)],
        the_rubric,
        output or settings.classifier or DEFAULT_MODEL,
        target_precision,
        features,
        describe(manifests, "training split: learnt from; validation split: thresholds")
        + describe(check_manifests, "validation split: thresholds only, never learnt from"),
        noisy_copies,
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
    corpus: CorpusOption = None,
    split: Annotated[str, typer.Option(help="corpus split to report on: test (default) or valid")] = "test",
    model: ClassifierOption = None,
    rubric: RubricOption = None,
    report: Annotated[Path | None, typer.Option("--json", help="also write the report as JSON here")] = None,
    noisy: Annotated[
        bool, typer.Option(help="also score a copy in lower case, without punctuation or diacritics")
    ] = False,
    record: Annotated[
        bool,
        typer.Option(help="with --corpus / --outcomes: write the real-split figures into the model's card"),
    ] = False,
    outcomes: Annotated[
        list[Path] | None,
        typer.Option(
            help="dialogues with a known outcome (`qa corpus prepare uss-multiwoz`): F1 of 'not resolved'"
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Rules, model and hybrid against human labels: P/R/F1 with 95% intervals, AUC, calibration.

    With --corpus: the real corpora's held-out split first (labels nobody on the team
    wrote), then the team-written set as a regression row.
    """
    from qa_pipeline.classifier import load_classifier
    from qa_pipeline.corpora import describe, read_corpora, sample_split
    from qa_pipeline.evaluate import decide, evaluation_report, noisy_copy, render_table, write_report
    from qa_pipeline.labels import BUNDLED_HELDOUT, read_labels
    from qa_pipeline.rubric import load_rubric
    from qa_pipeline.settings import load_settings

    if split not in ("test", "valid"):
        raise typer.BadParameter("--split must be test or valid")
    settings = load_settings(config)
    classifier = load_classifier(model or settings.classifier)
    the_rubric, human = load_rubric(rubric or settings.rubric), read_labels(labels or BUNDLED_HELDOUT)
    result: dict = {"model": classifier.name}
    if corpus:
        real, manifests = read_corpora(corpus)
        chosen = sample_split(real, split)
        result["real"] = evaluation_report(decide(chosen, the_rubric, classifier))
        result["real"]["split"], result["real"]["corpora"] = split, [m["corpus"] for m in manifests]
        result["real"]["provenance"] = describe(manifests)  # repository, commit, licence of each
        names = ", ".join(m["corpus"] for m in manifests)
        typer.echo(f"{classifier.name} on the {split} split of {names}: {result['real']['labels']} labels")
        typer.echo(render_table(result["real"]))
        if noisy:
            result["real_noisy"] = evaluation_report(decide(noisy_copy(chosen), the_rubric, classifier))
            typer.echo("\nthe same, in lower case, without punctuation or diacritics:")
            typer.echo(render_table(result["real_noisy"]))
        if record:
            from qa_pipeline.evaluate import record_in_card

            typer.echo(f"recorded in {record_in_card(model or settings.classifier, result['real'])}")
    if outcomes:
        from qa_pipeline.corpora import read_outcomes
        from qa_pipeline.evaluate import outcome_report, render_outcomes

        dialogues, manifests = read_outcomes(outcomes)
        chosen_dialogues = [d for d in dialogues if d.metadata.get("split") == split]
        result["outcomes"] = outcome_report(chosen_dialogues, the_rubric, classifier)
        result["outcomes"]["split"], result["outcomes"]["corpora"] = split, [m["corpus"] for m in manifests]
        result["outcomes"]["provenance"] = describe(manifests)
        typer.echo(f"\nresolution against known outcomes, {split} split: {len(chosen_dialogues)} dialogues")
        typer.echo(render_outcomes(result["outcomes"]))
        if record:
            from qa_pipeline.evaluate import record_outcomes_in_card

            typer.echo(
                f"recorded in {record_outcomes_in_card(model or settings.classifier, result['outcomes'])}"
            )
    if corpus or outcomes:
        typer.echo(f"\nteam-written regression set ({labels or BUNDLED_HELDOUT}), not evidence of accuracy:")
    result |= evaluation_report(decide(human, the_rubric, classifier))
    if not (corpus or outcomes):
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

    store = store_for(config)
    result = import_feedback(store, source)
    typer.echo(
        f"read {result.read} = stored {result.stored} + rejected {len(result.rejected)}; "
        f"{result.trainable} name a turn and will teach the next `qa train`"
    )
    for reason in result.rejected:
        typer.echo(f"  rejected: {reason}")
    typer.echo(f"{'criterion':18} {'reviewed':>8} {'disagree':>8} {'rate':>6}")
    for criterion, d in disagreement(store).items():
        typer.echo(f"{criterion:18} {d['reviewed']:>8} {d['disagree']:>8} {d['rate']:>6.0%}")
    if result.rejected and not result.stored:
        raise typer.Exit(1)


@surveys_app.command("import")
@friendly
def surveys_import(
    source: Annotated[
        Path,
        typer.Argument(
            help="survey export CSV: interaction or ticket id, type, score, date, customer, comment"
        ),
    ],
    kind: Annotated[
        str | None, typer.Option("--type", help="csat, nps or ces, for a file without a type column")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Store survey responses (CSAT, NPS, CES); their KPIs show beside the QA score on the
    agent and team pages and the scorecards. Comments are redacted, customers keyed."""
    _import_surveys(source, kind, config)


@csat_app.command("import")
@friendly
def csat_import(
    source: Annotated[Path, typer.Argument(help="survey export CSV: interaction or ticket id, rating, date")],
    config: ConfigOption = None,
) -> None:
    """Store customer-satisfaction ratings: ``qa surveys import FILE --type csat``."""
    _import_surveys(source, "csat", config)


def _import_surveys(source: Path, kind: str | None, config: Path | None) -> None:
    from qa_pipeline.settings import load_settings
    from qa_pipeline.surveys import import_surveys

    settings = load_settings(config)
    result = import_surveys(store_for(config), source, settings.redactor(), kind)
    counts = ", ".join(f"{k} {n}" for k, n in sorted(result.kinds.items()))
    typer.echo(
        f"read {result.read} = stored {result.stored} + rejected {len(result.rejected)}"
        + (f" ({counts})" if counts else "")
    )
    for reason in result.rejected:
        typer.echo(f"  rejected: {reason}")
    if result.rejected and not result.stored:
        raise typer.Exit(1)
