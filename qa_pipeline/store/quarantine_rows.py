"""Quarantined inputs (redacted copies with their pointers), and row counts."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import (
    Engine,
    insert,
    select,
    update,
)

from qa_pipeline.contracts import Quarantined
from qa_pipeline.interactions import content_hash
from qa_pipeline.schema import (
    metadata,
    quarantine,
)


def save_quarantined(engine: Engine, items: Iterable[Quarantined], run_id: str | None = None) -> int:
    """Record quarantined inputs once each (same input and reason again only updates the run)."""
    rows = {}
    for q in items:
        key = content_hash(q.channel, q.source, q.reason, length=32)
        rows[key] = {
            "id": key,
            "channel": q.channel,
            "source": q.source,
            "reason": q.reason,
            "record": q.record,
            "position": q.position,
            "first_run_id": run_id,
            "last_run_id": run_id,
        }
    if not rows:
        return 0
    with engine.begin() as conn:
        known = set(conn.execute(select(quarantine.c.id).where(quarantine.c.id.in_(list(rows)))).scalars())
        if known:
            conn.execute(update(quarantine).where(quarantine.c.id.in_(known)).values(last_run_id=run_id))
        new = [r for k, r in rows.items() if k not in known]
        if new:
            conn.execute(insert(quarantine), new)
    return len(rows)


def table_counts(engine: Engine) -> dict[str, int]:
    """Rows per table: what the idempotence checks and the run summary read."""
    from sqlalchemy import func

    with engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in metadata.sorted_tables
        }
