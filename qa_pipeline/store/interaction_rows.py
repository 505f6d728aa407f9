"""Interactions and their turns: idempotent writes, loads, repeat-contact links."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import pairwise

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Table,
    delete,
    func,
    insert,
    select,
    update,
)

from qa_pipeline.faults import checkpoint
from qa_pipeline.interactions import Interaction, Turn, content_hash
from qa_pipeline.schema import (
    criterion_results,
    interactions,
    newest_scores,
    repeat_contacts,
    score_flags,
    scores,
    turns,
)
from qa_pipeline.store.rollup_rows import count_newest
from qa_pipeline.store.run_rows import aware


def save_interactions(
    engine: Engine,
    items: Sequence[Interaction],
    run_id: str | None = None,
    fcr_window_days: float = 7.0,
) -> None:
    """Insert or replace interactions and their turns; relink their customers' repeat contacts.

    All in one transaction. An interaction stored before with the same content (fingerprint)
    is left as it was, scores included, so a re-run killed after ingest loses nothing; a
    changed one is replaced and its now stale scores go with it (the run scores it again).
    """
    if not items:
        return
    prints = {i.id: fingerprint(i) for i in items}
    with engine.begin() as conn:
        stored = dict(
            conn.execute(
                select(interactions.c.id, interactions.c.fingerprint).where(
                    interactions.c.id.in_(list(prints))
                )
            ).all()
        )
        same = [i for i, p in prints.items() if stored.get(i) == p]
        if same:
            conn.execute(update(interactions).where(interactions.c.id.in_(same)).values(run_id=run_id))
        keys = {i.customer_key for i in items if i.customer_key}
        checkpoint("store.interactions.in_transaction")
        items = [i for i in items if i.id not in set(same)]
        ids = [i.id for i in items]
        _replace_interactions(conn, items, ids, prints, run_id)
        if keys:  # relinked even when nothing changed: the window may have
            link_repeat_contacts(conn, keys, fcr_window_days)


def _replace_interactions(
    conn: Connection, items: Sequence[Interaction], ids: list[str], prints: dict[str, str], run_id: str | None
) -> None:
    """Delete these interactions with their turns and stale scores, and insert them anew."""
    if not ids:
        return
    conn.execute(delete(criterion_results).where(criterion_results.c.interaction_id.in_(ids)))
    conn.execute(delete(scores).where(scores.c.interaction_id.in_(ids)))
    conn.execute(delete(score_flags).where(score_flags.c.interaction_id.in_(ids)))
    count_newest(conn, ids, -1)
    conn.execute(delete(newest_scores).where(newest_scores.c.interaction_id.in_(ids)))
    conn.execute(delete(turns).where(turns.c.interaction_id.in_(ids)))
    conn.execute(delete(interactions).where(interactions.c.id.in_(ids)))
    conn.execute(
        insert(interactions),
        [
            {
                "id": i.id,
                "channel": i.channel,
                "agent_id": i.agent_id,
                "agent_name": i.agent_name,
                "team": i.team,
                "language": i.language,
                "started_at": i.started_at,
                "source": i.source,
                "metadata": i.metadata,
                "run_id": run_id,
                "customer_key": i.customer_key,
                "fingerprint": prints[i.id],
            }
            for i in items
        ],
    )
    rows = [
        {
            "interaction_id": i.id,
            "idx": n,
            "speaker": t.speaker,
            "text": t.text,
            "start": t.start,
            "end": t.end,
            "at": t.at,
            "metadata": t.metadata,
        }
        for i in items
        for n, t in enumerate(i.turns)
    ]
    if rows:
        conn.execute(insert(turns), rows)


def fingerprint(item: Interaction) -> str:
    """A hash of everything stored about an interaction."""
    return content_hash(item.model_dump_json(), length=32)


def link_repeat_contacts(conn: Connection, keys: Iterable[str], window_days: float) -> int:
    """Rebuild the repeat-contact links of these customers; return how many links they have.

    Each interaction links to the same customer's next contact, when that came within
    ``window_days`` of its start. Idempotent: saving the same interactions again changes nothing.
    """
    keys = sorted(set(keys))
    rows = conn.execute(
        select(
            interactions.c.id, interactions.c.customer_key, interactions.c.started_at, interactions.c.channel
        )
        .where(interactions.c.customer_key.in_(keys), interactions.c.started_at.is_not(None))
        .order_by(interactions.c.customer_key, interactions.c.started_at, interactions.c.id)
    ).all()
    conn.execute(delete(repeat_contacts).where(repeat_contacts.c.interaction_id.in_([r.id for r in rows])))
    window = window_days * 86_400
    links = []
    for earlier, later in pairwise(rows):
        if earlier.customer_key != later.customer_key:
            continue
        gap = (aware(later.started_at) - aware(earlier.started_at)).total_seconds()
        if gap <= window:
            links.append(
                {
                    "interaction_id": earlier.id,
                    "repeat_id": later.id,
                    "repeat_channel": later.channel,
                    "gap_s": gap,
                    "window_days": window_days,
                }
            )
    if links:
        conn.execute(insert(repeat_contacts), links)
    return len(links)


def first_contact_results(
    engine: Engine, ids: Sequence[str] | None, window_days: float, horizon: datetime | bool | None = False
) -> dict[str, tuple[str | None, str]]:
    """First-contact resolution (result, explanation) of these interactions (None: all of them).

    The horizon is the newest stored contact with a customer key: an interaction counts as
    resolved at first contact only once the stored data reaches past its window
    (``horizon``: that newest contact, or None for none, when the caller knows it).
    """
    query = select(
        interactions.c.id.label("interaction_id"),
        interactions.c.customer_key,
        interactions.c.started_at,
        repeat_contacts.c.repeat_id,
        repeat_contacts.c.repeat_channel,
        repeat_contacts.c.gap_s,
    ).outerjoin(repeat_contacts, repeat_contacts.c.interaction_id == interactions.c.id)
    if ids is not None:
        query = query.where(interactions.c.id.in_(list(ids)))
    if horizon is False:  # not given: look it up (None is an answer: no contact has a customer key)
        horizon = contact_horizon(engine)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    return first_contacts_of(rows, horizon if isinstance(horizon, datetime) else None, window_days)


def contact_horizon(engine: Engine) -> datetime | None:
    """The newest stored contact with a customer key: how far first-contact windows can be judged."""
    with engine.connect() as conn:
        newest = conn.execute(
            select(func.max(interactions.c.started_at)).where(interactions.c.customer_key.is_not(None))
        ).scalar_one_or_none()
    return aware(newest) if newest else None


def first_contacts_of(
    rows: Sequence[dict], horizon: datetime | None, window_days: float
) -> dict[str, tuple[str | None, str]]:
    """First-contact resolution of rows that carry their customer key and repeat contact
    (``period_results``), without another query per interaction."""
    from qa_pipeline.customers import first_contact

    return {
        r["interaction_id"]: first_contact(
            aware(r["started_at"]) if r["started_at"] else None,
            r["customer_key"],
            {k: r[k] for k in ("repeat_id", "repeat_channel", "gap_s")} if r.get("repeat_id") else None,
            horizon,
            window_days,
        )
        for r in rows
    }


def stored_in_run(engine: Engine, ids: Sequence[str], run_id: str | None) -> dict[str, str | None]:
    """Which of these interaction ids this run has already stored, with the source each came from."""
    if not ids or run_id is None:
        return {}
    with engine.connect() as conn:
        query = select(interactions.c.id, interactions.c.source).where(
            interactions.c.id.in_(list(ids)), interactions.c.run_id == run_id
        )
        return {r.id: r.source for r in conn.execute(query)}


def in_scope(
    agents: Sequence[str] | None = None,
    teams: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    table: Table = interactions,
) -> list[ColumnElement[bool]]:
    """Conditions on interactions (or a table with their agent_id, team and started_at): of
    these agents and/or teams (None: any), started in [since, until). All of them use the
    (agent|team, started_at) indexes."""
    wanted: list[ColumnElement[bool]] = []
    if agents is not None:
        wanted.append(table.c.agent_id.in_(list(agents)))
    if teams is not None:
        wanted.append(table.c.team.in_(list(teams)))
    if since is not None:
        wanted.append(table.c.started_at >= since)
    if until is not None:
        wanted.append(table.c.started_at < until)
    return wanted


def known_values(
    engine: Engine, agents: Sequence[str] | None = None, teams: Sequence[str] | None = None
) -> dict[str, list[str]]:
    """The agents (ids) and teams that occur in stored interactions, sorted (both indexed);
    ``agents`` / ``teams``: only within these (what a user may see)."""
    scope = in_scope(agents, teams)
    with engine.connect() as conn:
        agents = conn.execute(select(interactions.c.agent_id).distinct().where(*scope)).scalars().all()
        named = select(interactions.c.team).distinct().where(interactions.c.team.is_not(None), *scope)
        teams = conn.execute(named).scalars().all()
    return {"agents": sorted(agents), "teams": sorted(teams)}


def has_interactions(
    engine: Engine, agents: Sequence[str] | None = None, teams: Sequence[str] | None = None
) -> bool:
    """Whether any interaction of these agents / teams is stored (an index seek)."""
    query = select(interactions.c.id).where(*in_scope(agents, teams)).limit(1)
    with engine.connect() as conn:
        return conn.execute(query).first() is not None


def latest_start(
    engine: Engine, agents: Sequence[str] | None = None, teams: Sequence[str] | None = None
) -> datetime | None:
    """When the newest interaction of these agents / teams started, or None."""
    query = select(func.max(interactions.c.started_at)).where(*in_scope(agents, teams))
    with engine.connect() as conn:
        return conn.execute(query).scalar()


def load_interactions(engine: Engine, ids: Sequence[str]) -> list[Interaction]:
    """Return the stored interactions with these ids, in the given order."""
    with engine.connect() as conn:
        heads = {r.id: r for r in conn.execute(select(interactions).where(interactions.c.id.in_(ids)))}
        by_id: dict[str, list[Turn]] = {i: [] for i in heads}
        query = (
            select(turns).where(turns.c.interaction_id.in_(ids)).order_by(turns.c.interaction_id, turns.c.idx)
        )
        for r in conn.execute(query):
            by_id[r.interaction_id].append(
                Turn(
                    speaker=r.speaker,
                    text=r.text,
                    start=r.start,
                    end=r.end,
                    at=r.at,
                    metadata=r.metadata or {},
                )
            )
    return [
        Interaction(
            id=h.id,
            channel=h.channel,
            agent_id=h.agent_id,
            agent_name=h.agent_name,
            team=h.team,
            language=h.language,
            started_at=h.started_at,
            source=h.source,
            customer_key=h.customer_key,
            turns=by_id[h.id],
            metadata=h.metadata or {},
        )
        for i in ids
        if (h := heads.get(i)) is not None
    ]
