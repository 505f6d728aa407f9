"""Quarantined inputs (redacted copies with their pointers), and row counts."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Engine,
    func,
    insert,
    or_,
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


@dataclass
class QuarantineListing:
    """Quarantined inputs matching a filter: how many in all, how many per kind of reason and
    channel (largest first; numbers in a reason read N, so "conversation 48222 has no
    messages" and "conversation 48223 ..." are one kind), and the first ``limit`` items
    themselves (by channel, source, position)."""

    total: int
    by_reason: list[tuple[str, str, int]] = field(default_factory=list)  # (channel, kind, count)
    items: list[dict[str, Any]] = field(default_factory=list)


def list_quarantined(
    engine: Engine,
    run_id: str | None = None,
    channel: str | None = None,
    reason: str | None = None,
    limit: int | None = 50,
) -> QuarantineListing:
    """Quarantined inputs, optionally only those a run quarantined (first or again: the table
    keeps one row per input and reason, with the first and the last run that met it), of one
    channel, or whose reason contains ``reason`` (case-insensitive)."""
    where = []
    if run_id:
        where.append(or_(quarantine.c.first_run_id == run_id, quarantine.c.last_run_id == run_id))
    if channel:
        where.append(quarantine.c.channel == channel)
    if reason:
        where.append(func.lower(quarantine.c.reason).contains(reason.lower(), autoescape=True))
    count = func.count().label("n")
    # Grouped in the database with every digit read as 0, so a night of 500,000 reasons that
    # differ only in an id comes back as a few rows (one example each), not 500,000; the
    # digit runs are then read as N here, which merges "message 9" and "message 10".
    shape: Any = quarantine.c.reason
    for digit in "123456789":
        shape = func.replace(shape, digit, "0")
    with engine.connect() as conn:
        grouped = conn.execute(
            select(quarantine.c.channel, func.min(quarantine.c.reason), count)
            .where(*where)
            .group_by(quarantine.c.channel, shape)
        ).all()
        query = (
            select(quarantine)
            .where(*where)
            .order_by(quarantine.c.channel, quarantine.c.source, quarantine.c.position, quarantine.c.id)
        )
        items = [dict(r._mapping) for r in conn.execute(query.limit(limit) if limit else query)]
    kinds: Counter[tuple[str, str]] = Counter()
    for c, why, n in grouped:
        kinds[c, re.sub(r"\d+", "N", why)] += n
    by_reason = sorted(((c, why, n) for (c, why), n in kinds.items()), key=lambda k: (-k[2], k[0], k[1]))
    return QuarantineListing(total=sum(kinds.values()), by_reason=by_reason, items=items)


def table_counts(engine: Engine) -> dict[str, int]:
    """Rows per table: what the idempotence checks and the run summary read."""
    with engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in metadata.sorted_tables
        }
