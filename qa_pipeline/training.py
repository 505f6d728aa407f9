"""``qa train``: gather labels (bundled, the rubric's phrases, real corpora, graders'
corrections, files), train, choose thresholds on real validation text, and write the
artifact with its card.

Which labels do what:

- the training split of prepared corpora (``qa corpus prepare``), the bundled team-written
  set, the rubric's own phrases (weak labels) and graders' corrections fit the models;
- the validation split of the corpora chooses each criterion's threshold: the one that
  gives the best F1 for *hybrid* scoring (a rule hit, or the model at or above the
  threshold), so the model is only trusted where it adds to the rules on real text;
- the test split is never read here (``qa evaluate`` reports on it).

A criterion no corpus labels (resolution today) falls back to the old way: a threshold
for a target precision on out-of-fold probabilities over the team-written labels; the
card says which way each threshold was chosen.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from qa_pipeline.classifier import (
    DEFAULT_FEATURES,
    DEFAULT_MODEL,
    FEATURE_SETS,
    MODEL_NAME,
    NEVER_TRUSTED,
    TrainingReport,
    TurnClassifier,
    build_features,
    build_model,
    feature_matrix,
    save_classifier,
)
from qa_pipeline.errors import QAError
from qa_pipeline.labels import (
    BUNDLED_TRAIN,
    Label,
    labels_hash,
    latest_per_turn,
    read_labels,
    rule_labels,
    text_key,
)
from qa_pipeline.metrics import binary_metrics
from qa_pipeline.rubric import Rubric

if TYPE_CHECKING:  # the store (SQLAlchemy) loads only when corrections are read
    from qa_pipeline.store import Store

TARGET_PRECISION = 0.9  # for criteria without real validation labels
# A gain in validation F1 smaller than this is noise, and real casual talk the corpora lack
# costs more: with greeting and thanks the model added 0.001-0.002 on the validation split
# and then passed "call", "good night", "let's chat" in MIDAS's transcribed speech.
MIN_GAIN = 0.01
MIN_THRESHOLD = 0.5  # never pass a turn the model thinks more likely to fail
# A corpus with fewer validation passes than this cannot veto a threshold (too few to tell).
MIN_CORPUS_PASSES = 5
MIN_VALID_PASSES = 20  # fewer real validation passes than this: fall back to cross-validation


@dataclass
class Trained:
    """Where the model went and how it did."""

    artifact: Path
    card: Path
    report: TrainingReport


def collect_labels(
    rubric: Rubric,
    files: Sequence[Path] = (),
    bundled: bool = True,
    weak_rules: bool = True,
    store: Store | None = None,
) -> list[Label]:
    """Labels in the order later ones win: rubric phrases, bundled set, files, graders' corrections."""
    labels: list[Label] = []
    if weak_rules:
        labels += rule_labels(rubric)
    if bundled:
        labels += read_labels(BUNDLED_TRAIN)
    for path in files:
        labels += read_labels(path)
    if store is not None:
        from qa_pipeline.feedback import feedback_labels

        labels += feedback_labels(store)
    return labels


def majority(labels: list[Label]) -> list[Label]:
    """Corpus labels of one text and criterion, outvoted into one: real annotators disagree
    ("thank you" is a greeting in one dialogue and not in another); ties pass."""
    votes: dict[tuple[str, str], list[Label]] = defaultdict(list)
    for lb in labels:
        votes[(text_key(lb.text), lb.criterion)].append(lb)
    out = []
    for group in votes.values():
        passes = sum(lb.label == "pass" for lb in group)
        winner = "pass" if passes * 2 >= len(group) else "fail"
        out.append(next(lb for lb in group if lb.label == winner))
    return out


def choose_threshold(truth: np.ndarray, probability: np.ndarray, target: float) -> tuple[float, bool]:
    """The lowest threshold whose precision reaches ``target`` (most recall at that precision).

    Returns (threshold, reached); when no threshold reaches it, the one with the best F1.
    """
    best_f1, best_f1_t = -1.0, 0.5
    for t in sorted(set(np.round(probability, 4)) | {MIN_THRESHOLD}):
        if t < MIN_THRESHOLD:
            continue
        predicted = probability >= t
        if not predicted.any():
            break
        m = binary_metrics(truth.tolist(), predicted.tolist())
        if m["precision"] >= target:
            return float(t), True
        if m["f1"] > best_f1:
            best_f1, best_f1_t = m["f1"], float(t)
    return best_f1_t, False


def hybrid_threshold(
    truth: np.ndarray, rule: np.ndarray, probability: np.ndarray, corpus: np.ndarray | None = None
) -> float:
    """The threshold giving the best F1 of "rule hit, or probability at or above it", among
    those that leave hybrid no worse than the rules on every validation corpus with at least
    ``MIN_CORPUS_PASSES`` passes (``corpus``: each row's corpus); 1.0 (never trust the model)
    when none beats the rules alone by at least ``MIN_GAIN``."""
    groups = corpus if corpus is not None else np.zeros(len(truth), dtype=int)
    masks = [m for g in np.unique(groups) if truth[m := groups == g].sum() >= MIN_CORPUS_PASSES]
    floors = [_f1(truth[m], rule[m]) for m in masks]
    rules_f1 = _f1(truth, rule)
    best_f1, best_t = rules_f1, NEVER_TRUSTED
    for t in sorted(set(np.round(probability, 3)) | {MIN_THRESHOLD}):
        if t < MIN_THRESHOLD:
            continue
        hybrid = rule | (probability >= t)
        f1 = _f1(truth, hybrid)
        if f1 <= best_f1 + 1e-9:
            continue
        if all(_f1(truth[m], hybrid[m]) >= floor - 1e-9 for m, floor in zip(masks, floors, strict=True)):
            best_f1, best_t = f1, float(t)
    return best_t if best_f1 >= rules_f1 + MIN_GAIN else NEVER_TRUSTED


def _f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    return float(binary_metrics(truth.tolist(), predicted.tolist())["f1"])


def _noisy_copies(labels: list[Label]) -> list[Label]:
    """Each label again with its text as chats and transcripts often give it (lower case, no
    punctuation or diacritics), where that differs from every text already there."""
    from qa_pipeline.evaluate import noisy

    seen = {text_key(lb.text) for lb in labels}
    return [
        lb.model_copy(update={"text": text})
        for lb in labels
        if (text := text_key(noisy(str(lb.text)))) and text not in seen
    ]


def train_classifier(
    labels: list[Label],
    rubric: Rubric | None = None,
    feature_set: str = DEFAULT_FEATURES,
    target_precision: float = TARGET_PRECISION,
    seed: int = 0,
    folds: int = 5,
    corpora: list[dict[str, Any]] | None = None,
    embedder: Any = None,
    noisy_copies: bool = True,
) -> tuple[TurnClassifier, TrainingReport]:
    """Fit one model per criterion; thresholds from the corpora's validation split where it
    has enough passes (needs ``rubric`` for the rules), else from cross-validation.
    ``noisy_copies``: also learn from each training text in lower case, without punctuation
    or diacritics, as chats and transcripts often come."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    if feature_set not in FEATURE_SETS:
        raise QAError(f"unknown feature set '{feature_set}'; choose one of {', '.join(FEATURE_SETS)}")
    own = latest_per_turn(lb for lb in labels if lb.source != "corpus" and lb.text and lb.speaker == "agent")
    real = [lb for lb in labels if lb.source == "corpus" and lb.text]
    usable = own + majority([lb for lb in real if lb.split == "train"])
    copies = _noisy_copies(usable) if noisy_copies else []
    originals, usable = usable, usable + copies
    valid = [lb for lb in real if lb.split == "valid"]
    if not usable:
        raise QAError("no usable labels: training needs agent turns with text")
    criteria = sorted({lb.criterion for lb in usable})
    report = TrainingReport(
        labels=len(originals),
        by_source={
            s: sum(lb.source == s for lb in originals) for s in sorted({lb.source for lb in originals})
        },
        data_sha256=labels_hash(usable + valid),
        criteria={},
        feature_set=feature_set,
        corpora=corpora or [],
        noisy_copies=len(copies),
    )
    texts = sorted({text for lb in usable + valid if (text := lb.text)})
    # the embeddings-only set needs no TF-IDF: fitting it would only cost time
    features = (
        build_features().fit(sorted({str(lb.text) for lb in usable})) if "tfidf" in feature_set else None
    )
    row = {t: n for n, t in enumerate(texts)}
    matrix = feature_matrix(features, feature_set, texts, embedder)
    rules = _rule_passes(valid, rubric) if rubric is not None and valid else {}
    models, thresholds = {}, {}
    for criterion in criteria:
        rows = [lb for lb in usable if lb.criterion == criterion]
        y = np.array([lb.label == "pass" for lb in rows])
        if min(y.sum(), (~y).sum()) < folds:
            raise QAError(
                f"criterion '{criterion}' needs at least {folds} 'pass' and {folds} 'fail' labels "
                f"(has {int(y.sum())} and {int((~y).sum())})"
            )
        x = matrix[[row[str(lb.text)] for lb in rows]]
        model = build_model(seed).fit(x, y)
        checks = [lb for lb in valid if lb.criterion == criterion]
        truth = np.array([lb.label == "pass" for lb in checks])
        entry: dict[str, Any] = {"trained_on": len(rows), "train_passes": int(y.sum())}
        if rules and truth.sum() >= MIN_VALID_PASSES:
            p = model.predict_proba(matrix[[row[str(lb.text)] for lb in checks]])[:, 1]
            rule = np.array([rules[id(lb)] for lb in checks])
            threshold = hybrid_threshold(truth, rule, p, np.array([lb.corpus for lb in checks]))
            entry |= {
                "threshold_from": "validation split of the real corpora (best hybrid F1, "
                "never below the rules on any one corpus)",
                "validation": {
                    "rules": binary_metrics(truth.tolist(), rule.tolist()),
                    "model": binary_metrics(truth.tolist(), (p >= threshold).tolist()),
                    "hybrid": binary_metrics(truth.tolist(), (rule | (p >= threshold)).tolist()),
                },
            }
        else:
            cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
            oof = cross_val_predict(build_model(seed), x, y, cv=cv, method="predict_proba")[:, 1]
            threshold, reached = choose_threshold(y, oof, target_precision)
            entry |= {
                "threshold_from": f"{folds}-fold cross-validation on team-written labels "
                f"(precision {'reached' if reached else 'NOT reached'}: {target_precision})",
                "cross_validated": binary_metrics(y.tolist(), (oof >= threshold).tolist()),
            }
        entry["threshold"] = round(threshold, 4)
        report.criteria[criterion] = entry
        models[criterion], thresholds[criterion] = model, threshold
    card = {
        "name": MODEL_NAME,
        "target_precision": target_precision,
        "seed": seed,
        "folds": folds,
        "feature_set": feature_set,
    }
    classifier = TurnClassifier(features, models, thresholds, card)
    return classifier, report


def _rule_passes(labels: list[Label], rubric: Rubric) -> dict[int, bool]:
    """Per label (by identity): whether the rules alone pass its text for its criterion
    (speaker not checked: corpus labels judge what a sentence does, whoever says it)."""
    from qa_pipeline.evaluate import rule_decisions

    return dict(zip(map(id, labels), rule_decisions(labels, rubric), strict=True))


def train_and_save(
    labels: list[Label],
    rubric: Rubric,
    output: Path = DEFAULT_MODEL,
    target_precision: float = TARGET_PRECISION,
    feature_set: str = DEFAULT_FEATURES,
    corpora: list[dict[str, Any]] | None = None,
    noisy_copies: bool = True,
) -> Trained:
    """Train on ``labels`` and write ``output`` (skops) and its model card."""
    from qa_pipeline.embeddings import SentenceEmbedder

    embedder = SentenceEmbedder(progress=True) if "e5" in feature_set else None
    classifier, report = train_classifier(
        labels,
        rubric,
        feature_set,
        target_precision,
        corpora=corpora,
        embedder=embedder,
        noisy_copies=noisy_copies,
    )
    card = save_classifier(classifier, report, output, rubric=rubric.ref)
    return Trained(output, card, report)


def render_training(report: TrainingReport) -> str:
    """Per criterion: what it learnt from, its threshold and where that came from, and the
    validation (or cross-validated) figures."""
    sources = ", ".join(f"{n} {s}" for s, n in report.by_source.items())
    lines = [
        f"{report.labels} labels ({sources})"
        + (f" and {report.noisy_copies} noisy copies" if report.noisy_copies else "")
        + f"; features {report.feature_set}; "
        f"data SHA-256 {report.data_sha256[:12]}",
        f"{'criterion':18} {'method':7} {'n':>5} {'pos':>4} {'thresh':>6} {'P':>5} {'R':>5} {'F1':>5}",
    ]
    for criterion, entry in report.criteria.items():
        figures = entry.get("validation") or {"model": entry.get("cross_validated", {})}
        for method, m in figures.items():
            if not m:
                continue
            lines.append(
                f"{criterion:18} {method:7} {m['n']:>5} {m['positives']:>4} {entry['threshold']:>6.2f} "
                f"{m['precision']:>5.2f} {m['recall']:>5.2f} {m['f1']:>5.2f}"
            )
        lines.append(f"  {criterion}: threshold from {entry['threshold_from']}")
    return "\n".join(lines)
