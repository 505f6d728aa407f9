"""Agreement figures for pass/fail decisions: precision, recall, F1 and Cohen's kappa."""

from __future__ import annotations

from collections.abc import Sequence


def binary_metrics(truth: Sequence[bool], predicted: Sequence[bool]) -> dict[str, float | int]:
    """Precision, recall, F1 of ``pass`` and Cohen's kappa, with the counts they come from.

    Undefined ratios (nothing predicted, nothing to find) are reported as 0.0.
    """
    pairs = [(bool(t), bool(p)) for t, p in zip(truth, predicted, strict=True)]
    tp = sum(t and p for t, p in pairs)
    fp = sum(p and not t for t, p in pairs)
    fn = sum(t and not p for t, p in pairs)
    n = len(truth)
    tn = n - tp - fp - fn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    observed = (tp + tn) / n if n else 0.0
    expected = ((tp + fp) * (tp + fn) + (tn + fn) * (tn + fp)) / (n * n) if n else 0.0
    kappa = (observed - expected) / (1 - expected) if expected < 1 else (1.0 if observed == 1 else 0.0)
    return {
        "n": n,
        "positives": tp + fn,
        "precision": round(precision, 3),
        "recall": round(recall, 3),
        "f1": round(f1, 3),
        "kappa": round(kappa, 3),
    }
