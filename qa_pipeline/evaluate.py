"""How well rules, the classifier and the two together agree with human labels, per turn.

Each label says whether one turn earns one criterion. The three methods decide that turn
the way scoring does: a turn by the wrong speaker never earns a criterion; a negative
phrase fails it (where the rubric says negatives fail); ``rules`` pass on a phrase hit,
``model`` on its best sentence's probability at or above the criterion's threshold (unless the rules found
the criterion's phrase negated in that turn), ``hybrid`` on either.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa_pipeline.classifier import TurnClassifier
from qa_pipeline.errors import QAError
from qa_pipeline.labels import Label
from qa_pipeline.metrics import binary_metrics
from qa_pipeline.rubric import Rubric
from qa_pipeline.rules import RuleEngine

METHODS = ("rules", "model", "hybrid")


@dataclass
class Decisions:
    """Per label: the truth and what each method decided."""

    labels: list[Label]
    truth: list[bool]
    predicted: dict[str, list[bool]]


def decide(labels: list[Label], rubric: Rubric, classifier: TurnClassifier) -> Decisions:
    """Run rules and the classifier over the labelled turns."""
    criteria = {c.id: c for c in rubric.criteria}
    labels = [
        lb for lb in labels if lb.text and lb.criterion in criteria and lb.criterion in classifier.models
    ]
    if not labels:
        raise QAError("no labels with text for criteria both the rubric and the model know")
    engine = RuleEngine(rubric)
    texts = sorted({lb.text for lb in labels if lb.text})
    hits: dict[tuple[str, str], set[str]] = {}  # (text, language) -> "criterion:kind"
    by_lang: dict[str, list[str]] = defaultdict(list)
    for lb in labels:
        by_lang[(lb.language or rubric.languages[0]).lower()].append(lb.text or "")
    for lang, lang_texts in by_lang.items():
        unique = sorted(set(lang_texts))
        for text, found in zip(unique, engine.find_hits(unique, lang), strict=True):
            hits[(text, lang)] = {f"{h.criterion}:{h.kind}" for h in found}
    best = classifier.best_sentences(texts)  # as scoring reads a turn: its best sentence
    position = {text: n for n, text in enumerate(texts)}
    predicted: dict[str, list[bool]] = {m: [] for m in METHODS}
    for lb in labels:
        c = criteria[lb.criterion]
        found = hits[(lb.text or "", (lb.language or rubric.languages[0]).lower())]
        speaker_ok = c.speaker in ("any", lb.speaker)
        negative = f"{c.id}:negative" in found and c.negative_effect == "fail"
        rule = speaker_ok and not negative and f"{c.id}:phrase" in found
        model = (
            speaker_ok
            and not negative
            and (best[c.id][position[lb.text or ""]][0] >= classifier.thresholds[c.id])
        )
        predicted["rules"].append(rule)
        predicted["model"].append(model)
        predicted["hybrid"].append(rule or model)
    return Decisions(labels, [lb.label == "pass" for lb in labels], predicted)


def noisy(text: str) -> str:
    """The text as chat and speech recognition often give it: lower case, no punctuation,
    no diacritics (Cyrillic й kept)."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c) or c == "\u0306")
    return re.sub(r"[^\w\s]", "", unicodedata.normalize("NFC", kept)).lower()


def noisy_copy(labels: list[Label]) -> list[Label]:
    """The labels with their texts made ``noisy``."""
    return [lb.model_copy(update={"text": noisy(lb.text)}) if lb.text else lb for lb in labels]


def evaluation_report(decisions: Decisions) -> dict[str, Any]:
    """Metrics per method, per criterion and per criterion and language."""
    report: dict[str, Any] = {"labels": len(decisions.labels), "criteria": {}}
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for n, lb in enumerate(decisions.labels):
        groups[(lb.criterion, "all")].append(n)
        groups[(lb.criterion, (lb.language or "?").lower())].append(n)
    for (criterion, lang), rows in sorted(groups.items()):
        truth = [decisions.truth[n] for n in rows]
        entry = {m: binary_metrics(truth, [decisions.predicted[m][n] for n in rows]) for m in METHODS}
        report["criteria"].setdefault(criterion, {})[lang] = entry
    return report


def render_table(report: dict[str, Any]) -> str:
    """The report as a plain table: one line per criterion and language, methods side by side."""
    head = f"{'criterion':18} {'lang':4} {'n':>4} {'pos':>4}"
    for m in METHODS:
        head += f" | {m + ' P':>8} {'R':>5} {'F1':>5} {'k':>5}"
    lines = [head, "-" * len(head)]
    for criterion, by_lang in report["criteria"].items():
        for lang in ["all", *sorted(k for k in by_lang if k != "all")]:
            entry = by_lang[lang]
            first = entry[METHODS[0]]
            line = f"{criterion:18} {lang:4} {first['n']:>4} {first['positives']:>4}"
            for m in METHODS:
                e = entry[m]
                line += f" | {e['precision']:>8.2f} {e['recall']:>5.2f} {e['f1']:>5.2f} {e['kappa']:>5.2f}"
            lines.append(line)
    return "\n".join(lines)


def write_report(report: dict[str, Any], path: Path) -> None:
    """The report as JSON, for tools and for comparing runs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
