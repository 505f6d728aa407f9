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


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's kappa of two raters' labels of the same items (any categories); None for no items.
    When chance agreement is certain (both always said the same one label), agreement is 1.0."""
    pairs = list(zip(a, b, strict=True))
    n = len(pairs)
    if not n:
        return None
    observed = sum(x == y for x, y in pairs) / n
    labels = set(a) | set(b)
    expected = sum((list(a).count(k) / n) * (list(b).count(k) / n) for k in labels)
    if expected >= 1:
        return 1.0 if observed == 1 else 0.0
    return round((observed - expected) / (1 - expected), 3)


def fleiss_kappa(ratings: Sequence[Sequence[str]]) -> float | None:
    """Fleiss' kappa: each item's labels from the same number (two or more) of raters; None
    when there are no items or fewer than two raters per item."""
    items = [list(r) for r in ratings if r]
    if not items or len({len(r) for r in items}) != 1 or len(items[0]) < 2:
        return None
    raters, n = len(items[0]), len(items)
    labels = sorted({x for r in items for x in r})
    agreement = [(sum(r.count(k) ** 2 for k in labels) - raters) / (raters * (raters - 1)) for r in items]
    shares = [sum(r.count(k) for r in items) / (n * raters) for k in labels]
    observed, expected = sum(agreement) / n, sum(p * p for p in shares)
    if expected >= 1:
        return 1.0 if observed == 1 else 0.0
    return round((observed - expected) / (1 - expected), 3)


def percent_agreement(ratings: Sequence[Sequence[str]]) -> float | None:
    """The share of rater pairs, over all items, that gave the same label (0..100)."""
    agree = total = 0
    for r in ratings:
        for i in range(len(r)):
            for j in range(i + 1, len(r)):
                total += 1
                agree += r[i] == r[j]
    return round(100 * agree / total, 1) if total else None
