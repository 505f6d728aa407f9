"""Scores and criterion results: writes, loads, and the reads behind scorecards and alerts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    delete,
    func,
    insert,
    select,
    update,
)

from qa_pipeline.contracts import InteractionScore
from qa_pipeline.faults import checkpoint
from qa_pipeline.schema import (
    criterion_results,
    interactions,
    newest_scores,
    repeat_contacts,
    score_flags,
    scores,
)
from qa_pipeline.store.interaction_rows import in_scope
from qa_pipeline.store.rollup_rows import add_contributions, apply_deltas, new_deltas, newest_rows
from qa_pipeline.store.run_rows import aware


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
        conn.execute(insert(criterion_results), [row for s in items for row in _criterion_rows(s)])
        _replace_flags(conn, items)
        refresh_newest(conn, {s.interaction_id for s in items})


def _replace_flags(conn: Connection, items: Sequence[InteractionScore]) -> None:
    """Rewrite the score_flags rows of these scores (by interaction and rubric), with their
    interactions' filter columns."""
    for rubric in {s.rubric for s in items}:
        ids = [s.interaction_id for s in items if s.rubric == rubric]
        conn.execute(
            delete(score_flags).where(score_flags.c.interaction_id.in_(ids), score_flags.c.rubric == rubric)
        )
    flagged = [s for s in items if s.flags]
    if not flagged:
        return
    wanted = {s.interaction_id for s in flagged}
    copied = (interactions.c.agent_id, interactions.c.team, interactions.c.channel, interactions.c.started_at)
    heads = {
        row.id: dict(zip(("agent_id", "team", "channel", "started_at"), row[1:], strict=True))
        for row in conn.execute(select(interactions.c.id, *copied).where(interactions.c.id.in_(wanted)))
    }
    rows = [
        {"interaction_id": s.interaction_id, "rubric": s.rubric, "code": code, **heads[s.interaction_id]}
        for s in flagged
        for code in sorted({f.code for f in s.flags})
    ]
    conn.execute(insert(score_flags), rows)


def refresh_newest(conn: Connection, ids: Iterable[str]) -> None:
    """Rewrite the newest_scores rows of these interactions from their stored scores, inside
    the caller's transaction: the newest scored_at of any rubric (ties: the first rubric by
    name, as migration 0011 picked), its flags, and its criterion results folded in."""
    wanted = sorted(set(ids))
    deltas = new_deltas()  # the day totals: the rows replaced out, the new rows in, written once
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        add_contributions(deltas, newest_rows(conn, chunk), -1)
        conn.execute(delete(newest_scores).where(newest_scores.c.interaction_id.in_(chunk)))
        found = conn.execute(
            select(
                scores.c.interaction_id,
                scores.c.rubric,
                scores.c.scored_at,
                scores.c.score,
                scores.c.flags,
                interactions.c.agent_id,
                interactions.c.team,
                interactions.c.started_at,
                interactions.c.customer_key,
                interactions.c.metadata,
                interactions.c.agent_name,
            )
            .join(interactions, interactions.c.id == scores.c.interaction_id)
            .where(scores.c.interaction_id.in_(chunk))
            .order_by(scores.c.interaction_id, scores.c.rubric)
        ).all()
        newest: dict[str, Any] = {}
        for row in found:  # by rubric name: max() keeps the first of a tie
            kept = newest.get(row.interaction_id)
            if kept is None or _when(row.scored_at) > _when(kept.scored_at):
                newest[row.interaction_id] = row
        if not newest:
            continue
        found_results = conn.execute(
            select(
                criterion_results.c.interaction_id,
                criterion_results.c.rubric,
                criterion_results.c.criterion,
                criterion_results.c.result,
                criterion_results.c.original,
            )
            .where(criterion_results.c.interaction_id.in_(list(newest)))
            .order_by(criterion_results.c.criterion)
        )
        results, decided = fold_results(
            (iid, criterion, result, original)
            for iid, rubric, criterion, result, original in found_results
            if newest[iid].rubric == rubric
        )
        rows = [
            {
                "interaction_id": iid,
                "rubric": row.rubric,
                "agent_id": row.agent_id,
                "team": row.team,
                "started_at": row.started_at,
                "score": row.score,
                "flags": row.flags,
                "results": results.get(iid, {}),
                "decided": decided.get(iid, []),
                "applicable": any(r != "na" for r in results.get(iid, {}).values()),
                "known_customer": row.customer_key is not None,
            }
            for iid, row in newest.items()
        ]
        conn.execute(insert(newest_scores), rows)
        read = (
            {**r, "metadata": row.metadata, "agent_name": row.agent_name}
            for r, row in zip(rows, newest.values(), strict=True)
        )
        add_contributions(deltas, read, 1)
    apply_deltas(conn, deltas)


def _when(moment: datetime | None) -> datetime:
    """A scored_at to compare: aware, and an unknown one older than any."""
    return aware(moment) if moment is not None else datetime.min.replace(tzinfo=UTC)


def fold_results(
    found: Iterable[tuple[str, str, str, Any]],
) -> tuple[dict[str, dict[str, str]], dict[str, list[str]]]:
    """Criterion results (interaction, criterion, result, original) folded per interaction:
    {criterion: result}, and the criteria an accepted dispute decided (the machine's original
    kept beside them). What ``newest_scores`` stores and the scorecards' rows carry."""
    results: dict[str, dict[str, str]] = {}
    decided: dict[str, list[str]] = {}
    for iid, criterion, result, original in found:
        results.setdefault(iid, {})[criterion] = result
        if isinstance(original, str):  # NULL, or NaN from a DataFrame: not decided
            decided.setdefault(iid, []).append(criterion)
    return results, decided


def _criterion_rows(s: InteractionScore) -> list[dict]:
    return [
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
            "original": r.original,
            "dispute_id": r.dispute,
        }
        for cid, r in s.criteria.items()
    ]


def replace_score_in(conn: Connection, item: InteractionScore) -> None:
    """Rewrite one stored score (its total, flags and criterion results) in place, inside the
    caller's transaction: the run that wrote it and when stay as they were (an accepted
    dispute changes what it says)."""
    conn.execute(
        update(scores)
        .where(scores.c.interaction_id == item.interaction_id, scores.c.rubric == item.rubric)
        .values(score=item.score, flags=[f.model_dump(exclude_none=True) for f in item.flags])
    )
    conn.execute(
        delete(criterion_results).where(
            criterion_results.c.interaction_id == item.interaction_id,
            criterion_results.c.rubric == item.rubric,
        )
    )
    conn.execute(insert(criterion_results), _criterion_rows(item))
    _replace_flags(conn, [item])
    refresh_newest(conn, {item.interaction_id})


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
                        "original": c.original,
                        "dispute": c.dispute_id,
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


def period_results(
    engine: Engine,
    agents: Sequence[str] | None = None,
    teams: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    ids: Sequence[str] | None = None,
) -> list[dict]:
    """The interactions of these agents and/or teams started in [since, until) (and among
    ``ids`` when given), each with its newest score (and its repeat contact, if any) and that
    score's criterion results (``results``: {criterion: result}; ``decided``: those an
    accepted dispute decided): what the CSV export of a page writes.
    One range of ``newest_scores`` on its (agent|team, started_at) index."""
    query = (
        select(
            newest_scores.c.interaction_id,
            newest_scores.c.agent_id,
            interactions.c.agent_name,
            newest_scores.c.team,
            interactions.c.channel,
            newest_scores.c.started_at,
            interactions.c.metadata,
            interactions.c.customer_key,
            newest_scores.c.rubric,
            newest_scores.c.score,
            newest_scores.c.flags,
            newest_scores.c.results,
            newest_scores.c.decided,
            newest_scores.c.applicable,
            repeat_contacts.c.repeat_id,
            repeat_contacts.c.repeat_channel,
            repeat_contacts.c.gap_s,
        )
        .join(interactions, interactions.c.id == newest_scores.c.interaction_id)
        .outerjoin(repeat_contacts, repeat_contacts.c.interaction_id == newest_scores.c.interaction_id)
        .where(*in_scope(agents, teams, since, until, newest_scores))
    )
    if ids is not None:
        query = query.where(newest_scores.c.interaction_id.in_(list(ids)))
    names = [c.name for c in query.selected_columns]
    with engine.connect() as conn:
        # plain tuples: a RowMapping per row costs 5x as much
        return [dict(zip(names, values, strict=True)) for values in conn.execute(query)]


def lowest_scores(
    engine: Engine,
    agents: Sequence[str] | None,
    teams: Sequence[str] | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> list[dict]:
    """The lowest newest scores in scope (ties: by interaction id), leaving out interactions
    where every criterion was N/A: interaction_id, score, channel, started_at."""
    query = (
        select(
            newest_scores.c.interaction_id,
            newest_scores.c.score,
            interactions.c.channel,
            newest_scores.c.started_at,
        )
        .join(interactions, interactions.c.id == newest_scores.c.interaction_id)
        .where(*in_scope(agents, teams, since, until, newest_scores), newest_scores.c.applicable)
        .order_by(newest_scores.c.score, newest_scores.c.interaction_id)
        .limit(limit)
    )
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def period_first_contacts(
    engine: Engine,
    agents: Sequence[str] | None,
    teams: Sequence[str] | None,
    since: datetime | None,
    until: datetime | None,
    horizon: datetime | None,
    window_days: float,
) -> tuple[int, list[tuple[str, str]]]:
    """First-contact resolution over the scored interactions in scope, as
    ``customers.first_contact`` decides it one by one: how many were resolved at first
    contact (their customer is known, the window has passed by the newest contact stored,
    and no repeat came), and those that were not, by start, with the sentence that explains
    each."""
    from qa_pipeline.customers import first_contact

    scope = in_scope(agents, teams, since, until, newest_scores)
    repeated = select(
        newest_scores.c.interaction_id,
        newest_scores.c.started_at,
        repeat_contacts.c.repeat_id,
        repeat_contacts.c.repeat_channel,
        repeat_contacts.c.gap_s,
    ).join(repeat_contacts, repeat_contacts.c.interaction_id == newest_scores.c.interaction_id)
    with engine.connect() as conn:
        found = conn.execute(repeated.where(*scope).order_by(newest_scores.c.started_at)).all()
        resolved = 0
        if horizon is not None:
            cut = aware(horizon) - timedelta(days=window_days)
            resolved = conn.execute(
                select(func.count())
                .select_from(newest_scores)
                .where(
                    *scope,
                    newest_scores.c.known_customer,
                    newest_scores.c.started_at <= cut,
                    ~select(repeat_contacts.c.interaction_id)
                    .where(repeat_contacts.c.interaction_id == newest_scores.c.interaction_id)
                    .exists(),
                )
            ).scalar_one()
    repeats = []
    for iid, started, repeat_id, channel, gap in found:
        repeat = {"repeat_id": repeat_id, "repeat_channel": channel, "gap_s": gap}
        repeats.append((iid, first_contact(aware(started), None, repeat, horizon, window_days)[1]))
    return resolved, repeats
