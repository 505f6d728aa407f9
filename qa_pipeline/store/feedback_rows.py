"""Graders' corrections in the results database: what a correction is checked against (the
interaction, the machine's latest result, the turn's text), and the corrections themselves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select

from qa_pipeline.schema import criterion_results, grader_feedback, interactions, scores, turns


def interaction_language(engine: Engine, interaction_id: str) -> tuple[bool, str | None]:
    """Whether the interaction is stored, and its language."""
    with engine.connect() as conn:
        row = conn.execute(select(interactions.c.language).where(interactions.c.id == interaction_id)).first()
    return row is not None, (row.language if row is not None else None)


def machine_result(engine: Engine, interaction_id: str, criterion: str, rubric: str | None) -> Any:
    """The newest machine result (result, method, evidence, rubric) for the criterion, or None."""
    query = (
        select(
            criterion_results.c.result,
            criterion_results.c.method,
            criterion_results.c.evidence,
            criterion_results.c.rubric,
        )
        .join(
            scores,
            (scores.c.interaction_id == criterion_results.c.interaction_id)
            & (scores.c.rubric == criterion_results.c.rubric),
        )
        .where(
            criterion_results.c.interaction_id == interaction_id, criterion_results.c.criterion == criterion
        )
        .order_by(scores.c.scored_at.desc())
    )
    if rubric:
        query = query.where(criterion_results.c.rubric == rubric)
    with engine.connect() as conn:
        return conn.execute(query).first()


def turn_text(engine: Engine, interaction_id: str, idx: int) -> str | None:
    """The stored (redacted) text of one turn, or None when there is no such turn."""
    with engine.connect() as conn:
        return conn.execute(
            select(turns.c.text).where(turns.c.interaction_id == interaction_id, turns.c.idx == idx)
        ).scalar_one_or_none()


def save_feedback(engine: Engine, records: Sequence[dict[str, Any]]) -> None:
    """Store corrections by id: one already stored with the same id is replaced."""
    with engine.begin() as conn:
        save_feedback_in(conn, records)


def save_feedback_in(conn: Connection, records: Sequence[dict[str, Any]]) -> None:
    """``save_feedback`` inside the caller's transaction."""
    if records:
        conn.execute(delete(grader_feedback).where(grader_feedback.c.id.in_([r["id"] for r in records])))
        conn.execute(insert(grader_feedback), list(records))


def stored_feedback(engine: Engine, trainable: bool = False) -> list[Any]:
    """Every stored correction, oldest import first; ``trainable``: only those naming a turn
    with a pass or fail."""
    query = select(grader_feedback).order_by(grader_feedback.c.imported_at)
    if trainable:
        query = query.where(grader_feedback.c.text.is_not(None), grader_feedback.c.grader_result != "na")
    with engine.connect() as conn:
        return list(conn.execute(query).all())
