"""How well rules, the classifier and the two together agree with human labels, per turn.

Each label says whether one turn earns one criterion. The three methods decide that turn
the way scoring does: a negative phrase fails it (where the rubric says negatives fail);
``rules`` pass on a phrase hit, ``model`` on its best sentence's probability at or above
the criterion's threshold (unless the rules found the criterion's phrase, or one of its
words, negated in that turn), ``hybrid`` on either. For team-written labels a turn by the wrong speaker never
earns a criterion; corpus labels judge what a sentence does, whoever says it.

Figures: precision, recall, F1 and kappa per criterion and language; a 95% bootstrap
interval for F1 that resamples whole dialogues (turns of one dialogue are not
independent); the model's expected calibration error; ranking AUC of each method's score,
against annotators' ratings where they gave them (politeness) and against the labels
otherwise.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa_pipeline.classifier import TurnClassifier
from qa_pipeline.errors import QAError
from qa_pipeline.interactions import Interaction
from qa_pipeline.labels import Label
from qa_pipeline.language import fold_diacritics
from qa_pipeline.methods import offered as may_read
from qa_pipeline.metrics import binary_metrics
from qa_pipeline.rubric import Rubric
from qa_pipeline.rules import RuleEngine

METHODS = ("rules", "model", "hybrid")
BOOTSTRAP = 1000
ECE_BINS = 10


@dataclass
class Decisions:
    """Per label: the truth, what each method decided, and the scores behind it."""

    labels: list[Label]
    truth: list[bool]
    predicted: dict[str, list[bool]]
    scores: dict[str, list[float]]  # for ranking (AUC): rules -1/0/1, model p, hybrid max
    probability: list[float]  # the model's calibrated probability (for calibration error)


def _hits(labels: list[Label], rubric: Rubric) -> list[set[str]]:
    """Per label, "criterion:kind" for every rule hit in its text (in its language)."""
    engine = RuleEngine(rubric)
    by_lang: dict[str, set[str]] = defaultdict(set)
    for lb in labels:
        by_lang[(lb.language or rubric.languages[0]).lower()].add(lb.text or "")
    found: dict[tuple[str, str], set[str]] = {}
    for lang, texts in by_lang.items():
        unique = sorted(texts)
        for text, hits in zip(unique, engine.find_hits(unique, lang), strict=True):
            found[(text, lang)] = {f"{h.criterion}:{h.kind}" for h in hits}
    return [found[(lb.text or "", (lb.language or rubric.languages[0]).lower())] for lb in labels]


def _rule_outcome(lb: Label, c: Any, found: set[str]) -> tuple[bool, bool]:
    """(speaker and negative phrases allow a pass, the rules pass)."""
    speaker_ok = lb.source == "corpus" or c.speaker in ("any", lb.speaker)
    negative = f"{c.id}:negative" in found and c.negative_effect == "fail"
    allowed = speaker_ok and not negative
    return allowed, allowed and f"{c.id}:phrase" in found


def rule_decisions(labels: list[Label], rubric: Rubric) -> list[bool]:
    """Whether the rules alone pass each label (criteria the rubric lacks: False)."""
    criteria = {c.id: c for c in rubric.criteria}
    return [
        lb.criterion in criteria and _rule_outcome(lb, criteria[lb.criterion], found)[1]
        for lb, found in zip(labels, _hits(labels, rubric), strict=True)
    ]


def decide(labels: list[Label], rubric: Rubric, classifier: TurnClassifier) -> Decisions:
    """Run rules and the classifier over the labelled turns."""
    criteria = {c.id: c for c in rubric.criteria}
    labels = [
        lb for lb in labels if lb.text and lb.criterion in criteria and lb.criterion in classifier.models
    ]
    if not labels:
        raise QAError("no labels with text for criteria both the rubric and the model know")
    texts = sorted({lb.text for lb in labels if lb.text})
    best = classifier.best_sentences(texts)  # as scoring reads a turn: its best sentence
    position = {text: n for n, text in enumerate(texts)}
    predicted: dict[str, list[bool]] = {m: [] for m in METHODS}
    scores: dict[str, list[float]] = {m: [] for m in METHODS}
    probability = []
    for lb, found in zip(labels, _hits(labels, rubric), strict=True):
        c = criteria[lb.criterion]
        allowed, rule = _rule_outcome(lb, c, found)
        p = best[c.id][position[lb.text or ""]][0]
        # the turns scoring offers the classifier: one rule for both (methods.offered)
        offered = allowed and may_read(c.id, [(f.partition(":")[0], f.partition(":")[2]) for f in found])
        model = offered and p >= classifier.thresholds[c.id]
        for method, decision in (("rules", rule), ("model", model), ("hybrid", rule or model)):
            predicted[method].append(decision)
        negative = f"{c.id}:negative" in found
        scores["rules"].append(-1.0 if negative else float(rule))
        scores["model"].append(p if offered else 0.0)
        scores["hybrid"].append(1.0 if rule else (p if offered else 0.0))
        probability.append(p)
    return Decisions(labels, [lb.label == "pass" for lb in labels], predicted, scores, probability)


def noisy(text: str) -> str:
    """The text as chat and speech recognition often give it: lower case, no punctuation,
    no diacritics (Cyrillic й kept)."""
    return re.sub(r"[^\w\s]", "", fold_diacritics(unicodedata.normalize("NFKC", text))).lower()


def noisy_copy(labels: list[Label]) -> list[Label]:
    """The labels with their texts made ``noisy``."""
    return [lb.model_copy(update={"text": noisy(lb.text)}) if lb.text else lb for lb in labels]


def auc(truth: np.ndarray, score: np.ndarray) -> float | None:
    """Probability that a random pass scores above a random fail (ties count half)."""
    pos, neg = score[truth], score[~truth]
    if not len(pos) or not len(neg):
        return None
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order))
    values = np.concatenate([pos, neg])[order]
    # average ranks of ties
    _, first, counts = np.unique(values, return_index=True, return_counts=True)
    average = first + (counts - 1) / 2.0 + 1
    ranks[order] = np.repeat(average, counts)
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def calibration_error(truth: np.ndarray, probability: np.ndarray, bins: int = ECE_BINS) -> float:
    """Expected calibration error: the pass rate's distance from the mean probability,
    averaged over equal-width probability bins weighted by their size."""
    edges = np.minimum((probability * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        inside = edges == b
        if inside.any():
            total += inside.sum() * abs(truth[inside].mean() - probability[inside].mean())
    return total / max(len(truth), 1)


def f1_interval(
    truth: np.ndarray, predicted: np.ndarray, clusters: np.ndarray, reps: int = BOOTSTRAP, seed: int = 0
) -> tuple[float, float]:
    """95% bootstrap interval of F1, resampling whole clusters (dialogues)."""
    ids, index = np.unique(clusters, return_inverse=True)
    tp = np.bincount(index, weights=truth & predicted, minlength=len(ids))
    fp = np.bincount(index, weights=~truth & predicted, minlength=len(ids))
    fn = np.bincount(index, weights=truth & ~predicted, minlength=len(ids))
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(ids), size=(reps, len(ids)))
    counts = np.stack([np.bincount(d, minlength=len(ids)) for d in draws])
    t, f_p, f_n = counts @ tp, counts @ fp, counts @ fn
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(2 * t + f_p + f_n > 0, 2 * t / (2 * t + f_p + f_n), 0.0)
    low, high = np.percentile(f1, [2.5, 97.5])
    return round(float(low), 3), round(float(high), 3)


def _group_report(decisions: Decisions, rows: list[int], seed: int) -> dict[str, Any]:
    truth = np.array([decisions.truth[n] for n in rows], dtype=bool)
    clusters = np.array(
        [
            f"{decisions.labels[n].corpus}/{decisions.labels[n].dialogue}"
            if decisions.labels[n].dialogue
            else f"label/{n}"
            for n in rows
        ]
    )
    ratings = [decisions.labels[n].rating for n in rows]
    rated = np.array([r is not None for r in ratings])
    entry: dict[str, Any] = {}
    for m in METHODS:
        predicted = np.array([decisions.predicted[m][n] for n in rows], dtype=bool)
        score = np.array([decisions.scores[m][n] for n in rows])
        metrics: dict[str, Any] = dict(binary_metrics(truth.tolist(), predicted.tolist()))
        metrics["f1_ci"] = f1_interval(truth, predicted, clusters, seed=seed)
        value = auc(truth, score)
        metrics["auc"] = None if value is None else round(value, 3)
        if rated.all():  # politeness: the ranking against the annotators' rating
            metrics["auc_rating"] = metrics["auc"]
        entry[m] = metrics
    probability = np.array([decisions.probability[n] for n in rows])
    entry["model"]["ece"] = round(calibration_error(truth, probability), 3)
    return entry


def evaluation_report(decisions: Decisions, seed: int = 0) -> dict[str, Any]:
    """Metrics per method, per criterion and per criterion and language."""
    report: dict[str, Any] = {"labels": len(decisions.labels), "criteria": {}}
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for n, lb in enumerate(decisions.labels):
        groups[(lb.criterion, "all")].append(n)
        groups[(lb.criterion, (lb.language or "?").lower())].append(n)
        if lb.corpus:  # "[esconv]": one corpus alone, where a criterion draws on several
            groups[(lb.criterion, f"[{lb.corpus}]")].append(n)
    for (criterion, lang), rows in sorted(groups.items()):
        report["criteria"].setdefault(criterion, {})[lang] = _group_report(decisions, rows, seed)
    sources = sorted({f"{lb.corpus or lb.source}" for lb in decisions.labels})
    report["sources"] = sources
    return report


def render_table(report: dict[str, Any]) -> str:
    """The report as a plain table: one line per criterion and language, methods side by side
    (F1 with its 95% interval; AUC; the model's calibration error)."""
    head = f"{'criterion':18} {'lang':18} {'n':>5} {'pos':>4}"
    for m in METHODS:
        head += f" | {m + ' P':>8} {'R':>5} {'F1':>5} {'(95% CI)':>13} {'AUC':>5}"
    head += f" | {'ECE':>5}"
    lines = [head, "-" * len(head)]
    for criterion, by_lang in report["criteria"].items():
        for lang in ["all", *sorted(k for k in by_lang if k != "all")]:
            entry = by_lang[lang]
            first = entry[METHODS[0]]
            line = f"{criterion:18} {lang:18} {first['n']:>5} {first['positives']:>4}"
            for m in METHODS:
                e = entry[m]
                low, high = e["f1_ci"]
                area = "" if e["auc"] is None else f"{e['auc']:.2f}"
                line += (
                    f" | {e['precision']:>8.2f} {e['recall']:>5.2f} {e['f1']:>5.2f} "
                    f"{f'({low:.2f}-{high:.2f})':>13} {area:>5}"
                )
            line += f" | {entry['model']['ece']:>5.2f}"
            lines.append(line)
    return "\n".join(lines)


def write_report(report: dict[str, Any], path: Path) -> None:
    """The report as JSON, for tools and for comparing runs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def record_in_card(model: Path | None, report: dict[str, Any]) -> Path:
    """Write the real-split figures (per criterion and group: F1 with its interval, AUC, ECE)
    into the model card; returns the card's path. The artifact is untouched, so its hash holds."""
    from datetime import UTC, datetime

    from qa_pipeline.classifier import DEFAULT_MODEL, card_path

    path = card_path(Path(model or DEFAULT_MODEL))
    card = json.loads(path.read_text(encoding="utf-8"))
    summary: dict[str, Any] = {}
    for criterion, groups in report["criteria"].items():
        for group, entry in groups.items():
            summary.setdefault(criterion, {})[group] = {
                "n": entry["rules"]["n"],
                "passes": entry["rules"]["positives"],
                **{
                    m: {"f1": entry[m]["f1"], "f1_ci": entry[m]["f1_ci"], "auc": entry[m]["auc"]}
                    for m in METHODS
                },
                "ece": entry["model"]["ece"],
            }
    card["evaluation"] = {
        "split": report.get("split"),
        "corpora": report.get("corpora"),
        "provenance": report.get("provenance"),
        "evaluated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "criteria": summary,
    }
    path.write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def record_outcomes_in_card(model: Path | None, report: dict[str, Any]) -> Path:
    """Write the resolution-against-outcomes figures into the model card (``resolution_outcomes``)."""
    from qa_pipeline.classifier import DEFAULT_MODEL, card_path

    path = card_path(Path(model or DEFAULT_MODEL))
    card = json.loads(path.read_text(encoding="utf-8"))
    card["resolution_outcomes"] = {
        "split": report.get("split"),
        "corpora": report.get("corpora"),
        "provenance": report.get("provenance"),
        "dialogues": report["dialogues"],
        "rows": {
            name: {
                "positives": row["positives"],
                **{
                    m: {k: row[m][k] for k in ("precision", "recall", "f1", "f1_ci")}
                    for m in ("rules", "hybrid")
                },
            }
            for name, row in report["rows"].items()
        },
    }
    path.write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def outcome_report(
    items: list[Interaction],
    rubric: Rubric,
    classifier: TurnClassifier,
    criterion: str = "resolution",
    seed: int = 0,
) -> dict[str, Any]:
    """How well ``criterion`` failing finds the dialogues whose outcome was "not resolved".

    ``items`` carry ``metadata.outcome`` (``resolved``, and ``clearly_unresolved`` for the
    stricter reading). F1 is that of "not resolved", with a bootstrap interval by dialogue.
    """
    from qa_pipeline.scoring import score_interactions

    results = {
        "rules": score_interactions(items, rubric.with_method("rule")),
        "hybrid": score_interactions(items, rubric, classifier=classifier),
    }
    ids = np.array([i.id for i in items])
    truths = {
        "not resolved (mean rating < 3)": np.array([not i.metadata["outcome"]["resolved"] for i in items]),
        "clearly unresolved (most rate 1-2)": np.array(
            [bool(i.metadata["outcome"].get("clearly_unresolved")) for i in items]
        ),
    }
    report: dict[str, Any] = {"dialogues": len(items), "criterion": criterion, "rows": {}}
    for name, truth in truths.items():
        row: dict[str, Any] = {"positives": int(truth.sum())}
        for method, scored in results.items():
            predicted = np.array([s.criteria[criterion].result == "fail" for s in scored])
            metrics: dict[str, Any] = dict(binary_metrics(truth.tolist(), predicted.tolist()))
            metrics["f1_ci"] = f1_interval(truth, predicted, ids, seed=seed)
            row[method] = metrics
        report["rows"][name] = row
    return report


def render_outcomes(report: dict[str, Any]) -> str:
    """The outcome report as a small table."""
    lines = [f"{'outcome':38} {'n+':>4}  {'method':7} {'P':>5} {'R':>5} {'F1':>5}  95% CI"]
    for name, row in report["rows"].items():
        for method in ("rules", "hybrid"):
            m = row[method]
            low, high = m["f1_ci"]
            lines.append(
                f"{name:38} {row['positives']:>4}  {method:7} {m['precision']:5.2f} {m['recall']:5.2f}"
                f" {m['f1']:5.2f}  {low:.2f}-{high:.2f}"
            )
    return "\n".join(lines)
