"""How a criterion is decided: ``rule``, ``model`` or ``hybrid`` (rubric field ``method``).

A method is one object: whether it needs the trained classifier, whether the classifier
reads a criterion again after the rules (``revisit``), and a sentence for ``qa rubric
explain``. The rules always run first; a revisited criterion is decided by the classifier's
best sentence in its window (``hybrid.apply_classifier``). Other packages add methods through
the entry-point group ``qa_pipeline.criterion_methods``.

Which turns the classifier may read is one rule for every method, in ``offered``: never a
turn where the rules found the criterion's phrase negated or out of context, nor one with
any criterion's negative phrase ("Calm down, it's probably your wiring" earns no empathy,
whatever it resembles). Scoring and ``qa evaluate`` both ask it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from qa_pipeline.contracts import CriterionResult
from qa_pipeline.registry import Registry

# A rubric.Criterion; not imported, as the rubric's own validation asks this module.
Criterion = Any

VETOED = "vetoed"  # a rule hit whose phrase was negated or out of context (rules.Hit.kind)


class CriterionMethod(Protocol):
    """What a rubric's ``method`` names."""

    needs_classifier: bool

    def revisit(self, criterion: Criterion, result: CriterionResult) -> bool:
        """Whether the classifier decides this criterion again, given the rules' result."""
        ...

    def explain(self, criterion: Criterion) -> str | None:
        """One sentence for ``qa rubric explain``, or None when the rules say it all."""
        ...


criterion_methods: Registry[CriterionMethod] = Registry("criterion method", "qa_pipeline.criterion_methods")


def settled_by_rules(criterion: Criterion, result: CriterionResult) -> bool:
    """N/A, a negative phrase that fails the criterion, or the customer's own word on the
    outcome: decided, whatever the method."""
    if result.result == "na":
        return True
    negative_fail = criterion.negative_effect == "fail" and any(e.kind == "negative" for e in result.evidence)
    return negative_fail or any(e.kind == "customer" for e in result.evidence)


def offered(criterion_id: str, found: Iterable[tuple[str, str]]) -> bool:
    """Whether the classifier may read a turn for a criterion, given the (criterion, kind) of
    every rule hit in that turn."""
    return not any(kind == "negative" or (crit == criterion_id and kind == VETOED) for crit, kind in found)


class RuleMethod:
    """Phrases and token patterns only."""

    needs_classifier = False

    def revisit(self, criterion: Criterion, result: CriterionResult) -> bool:
        return False

    def explain(self, criterion: Criterion) -> str | None:
        return None


class HybridMethod:
    """A rule hit passes; without one, the classifier may pass its most likely sentence."""

    needs_classifier = True

    def revisit(self, criterion: Criterion, result: CriterionResult) -> bool:
        return not settled_by_rules(criterion, result) and result.result == "fail"

    def explain(self, criterion: Criterion) -> str | None:
        return "Without a phrase, the trained classifier may pass its most likely sentence (hybrid)."


class ModelMethod:
    """The classifier alone (phrases are examples only)."""

    needs_classifier = True

    def revisit(self, criterion: Criterion, result: CriterionResult) -> bool:
        return not settled_by_rules(criterion, result)

    def explain(self, criterion: Criterion) -> str | None:
        return "Decided by the trained classifier alone (phrases are examples only)."


criterion_methods.register("rule")(RuleMethod())
criterion_methods.register("hybrid")(HybridMethod())
criterion_methods.register("model")(ModelMethod())


def method_of(criterion: Criterion) -> CriterionMethod:
    """The registered method a criterion names."""
    return criterion_methods.get(criterion.method)
