"""Criteria decided with the trained classifier (rubric ``method: model`` or ``hybrid``).

``hybrid``: a rule hit passes with its span; otherwise the classifier's best sentence in
the criterion's window passes if its probability clears the criterion's threshold, with
that sentence as evidence and the probability as confidence. ``model``: the classifier alone
decides (phrase hits are ignored). In both, N/A conditions and negative phrases that fail
a criterion still decide first: the classifier only ever finds what earns a point.
"""

from __future__ import annotations

from qa_pipeline.classifier import TurnClassifier
from qa_pipeline.contracts import CriterionResult, Evidence, Interaction
from qa_pipeline.errors import QAError
from qa_pipeline.rubric import Criterion, Rubric
from qa_pipeline.rules import VETOED, Hit
from qa_pipeline.windows import window_turns


def uses_classifier(rubric: Rubric) -> bool:
    """Whether any criterion of the rubric needs the classifier."""
    return any(c.method != "rule" for c in rubric.criteria)


def check_classifier(rubric: Rubric, classifier: TurnClassifier) -> None:
    """Refuse a classifier that lacks a criterion the rubric asks it to decide."""
    missing = [c.id for c in rubric.criteria if c.method != "rule" and c.id not in classifier.models]
    if missing:
        raise QAError(
            f"rubric {rubric.ref}: {', '.join(missing)} use the classifier, but {classifier.name} was not "
            "trained for them; add labels and run `qa train`, or set their method to 'rule'"
        )


def _needs_model(criterion: Criterion, result: CriterionResult) -> bool:
    if criterion.method == "rule" or result.result == "na":
        return False
    negative_fail = criterion.negative_effect == "fail" and any(e.kind == "negative" for e in result.evidence)
    if negative_fail or any(e.kind == "customer" for e in result.evidence):
        return False  # a negative phrase, or the customer's own word on the outcome, decided
    return criterion.method == "model" or result.result == "fail"


def apply_classifier(
    rubric: Rubric,
    interactions: list[Interaction],
    results: list[dict[str, CriterionResult]],
    hits: list[dict[str, list[Hit]]],
    classifier: TurnClassifier,
) -> None:
    """Revise the rule results in place where the rubric lets the classifier decide.

    A turn where the rules found one of the criterion's phrases negated or out of context
    ("I'm not sorry", "we did not refund") is not offered to the classifier, nor is a turn
    with a negative phrase of any criterion: "Calm down, it's probably your wiring" earns no
    empathy, whatever it resembles (soothing words in emotional-support chats).
    """
    requests = []  # (interaction number, criterion, turn numbers)
    for n, (interaction, by_criterion) in enumerate(zip(interactions, results, strict=True)):
        rude = {h.turn for found in hits[n].values() for h in found if h.kind == "negative"}
        for c in rubric.criteria:
            if _needs_model(c, by_criterion[c.id]):
                vetoed = {h.turn for h in hits[n].get(c.id, []) if h.kind == VETOED} | rude
                turns = [
                    t
                    for t in window_turns(interaction, c)
                    if t not in vetoed and interaction.turns[t].text.strip()
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
