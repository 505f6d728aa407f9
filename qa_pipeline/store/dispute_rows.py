"""Disputes in the results database: raised, decided (both audited in the same transaction),
listed, and the accepted ones as overrides for the scores they change."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update

from qa_pipeline.contracts import InteractionScore, Override
from qa_pipeline.errors import QAError
from qa_pipeline.schema import disputes
from qa_pipeline.store.account_rows import write_audit
from qa_pipeline.store.feedback_rows import save_feedback_in
from qa_pipeline.store.score_rows import replace_score_in

SHOWN = ("interaction_id", "criterion", "machine_result", "requested", "status", "decision")


def _shown(row: Any) -> dict[str, Any]:
    return {k: row._mapping[k] for k in SHOWN}


def raise_dispute(engine: Engine, record: dict[str, Any], actor: str) -> int:
    """A new open dispute (interaction_id, criterion, rubric, machine_result, requested, turn,
    comment); one open dispute per interaction and criterion."""
    with engine.begin() as conn:
        open_one = conn.execute(
            select(disputes.c.id).where(
                disputes.c.interaction_id == record["interaction_id"],
                disputes.c.criterion == record["criterion"],
                disputes.c.status == "open",
            )
        ).first()
        if open_one is not None:
            raise QAError(f"dispute #{open_one.id} on this criterion is still open")
        row = {**record, "raised_by": actor, "raised_at": datetime.now(UTC), "status": "open"}
        new_id = int(conn.execute(insert(disputes).values(**row)).inserted_primary_key[0])  # type: ignore[index]
        write_audit(conn, actor, "dispute.raise", f"dispute #{new_id}", None, {k: row.get(k) for k in SHOWN})
    return new_id


def decide_dispute(
    engine: Engine,
    dispute_id: int,
    status: str,
    actor: str,
    decision: str,
    correction: dict[str, Any] | None = None,
    rescored: Sequence[InteractionScore] = (),
) -> Any:
    """Accept or reject an open dispute; the decided row. With it, in the same transaction:
    the grader correction it makes, and the interaction's scores with the decision applied,
    so a decision is stored whole or not at all."""
    if status not in ("accepted", "rejected"):
        raise QAError("a dispute is accepted or rejected")
    with engine.begin() as conn:
        before = conn.execute(select(disputes).where(disputes.c.id == dispute_id)).first()
        if before is None or before.status != "open":
            raise QAError(f"dispute #{dispute_id} is not open")
        conn.execute(
            update(disputes)
            .where(disputes.c.id == dispute_id)
            .values(status=status, decided_by=actor, decided_at=datetime.now(UTC), decision=decision)
        )
        after = conn.execute(select(disputes).where(disputes.c.id == dispute_id)).first()
        action = "dispute.accept" if status == "accepted" else "dispute.reject"
        write_audit(conn, actor, action, f"dispute #{dispute_id}", _shown(before), _shown(after))
        save_feedback_in(conn, [correction] if correction else [])
        for score in rescored:
            replace_score_in(conn, score)
    return after


def find_disputes(
    engine: Engine,
    interaction_id: str | None = None,
    status: str | None = None,
    dispute_id: int | None = None,
) -> list[Any]:
    """Disputes, newest first, of one interaction and/or in one status."""
    query = select(disputes).order_by(disputes.c.id.desc())
    if interaction_id is not None:
        query = query.where(disputes.c.interaction_id == interaction_id)
    if status is not None:
        query = query.where(disputes.c.status == status)
    if dispute_id is not None:
        query = query.where(disputes.c.id == dispute_id)
    with engine.connect() as conn:
        return list(conn.execute(query).all())


def accepted_overrides(engine: Engine, interaction_ids: Sequence[str]) -> dict[str, list[Override]]:
    """Per interaction: the latest accepted dispute of each criterion, as an override."""
    found: dict[str, dict[str, Override]] = {}
    with engine.connect() as conn:
        rows = conn.execute(
            select(disputes)
            .where(disputes.c.interaction_id.in_(list(interaction_ids)), disputes.c.status == "accepted")
            .order_by(disputes.c.decided_at)
        ).all()
    for r in rows:
        found.setdefault(r.interaction_id, {})[r.criterion] = Override(
            r.criterion, r.requested, r.id, r.decided_by or "a QA lead"
        )
    return {k: list(v.values()) for k, v in found.items()}
