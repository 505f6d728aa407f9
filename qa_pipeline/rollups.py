"""Per agent and UTC day totals of each interaction's newest score (``daily_counts``): what the
agent and team pages count, so that a team's month is a few hundred rows, not the newest score
of every interaction in it. What one interaction adds is defined here, without SQL: the store
keeps and reads the totals (``store.rollup_rows``), the migration that adds them counts them
with the same ``contributions``, and the scorecards count their rows with it, so pages and
scorecards cannot disagree on what a total means. A total is a key with a count and a sum
(``n``, ``total``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

SCORE_BINS = 10


def numeric_metrics(meta: dict | None) -> dict[str, float]:
    """An interaction's numeric call and chat metrics; a call's handle time is its duration
    when its metrics do not give one."""
    given = {**((meta or {}).get("metrics") or {})}
    given.setdefault("handle_time_s", (meta or {}).get("duration"))
    return {k: float(v) for k, v in given.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def utc_day(when: datetime | None) -> date | None:
    if when is None:
        return None
    return (when.astimezone(UTC) if when.tzinfo else when).date()


def contributions(row: dict) -> Iterator[tuple[str, float, float]]:
    """What one interaction (a ``newest_scores`` row with its interaction's ``metadata`` and
    ``agent_name``) adds to its agent's day, as (key, n, total):

    - ``interactions``: 1; ``scored``: 1 and the score, when any criterion applied;
    - ``bin:I``: 1 in the score's tenth (0-9), when scored;
    - ``result:CRITERION:RESULT``: 1, and 1 in total when an accepted dispute decided it;
    - ``metric:NAME``: 1 and the value (handle time, first response, resolution, ...);
    - ``flags``: the number of flags; ``name:NAME``: 1 (the name the agent went by).
    """
    yield "interactions", 1, 0.0
    results, decided = row["results"], row["decided"]
    if any(result != "na" for result in results.values()):
        yield "scored", 1, float(row["score"])
        yield f"bin:{min(int(row['score'] // 10), SCORE_BINS - 1)}", 1, 0.0
    for criterion, result in results.items():
        yield f"result:{criterion}:{result}", 1, float(criterion in decided)
    for name, value in numeric_metrics(row["metadata"]).items():
        yield f"metric:{name}", 1, value
    if row["flags"]:
        yield "flags", len(row["flags"]), 0.0
    if row["agent_name"]:
        yield f"name:{row['agent_name']}", 1, 0.0


def totals_of(rows: Iterable[dict], by: str) -> list[dict]:
    """These rows' contributions added up per key and agent (``by`` "agent_id") or UTC day
    (``by`` "day"): the same shape as ``period_totals`` reads from the database."""
    added: dict[tuple[Any, str], list[float]] = defaultdict(lambda: [0, 0.0])
    for row in rows:
        group = row["agent_id"] if by == "agent_id" else utc_day(row["started_at"])
        for key, n, total in contributions(row):
            slot = added[(group, key)]
            slot[0] += n
            slot[1] += total
    return [{by: g, "key": k, "n": int(n), "total": total} for (g, k), (n, total) in added.items()]
