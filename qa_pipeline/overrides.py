"""The total of an interaction's criteria, its score flag, and what an accepted dispute
changes: the criterion's result (the machine's kept as ``original``), the total, and the
flags that hung on the old result. Scoring and the store both use this; no spaCy here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qa_pipeline.contracts import CriterionResult, Flag, InteractionScore, Override

if TYPE_CHECKING:  # only its type: the store uses this module without loading rubric validation
    from qa_pipeline.rubric import Rubric

POINTS = {"pass": 1.0, "fail": 0.0, "na": None}


def total_score(rubric: Rubric, results: dict[str, CriterionResult]) -> float:
    """Weighted 0..100 over applicable criteria; 0 if a critical criterion failed."""
    if any(c.critical and c.id in results and results[c.id].result == "fail" for c in rubric.criteria):
        return 0.0
    applicable = [c for c in rubric.criteria if c.id in results and results[c.id].result != "na"]
    weight = sum(c.weight for c in applicable)
    if not weight:
        return 0.0
    return round(100.0 * sum(c.weight * (results[c.id].score or 0.0) for c in applicable) / weight, 1)


def score_flag(rubric: Rubric, score: float, results: dict[str, CriterionResult]) -> list[Flag]:
    """A flag when the score is under the rubric's (the team's) threshold and anything was scored."""
    threshold = rubric.flags.score_below
    if threshold is None or score >= threshold or all(r.result == "na" for r in results.values()):
        return []
    return [
        Flag.model_construct(
            code="low_score", reason=f"score {score:.0f} is under the threshold {threshold:.0f}"
        )
    ]


def apply_overrides(score: InteractionScore, overrides: list[Override], rubric: Rubric) -> InteractionScore:
    """``score`` with each override's result in place of the machine's (kept as ``original``),
    the total recomputed, and the flags that depended on the old results redone."""
    criteria = dict(score.criteria)
    changed = set()
    names = {c.id: c for c in rubric.criteria}
    for o in overrides:
        current = criteria.get(o.criterion)
        if current is None or o.criterion not in names:
            continue
        original = current.original or current.result
        criteria[o.criterion] = current.model_copy(
            update={
                "result": o.result,
                "score": POINTS[o.result],
                "confidence": 1.0,
                "reason": f"decided by {o.decided_by} (dispute #{o.dispute_id}); the machine said {original}",
                "original": original,
                "dispute": o.dispute_id,
            }
        )
        changed.add(o.criterion)
    if not changed:
        return score
    total = total_score(rubric, criteria)
    flags = [
        f
        for f in score.flags
        if f.code != "low_score" and not (f.criterion in changed and criteria[f.criterion].result != "fail")
    ]
    for cid in sorted(changed):
        c = names[cid]
        if (
            c.critical
            and criteria[cid].result == "fail"
            and not any(f.code == "critical_fail" and f.criterion == cid for f in flags)
        ):
            why = f"{c.name} failed (decided by a QA lead)"
            flags.append(Flag(code="critical_fail", criterion=cid, reason=why))
    flags += score_flag(rubric, total, criteria)
    return score.model_copy(update={"criteria": criteria, "score": total, "flags": flags})
