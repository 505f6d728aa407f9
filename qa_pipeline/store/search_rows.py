"""Full-text search in the results database: the filters as SQL, the listing without a
query, and the dialect's search backend (``search.SearchBackend``) for the words."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, text

from qa_pipeline.errors import QAError
from qa_pipeline.search import (
    ANY_FLAG,
    MAX_LIMIT,
    SearchBackend,
    SearchFilters,
    SearchHit,
    Where,
    bracketed,
    query_terms,
    search_backends,
    snippet_parts,
)

# Each interaction's newest score (of any rubric: the one its pages show) as "s": one keyed
# row from newest_scores, where a correlated max(scored_at) over scores cost a lookup per
# candidate and returned an interaction twice when two rubrics scored it in the same instant.
NEWEST_SCORE = "LEFT JOIN newest_scores s ON s.interaction_id = i.id"
HIT_COLUMNS = "i.agent_id, i.agent_name, i.team, i.channel, i.started_at, s.score, s.flags"


def search_interactions(
    engine: Engine, query: str, filters: SearchFilters | None = None, limit: int = 20
) -> list[SearchHit]:
    """Interactions whose turns match ``query`` (all words), filtered, best match first.

    SQLite searches its FTS5 index, PostgreSQL its tsvector index; an empty query lists the
    filtered interactions, newest first.
    """
    dialect = engine.dialect.name
    if dialect not in search_backends.names():
        known = " or ".join(search_backends.names())
        raise QAError(f"full-text search needs a database with a search backend ({known}), not {dialect}")
    backend = search_backends.get(dialect)
    if not 1 <= limit <= MAX_LIMIT:
        raise QAError(f"--limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if query.strip() and not query_terms(query):
        raise QAError(
            f"the query {query[:40]!r} has no letters or digits to search for; "
            "leave it empty to list interactions by the filters alone"
        )
    where, params = _filters(filters or SearchFilters(), backend)
    params["limit"] = limit
    with engine.connect() as conn:
        if not query_terms(query):
            sql = (
                f"SELECT i.id AS interaction_id, NULL AS turn, '' AS snippet, {HIT_COLUMNS} "
                f"FROM interactions i {NEWEST_SCORE} "
                f"WHERE 1 = 1 {where.all} ORDER BY i.started_at DESC LIMIT :limit"
            )
            rows: Sequence[Any] = conn.execute(text(sql), params).mappings().all()
        else:
            rows = backend.match(conn, query, where, params, limit)
    return [_hit(row) for row in rows]


def _hit(row: Any) -> SearchHit:
    marked = " ".join((row["snippet"] or "").split())
    flags = json.loads(row["flags"]) if isinstance(row["flags"], str) else (row["flags"] or [])
    return SearchHit(
        interaction_id=row["interaction_id"],
        agent_id=row["agent_id"],
        agent_name=row["agent_name"],
        team=row["team"],
        channel=row["channel"],
        started_at=str(row["started_at"] or "")[:16] or None,
        score=row["score"],
        flags=sorted({f.get("code", "") for f in flags}),
        turn=row["turn"],
        snippet=bracketed(marked),
        parts=snippet_parts(marked),
    )


def _filters(f: SearchFilters, backend: SearchBackend) -> tuple[Where, dict[str, Any]]:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    for column, value in (("agent_id", f.agent), ("team", f.team), ("channel", f.channel)):
        if value is not None:
            clauses.append(f"i.{column} = :{column}")
            params[column] = value
    for column, allowed in (("agent_id", f.agents), ("team", f.teams)):  # who may see what
        if allowed is not None:
            names = [f"{column}_{n}" for n in range(len(allowed))]
            clauses.append(f"i.{column} IN ({', '.join(':' + n for n in names)})" if names else "1 = 0")
            params.update(zip(names, allowed, strict=True))
    for name, op, moment in (("since", ">=", f.since), ("until", "<", f.until)):
        if moment is not None:
            clauses.append(f"i.started_at {op} :{name}")
            params[name] = backend.moment(moment)
    indexed = "".join(f" AND {c}" for c in clauses)
    if f.min_score is not None:
        clauses.append("s.score >= :min_score")
        params["min_score"] = f.min_score
    if f.max_score is not None:
        clauses.append("s.score <= :max_score")
        params["max_score"] = f.max_score
    flagged = "SELECT 1 FROM score_flags sf WHERE sf.interaction_id = i.id AND sf.rubric = s.rubric"
    if f.flag == ANY_FLAG:
        clauses.append(f"EXISTS ({flagged})")
    elif f.flag is not None:
        clauses.append(f"EXISTS ({flagged} AND sf.code = :flag)")
        params["flag"] = f.flag
    if f.failed is not None:
        clauses.append(
            "EXISTS (SELECT 1 FROM criterion_results c WHERE c.interaction_id = i.id "
            "AND c.rubric = s.rubric AND c.criterion = :failed AND c.result = 'fail')"
        )
        params["failed"] = f.failed
    if f.flag not in (None, ANY_FLAG):  # a flag is usually rarer than an agent's or team's share
        # score_flags holds the interaction's filter columns under their names in interactions,
        # so the same clauses (on "i.") narrow a flag's rows.
        flag_rows = "FROM score_flags i WHERE i.code = :flag"
        candidates = f"SELECT DISTINCT i.interaction_id AS id {flag_rows}{indexed}"
    else:
        candidates = f"SELECT i.id FROM interactions i WHERE 1 = 1{indexed}" if indexed else ""
    return Where("".join(f" AND {c}" for c in clauses), candidates), params
