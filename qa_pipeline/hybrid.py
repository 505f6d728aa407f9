"""Criteria decided with the trained classifier (rubric ``method: model`` or ``hybrid``).

``hybrid``: a rule hit passes with its span; otherwise the classifier's best sentence in
the criterion's window passes if its probability clears the criterion's threshold, with
that sentence as evidence and the probability as confidence. ``model``: the classifier alone
decides (phrase hits are ignored). In both, N/A conditions and negative phrases that fail
a criterion still decide first: the classifier only ever finds what earns a point.
"""

from __future__ import annotations

from collections import defaultdict

from qa_pipeline.classifier import NEVER_TRUSTED, TurnClassifier
from qa_pipeline.contracts import CriterionResult, Evidence, Interaction
from qa_pipeline.errors import QAError
from qa_pipeline.methods import method_of, offered
from qa_pipeline.rubric import Criterion, Rubric
from qa_pipeline.rules import Hit
from qa_pipeline.windows import window_turns


def uses_classifier(rubric: Rubric) -> bool:
    """Whether any criterion's method needs the classifier."""
    return any(method_of(c).needs_classifier for c in rubric.criteria)


def check_classifier(rubric: Rubric, classifier: TurnClassifier) -> None:
    """Refuse a classifier that lacks a criterion the rubric asks it to decide."""
    missing = [
        c.id for c in rubric.criteria if method_of(c).needs_classifier and c.id not in classifier.models
    ]
    if missing:
        raise QAError(
            f"rubric {rubric.ref}: {', '.join(missing)} use the classifier, but {classifier.name} was not "
            "trained for them; add labels and run `qa train`, or set their method to 'rule'"
        )


def apply_classifier(
    rubric: Rubric,
    interactions: list[Interaction],
    results: list[dict[str, CriterionResult]],
    hits: list[dict[str, list[Hit]]],
    classifier: TurnClassifier,
) -> None:
    """Revise the rule results in place where a criterion's method revisits them: the
    classifier reads the turns ``methods.offered`` allows in the criterion's window."""
    requests = []  # (interaction number, criterion, turn numbers)
    for n, (interaction, by_criterion) in enumerate(zip(interactions, results, strict=True)):
        found: dict[int, set[tuple[str, str]]] = defaultdict(set)  # turn -> (criterion, kind)
        for criterion_hits in hits[n].values():
            for h in criterion_hits:
                found[h.turn].add((h.criterion, h.kind))
        for c in rubric.criteria:
            if c.method == "hybrid" and classifier.thresholds.get(c.id, 0.0) >= NEVER_TRUSTED:
                continue  # training found the model adds nothing to the rules here: rules decide
            if method_of(c).revisit(c, by_criterion[c.id]):
                turns = [
                    t
                    for t in window_turns(interaction, c)
                    if offered(c.id, found[t]) and interaction.turns[t].text.strip()
                ]
                requests.append((n, c, turns))
    if not requests:
        return
    keys = sorted({(n, t) for n, _, turns in requests for t in turns})
    position = {key: k for k, key in enumerate(keys)}
    texts = [interactions[n].turns[t].text for n, t in keys]
    best = classifier.best_sentences(texts, sorted({c.id for _, c, _ in requests}))
    for n, c, turns in requests:
        scored = [(*best[c.id][position[(n, t)]], t) for t in turns]  # (p, start, end, turn)
        top = max(scored, default=None)
        results[n][c.id] = _decide(c, results[n][c.id], interactions[n], top, classifier.thresholds[c.id])


def _decide(
    c: Criterion,
    rule: CriterionResult,
    interaction: Interaction,
    top: tuple[float, int, int, int] | None,
    threshold: float,
) -> CriterionResult:
    negative = [e for e in rule.evidence if e.kind == "negative"]
    best = top[0] if top else 0.0
    if top is not None and best >= threshold:
        _, start, end, turn = top
        text = interaction.turns[turn].text[start:end]
        evidence = Evidence.model_construct(
            turn=turn, start=start, end=end, text=text, match=None, kind="model"
        )
        score = max(0.0, 1.0 - c.deduction * len(negative))
        return CriterionResult.model_construct(
            result="pass" if score > 0 else "fail",
            score=score,
            confidence=round(best, 3),
            method="model",
            evidence=[evidence, *negative],
            reason=f"classifier: turn {turn} (p={best:.2f}, threshold {threshold:.2f})"
            + (f"; {rule.reason}" if negative else ""),
        )
    where = f"best turn {top[3]}: p={best:.2f}" if top is not None else "no turn left to read"
    return CriterionResult.model_construct(
        result="fail",
        score=0.0,
        confidence=round(1.0 - best, 3),
        method="model",
        evidence=negative,
        reason=f"{rule.reason or 'no phrase'}; classifier {where}, under {threshold:.2f}",
    )
