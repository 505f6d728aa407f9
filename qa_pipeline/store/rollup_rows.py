"""The per agent and UTC day totals of each interaction's newest score (``daily_counts``):
kept in step with ``newest_scores`` by deltas in the same transaction (subtract the old row,
add the new), written as atomic increments so that two runs saving scores of the same agent
and day at once both count; and read, added up by the database, for the agent and team pages.
What one interaction adds: ``qa_pipeline.rollups.contributions``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, Connection, Engine, func, select
from sqlalchemy.dialects import postgresql, sqlite

from qa_pipeline.rollups import contributions, utc_day
from qa_pipeline.schema import daily_counts, interactions, newest_scores
from qa_pipeline.store.run_rows import aware

Key = tuple[str, str, date, str]  # agent, team ("" for none), day, key
Deltas = dict[Key, list[float]]  # key -> [count, sum]


def newest_rows(conn: Connection, ids: Sequence[str]) -> list[dict]:
    """These interactions' ``newest_scores`` rows with their interactions' ``metadata`` and
    ``agent_name``: what ``contributions`` reads."""
    query = (
        select(
            newest_scores.c.agent_id,
            newest_scores.c.team,
            newest_scores.c.started_at,
            newest_scores.c.score,
            newest_scores.c.flags,
            newest_scores.c.results,
            newest_scores.c.decided,
            interactions.c.metadata,
            interactions.c.agent_name,
        )
        .join(interactions, interactions.c.id == newest_scores.c.interaction_id)
        .where(newest_scores.c.interaction_id.in_(list(ids)))
    )
    names = [c.name for c in query.selected_columns]
    return [dict(zip(names, values, strict=True)) for values in conn.execute(query)]


def new_deltas() -> Deltas:
    return defaultdict(lambda: [0, 0.0])


def add_contributions(deltas: Deltas, rows: Iterable[dict], sign: int) -> None:
    """Add (sign 1) or take away (sign -1) these rows' contributions (``newest_rows``) to
    ``deltas``; a row without a start is on no page's period and adds nothing."""
    for row in rows:
        day = utc_day(row["started_at"])
        if day is None:
            continue
        for key, n, total in contributions(row):
            slot = deltas[(row["agent_id"], row["team"] or "", day, key)]
            slot[0] += sign * n
            slot[1] += sign * total


def apply_deltas(conn: Connection, deltas: Deltas) -> None:
    """Write the deltas that change something (a rescore that changes nothing writes nothing)."""
    changed = [(k, int(n), total) for k, (n, total) in sorted(deltas.items()) if n or total]
    if changed:
        _add(conn, changed)


def count_newest(conn: Connection, ids: Iterable[str], sign: int) -> None:
    """Add (sign 1) or take away (sign -1) the contributions of these interactions' current
    ``newest_scores`` rows, inside the caller's transaction: call it with -1 before those rows
    are deleted."""
    wanted = sorted(set(ids))
    deltas = new_deltas()
    for start in range(0, len(wanted), 500):
        add_contributions(deltas, newest_rows(conn, wanted[start : start + 500]), sign)
    apply_deltas(conn, deltas)


def _add(conn: Connection, deltas: list[tuple[Key, int, float]]) -> None:
    """Increment the totals (inserting the ones not there yet), in key order so that two
    transactions take their row locks in the same order. One statement run for many rows: a
    multi-row VALUES would be compiled anew for every batch (5x the cost of the scores)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(daily_counts)
    upsert = statement.on_conflict_do_update(
        index_elements=["agent_id", "day", "team", "key"],
        set_={
            "n": daily_counts.c.n + statement.excluded.n,
            "total": daily_counts.c.total + statement.excluded.total,
        },
    )
    conn.execute(
        upsert,
        [
            {"agent_id": a, "team": t, "day": d, "key": k, "n": n, "total": total}
            for (a, t, d, k), n, total in deltas
        ],
    )


def rebuild_totals(conn: Connection, batch: int = 20_000) -> int:
    """Count every ``newest_scores`` row into an empty ``daily_counts`` (the migration that
    adds the table, and a repair). Returns how many interactions were counted."""
    conn.execute(daily_counts.delete())
    counted, after = 0, ""
    while True:
        ids = list(
            conn.execute(
                select(newest_scores.c.interaction_id)
                .where(newest_scores.c.interaction_id > after)
                .order_by(newest_scores.c.interaction_id)
                .limit(batch)
            ).scalars()
        )
        if not ids:
            return counted
        count_newest(conn, ids, 1)
        counted += len(ids)
        after = ids[-1]


def period_totals(
    engine: Engine,
    agents: Sequence[str] | None,
    teams: Sequence[str] | None,
    since: datetime | None,
    until: datetime | None,
    by: str,
) -> list[dict]:
    """The totals of these agents and/or teams over the UTC days in [since, until) (a page's
    period starts and ends at midnight UTC), per key and agent (``by`` "agent_id") or day
    (``by`` "day"): added up by the database, so a team's month is a few hundred rows."""
    wanted: list[ColumnElement[bool]] = []
    if agents is not None:
        wanted.append(daily_counts.c.agent_id.in_(list(agents)))
    if teams is not None:
        wanted.append(daily_counts.c.team.in_(list(teams)))
    if since is not None:
        wanted.append(daily_counts.c.day >= aware(since).astimezone(UTC).date())
    if until is not None:
        wanted.append(daily_counts.c.day < aware(until).astimezone(UTC).date())
    group = daily_counts.c.agent_id if by == "agent_id" else daily_counts.c.day
    query = (
        select(group, daily_counts.c.key, func.sum(daily_counts.c.n), func.sum(daily_counts.c.total))
        .where(*wanted)
        .group_by(group, daily_counts.c.key)
    )
    with engine.connect() as conn:
        found = conn.execute(query).all()
    return [{by: g, "key": k, "n": int(n), "total": float(total)} for g, k, n, total in found if n]
