"""Calibration sessions: how far graders agree with each other and with the machine, per
criterion (percent agreement, Cohen's kappa per pair of graders and per grader against the
machine, Fleiss' kappa over all graders)."""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations
from typing import Any

from qa_pipeline.metrics import cohen_kappa, fleiss_kappa, percent_agreement


def agreement(
    interactions: list[str], graders: list[str], grades: list[Any], machine: dict[str, dict[str, str]]
) -> dict[str, Any]:
    """The session report. ``grades``: rows (interaction_id, grader, criterion, result);
    ``machine``: interaction -> criterion -> the machine's own result."""
    given: dict[tuple[str, str], dict[str, str]] = defaultdict(
        dict
    )  # (interaction, criterion) -> grader -> result
    for g in grades:
        given[(g.interaction_id, g.criterion)][g.grader] = g.result
    criteria = sorted({c for _, c in given} | {c for m in machine.values() for c in m})
    rows = []
    for criterion in criteria:
        complete = [i for i in interactions if len(given[(i, criterion)]) == len(graders) and graders]
        ratings = [[given[(i, criterion)][g] for g in graders] for i in complete]
        pairs = []
        for a, b in combinations(range(len(graders)), 2):
            pairs.append(
                (graders[a], graders[b], cohen_kappa([r[a] for r in ratings], [r[b] for r in ratings]))
            )
        versus = []
        for grader in graders:
            judged = [
                i for i in interactions if grader in given[(i, criterion)] and criterion in machine.get(i, {})
            ]
            theirs = [given[(i, criterion)][grader] for i in judged]
            ours = [machine[i][criterion] for i in judged]
            same = sum(x == y for x, y in zip(theirs, ours, strict=True))
            versus.append(
                {
                    "grader": grader,
                    "items": len(judged),
                    "agreement": round(100 * same / len(judged), 1) if judged else None,
                    "kappa": cohen_kappa(theirs, ours),
                }
            )
        rows.append(
            {
                "criterion": criterion,
                "items": len(complete),
                "agreement": percent_agreement(ratings),
                "fleiss": fleiss_kappa(ratings) if len(graders) >= 2 else None,
                "pairs": pairs,
                "machine": versus,
            }
        )
    progress = {g: len({i for (i, _), by in given.items() if g in by and i in interactions}) for g in graders}
    return {"criteria": rows, "progress": progress, "total": len(interactions)}
