"""SQLAlchemy storage: SQLite file by default, any URL (PostgreSQL) through settings.

Writes are idempotent: an interaction, its turns, its score and criterion results are
replaced by id, so running the same night twice leaves one copy of everything.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    delete,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.exc import OperationalError

from qa_pipeline.contracts import InteractionScore, Quarantined
from qa_pipeline.errors import QAError
from qa_pipeline.faults import checkpoint
from qa_pipeline.interactions import Interaction, Turn, content_hash
from qa_pipeline.runs import (  # noqa: F401  (re-exported)
    aware,
    finish_run,
    get_watermark,
    mark_interrupted,
    set_watermark,
    start_run,
)
from qa_pipeline.schema import (  # noqa: F401  (re-exported: the tables' long-standing home)
    criterion_results,
    grader_feedback,
    interactions,
    metadata,
    quarantine,
    repeat_contacts,
    runs,
    scores,
    turns,
    watermarks,
)


def connect(url: str) -> Engine:
    """The engine for ``url``, with the schema migrated to the newest revision.

    One engine (one connection pool) per URL and process, however many callers ask; all are
    disposed at exit. SQLite gets WAL, foreign keys and a busy timeout.
    """
    with _ENGINES_LOCK:
        engine = _ENGINES.get(url)
        if engine is None:
            engine = _create(url)
            if url != "sqlite:///:memory:":
                _ENGINES[url] = engine
    return engine


def _create(url: str) -> Engine:
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    is_sqlite = url.startswith("sqlite")
    # PostgreSQL: JIT compilation costs 0.1-0.3 s per search and repays only long scans.
    options = {"timeout": 60} if is_sqlite else {"options": "-c jit=off"} if "postgresql" in url else {}
    engine = create_engine(url, connect_args=options)
    if is_sqlite:

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    if url not in _MIGRATED or url == "sqlite:///:memory:":
        from qa_pipeline.migrations import upgrade

        try:
            upgrade(engine)
        except OperationalError as exc:
            shown = engine.url.render_as_string(hide_password=True)
            reason = str(exc.orig or exc).strip().splitlines()[0]
            raise QAError(f"cannot open the database {shown}: {reason}; check database_url") from exc
        _MIGRATED.add(url)
    return engine


_MIGRATED: set[str] = set()
_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


@atexit.register
def _dispose_all() -> None:
    for engine in _ENGINES.values():
        engine.dispose()


# The SQLite full-text index: an FTS5 table over turns.text, kept in sync by triggers
# (see migrations/versions/0002_search.py). PostgreSQL keeps a tsvector in turns.search.
FTS_TABLE = "turns_fts"


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
    engine: Engine, ids: Sequence[str] | None, window_days: float
) -> dict[str, tuple[str | None, str]]:
    """First-contact resolution (result, explanation) of these interactions (None: all of them).

    The horizon is the newest stored contact with a customer key: an interaction counts as
    resolved at first contact only once the stored data reaches past its window.
    """
    from sqlalchemy import func

    from qa_pipeline.customers import first_contact

    heads = select(interactions.c.id, interactions.c.customer_key, interactions.c.started_at)
    links = select(repeat_contacts)
    if ids is not None:
        heads = heads.where(interactions.c.id.in_(list(ids)))
        links = links.where(repeat_contacts.c.interaction_id.in_(list(ids)))
    with engine.connect() as conn:
        horizon = conn.execute(
            select(func.max(interactions.c.started_at)).where(interactions.c.customer_key.is_not(None))
        ).scalar_one_or_none()
        repeats = {r["interaction_id"]: dict(r) for r in conn.execute(links).mappings()}
        rows = conn.execute(heads).all()
    return {
        r.id: first_contact(
            aware(r.started_at) if r.started_at else None,
            r.customer_key,
            repeats.get(r.id),
            aware(horizon) if horizon else None,
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


class Store:
    """One results database, by URL: its engine (shared per URL and process) and the reads and
    writes the product makes. Everything the pipeline, the CLI and the flow store goes
    through here; the module functions it wraps take an engine, for code that has one."""

    def __init__(self, url: str):
        self.url = url
        self.engine = connect(url)

    def save_interactions(
        self, items: Sequence[Interaction], run_id: str | None = None, fcr_window_days: float = 7.0
    ) -> None:
        save_interactions(self.engine, items, run_id, fcr_window_days)

    def load_interactions(self, ids: Sequence[str]) -> list[Interaction]:
        return load_interactions(self.engine, ids)

    def stored_in_run(self, ids: Sequence[str], run_id: str | None) -> dict[str, str | None]:
        return stored_in_run(self.engine, ids, run_id)

    def save_scores(self, items: Sequence[InteractionScore], run_id: str | None = None) -> None:
        save_scores(self.engine, items, run_id)

    def load_scores(self, interaction_id: str) -> list[InteractionScore]:
        return load_scores(self.engine, interaction_id)

    def save_quarantined(self, items: Iterable[Quarantined], run_id: str | None = None) -> int:
        return save_quarantined(self.engine, items, run_id)

    def first_contact_results(
        self, ids: Sequence[str] | None, window_days: float
    ) -> dict[str, tuple[str | None, str]]:
        return first_contact_results(self.engine, ids, window_days)

    def start_run(self, run_id: str, night: str | None) -> list[str]:
        return start_run(self.engine, run_id, night)

    def finish_run(self, run_id: str, status: str, summary: dict[str, Any]) -> None:
        finish_run(self.engine, run_id, status, summary)

    def get_watermark(self, source: str) -> datetime | None:
        return get_watermark(self.engine, source)

    def set_watermark(self, source: str, value: datetime, run_id: str | None = None) -> None:
        set_watermark(self.engine, source, value, run_id)

    def search(self, query: str, filters: Any = None, limit: int = 20) -> list[Any]:
        """``search.search_interactions`` on this database (its backend by dialect)."""
        from qa_pipeline.search import search_interactions

        return search_interactions(self.engine, query, filters, limit)

    def scorecard_rows(self, rubric: str | None = None) -> tuple[list[dict], list[dict]]:
        return scorecard_rows(self.engine, rubric)

    def flagged_in_run(self, run_id: str) -> list[dict]:
        return flagged_in_run(self.engine, run_id)

    def table_counts(self) -> dict[str, int]:
        return table_counts(self.engine)
