"""``qa train``: gather labels (bundled, the rubric's phrases, graders' corrections, files),
train, cross-validate, and write the artifact with its card."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from qa_pipeline.classifier import (
    DEFAULT_MODEL,
    TARGET_PRECISION,
    TrainingReport,
    save_classifier,
    train_classifier,
)
from qa_pipeline.labels import BUNDLED_TRAIN, Label, read_labels, rule_labels
from qa_pipeline.rubric import Rubric


@dataclass
class Trained:
    """Where the model went and how it did in cross-validation."""

    artifact: Path
    card: Path
    report: TrainingReport


def collect_labels(
    rubric: Rubric,
    files: Sequence[Path] = (),
    bundled: bool = True,
    weak_rules: bool = True,
    engine: Engine | None = None,
) -> list[Label]:
    """Labels in the order later ones win: rubric phrases, bundled set, files, graders' corrections."""
    labels: list[Label] = []
    if weak_rules:
        labels += rule_labels(rubric)
    if bundled:
        labels += read_labels(BUNDLED_TRAIN)
    for path in files:
        labels += read_labels(path)
    if engine is not None:
        from qa_pipeline.feedback import feedback_labels

        labels += feedback_labels(engine)
    return labels


def train_and_save(
    labels: list[Label],
    rubric: Rubric,
    output: Path = DEFAULT_MODEL,
    target_precision: float = TARGET_PRECISION,
) -> Trained:
    """Train on ``labels`` and write ``output`` (skops) and its model card."""
    classifier, report = train_classifier(labels, target_precision=target_precision)
    card = save_classifier(classifier, report, output, rubric=rubric.ref)
    return Trained(output, card, report)


def render_training(report: TrainingReport) -> str:
    """Cross-validated precision/recall/F1/kappa per criterion, then per language."""
    sources = ", ".join(f"{n} {s}" for s, n in report.by_source.items())
    lines = [
        f"{report.labels} labels ({sources}); data SHA-256 {report.data_sha256[:12]}",
        f"{'criterion':18} {'lang':4} {'n':>5} {'pos':>4} {'thresh':>6} "
        f"{'P':>5} {'R':>5} {'F1':>5} {'kappa':>5}",
    ]
    for criterion, entry in report.criteria.items():
        rows = [("all", entry["cross_validated"]), *sorted(entry["by_language"].items())]
        for lang, m in rows:
            threshold = f"{entry['threshold']:.2f}" if lang == "all" else ""
            lines.append(
                f"{criterion:18} {lang:4} {m['n']:>5} {m['positives']:>4} {threshold:>6} "
                f"{m['precision']:>5.2f} {m['recall']:>5.2f} {m['f1']:>5.2f} {m['kappa']:>5.2f}"
            )
        if not entry["target_precision_reached"]:
            lines.append(f"  {criterion}: the target precision was not reached; threshold = best F1")
    return "\n".join(lines)
