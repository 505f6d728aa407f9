"""Scores and criterion results: writes, loads, and the reads behind scorecards and alerts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import (
    Engine,
    delete,
    insert,
    select,
)

from qa_pipeline.contracts import InteractionScore
from qa_pipeline.faults import checkpoint
from qa_pipeline.schema import (
    criterion_results,
    interactions,
    scores,
)


def save_scores(engine: Engine, items: Sequence[InteractionScore], run_id: str | None = None) -> None:
    """Insert or replace scores and criterion results (keyed by interaction and rubric)."""
    if not items:
        return
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for rubric in {s.rubric for s in items}:
            ids = [s.interaction_id for s in items if s.rubric == rubric]
            conn.execute(
                delete(criterion_results).where(
                    criterion_results.c.interaction_id.in_(ids), criterion_results.c.rubric == rubric
                )
            )
            conn.execute(delete(scores).where(scores.c.interaction_id.in_(ids), scores.c.rubric == rubric))
        checkpoint("store.scores.in_transaction")
        conn.execute(
            insert(scores),
            [
                {
                    "interaction_id": s.interaction_id,
                    "rubric": s.rubric,
                    "agent_id": s.agent_id,
                    "channel": s.channel,
                    "model": s.model,
                    "language": s.language,
                    "score": s.score,
                    "flags": [f.model_dump(exclude_none=True) for f in s.flags],
                    "run_id": run_id,
                    "scored_at": now,
                }
                for s in items
            ],
        )
        conn.execute(
            insert(criterion_results),
            [
                {
                    "interaction_id": s.interaction_id,
                    "rubric": s.rubric,
                    "criterion": cid,
                    "result": r.result,
                    "score": r.score,
                    "confidence": r.confidence,
                    "method": r.method,
                    "evidence": [e.model_dump(exclude_none=True) for e in r.evidence],
                    "reason": r.reason,
                }
                for s in items
                for cid, r in s.criteria.items()
            ],
        )


def load_scores(engine: Engine, interaction_id: str) -> list[InteractionScore]:
    """The stored scores of one interaction (one per rubric version), newest first."""
    with engine.connect() as conn:
        heads = conn.execute(
            select(scores)
            .where(scores.c.interaction_id == interaction_id)
            .order_by(scores.c.scored_at.desc())
        ).all()
        crit = conn.execute(
            select(criterion_results).where(criterion_results.c.interaction_id == interaction_id)
        ).all()
    return [
        InteractionScore.model_validate(
            {
                "interaction_id": h.interaction_id,
                "agent_id": h.agent_id,
                "channel": h.channel,
                "rubric": h.rubric,
                "model": h.model or "rules-only",
                "language": h.language,
                "score": h.score,
                "flags": h.flags or [],
                "criteria": {
                    c.criterion: {
                        "result": c.result,
                        "score": c.score,
                        "confidence": c.confidence,
                        "method": c.method,
                        "evidence": c.evidence or [],
                        "reason": c.reason,
                    }
                    for c in crit
                    if c.rubric == h.rubric
                },
            }
        )
        for h in heads
    ]


def scorecard_rows(engine: Engine, rubric: str | None = None) -> tuple[list[dict], list[dict]]:
    """(scores joined with their interactions, criterion results), of one rubric or all."""
    query = select(
        scores.c.interaction_id,
        scores.c.rubric,
        scores.c.scored_at,
        scores.c.score,
        scores.c.flags,
        scores.c.channel,
        interactions.c.agent_id,
        interactions.c.agent_name,
        interactions.c.team,
        interactions.c.started_at,
        interactions.c.metadata,
    ).join(interactions, interactions.c.id == scores.c.interaction_id)
    crit_query = select(criterion_results)
    if rubric:
        query = query.where(scores.c.rubric == rubric)
        crit_query = crit_query.where(criterion_results.c.rubric == rubric)
    with engine.connect() as conn:
        return (
            [dict(r) for r in conn.execute(query).mappings()],
            [dict(r) for r in conn.execute(crit_query).mappings()],
        )


def flagged_in_run(engine: Engine, run_id: str) -> list[dict]:
    """The scores a run wrote that carry flags, with their interaction's agent, team and channel."""
    query = (
        select(
            scores.c.interaction_id,
            scores.c.score,
            scores.c.flags,
            interactions.c.agent_id,
            interactions.c.agent_name,
            interactions.c.team,
            interactions.c.channel,
        )
        .join(interactions, interactions.c.id == scores.c.interaction_id)
        .where(scores.c.run_id == run_id)
    )
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings() if r["flags"]]
