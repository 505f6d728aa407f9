"""Disputes, decided: an accepted dispute overrides the machine's result in every stored score
of the interaction (so pages, scorecards, search, exports and alerts all read the override,
with the machine's result kept beside it), and becomes a grader correction for the next
``qa train``. The nightly run applies accepted overrides again whenever it re-scores."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from qa_pipeline.contracts import InteractionScore, Override
from qa_pipeline.errors import QAError
from qa_pipeline.feedback import correction, keyed
from qa_pipeline.overrides import apply_overrides
from qa_pipeline.rubric import rubric_for
from qa_pipeline.store import Store

RESULTS = ("pass", "fail", "na")


def raise_dispute(
    store: Store,
    score: InteractionScore,
    criterion: str,
    requested: str,
    comment: str,
    turn: int | None,
    who: str,
) -> int:
    """Open a dispute of one criterion of the newest score; its number."""
    current = score.criteria.get(criterion)
    if current is None:
        raise QAError(f"the score has no criterion {criterion!r}")
    if requested not in RESULTS or requested == current.result:
        raise QAError(f"ask for another result than {current.result}: pass, fail or na")
    if not comment.strip():
        raise QAError("say why: a dispute needs a comment")
    return store.raise_dispute(
        {
            "interaction_id": score.interaction_id,
            "criterion": criterion,
            "rubric": score.rubric,
            "machine_result": current.original or current.result,
            "requested": requested,
            "turn": turn,
            "comment": comment.strip()[:4000],
        },
        actor=who,
    )


def decide(
    store: Store, dispute_id: int, accept: bool, lead: str, decision: str, rubrics: list[Path]
) -> None:
    """Accept or reject an open dispute. Accepting overrides the stored scores and stores the
    grader correction (the disputed turn's text, when one was named or the machine pointed at
    one): everything is worked out first, then stored in one transaction with the decision."""
    [dispute] = store.find_disputes(dispute_id=dispute_id) or [None]
    if dispute is None:
        raise QAError(f"no dispute #{dispute_id}")
    if not accept:
        store.decide_dispute(dispute_id, "rejected", lead, decision.strip()[:4000])
        return
    turn = "" if dispute.turn is None else str(dispute.turn)
    row = {
        "interaction_id": dispute.interaction_id,
        "criterion": dispute.criterion,
        "result": dispute.requested,
        "grader": lead,
        "reason": f"dispute #{dispute_id}: {dispute.comment}" + (f" / {decision}" if decision else ""),
        "turn": turn,
        "rubric": dispute.rubric,
    }
    problem, found = correction(store, row)
    record = keyed(found, f"dispute #{dispute_id}", datetime.now(UTC)) if not problem else None
    earlier = store.accepted_overrides([dispute.interaction_id]).get(dispute.interaction_id, [])
    decided = {o.criterion: o for o in earlier}
    decided[dispute.criterion] = Override(dispute.criterion, dispute.requested, dispute_id, lead)
    rescored = []
    for score in store.load_scores(dispute.interaction_id):
        rubric = rubric_for(score.rubric, rubrics)
        if rubric is not None:
            rescored.append(apply_overrides(score, list(decided.values()), rubric))
    store.decide_dispute(dispute_id, "accepted", lead, decision.strip()[:4000], record, rescored)
