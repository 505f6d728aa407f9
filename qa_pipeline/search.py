"""Supervisors' search: full text over turns, with filters, ranked, with a snippet.

The embedded database uses SQLite FTS5 (``store.create_search_index``). User input never
reaches the query text: words and quoted phrases are extracted and passed as one bound
FTS5 expression, every filter is a bound parameter.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, text

from qa_pipeline.errors import QAError
from qa_pipeline.store import FTS_TABLE

TERM = re.compile(r'"([^"]+)"|([\w]+\*?)', re.UNICODE)


@dataclass
class SearchFilters:
    """What a supervisor narrows results by; None means any."""

    agent: str | None = None
    team: str | None = None
    channel: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    flag: str | None = None
    failed: str | None = None  # criterion id that failed
    min_score: float | None = None
    max_score: float | None = None


@dataclass
class SearchHit:
    """One interaction found, with its best-matching turn."""

    interaction_id: str
    agent_id: str
    agent_name: str | None
    team: str | None
    channel: str
    started_at: str | None
    score: float | None
    flags: list[str] = field(default_factory=list)
    turn: int | None = None
    snippet: str = ""


def fts_expression(query: str) -> str:
    """An FTS5 expression matching every word (``word*`` = prefix) and quoted phrase, or ''."""
    parts = []
    for phrase, word in TERM.findall(query):
        if phrase:
            words = re.findall(r"\w+", phrase)
            if words:
                parts.append('"' + " ".join(words) + '"')
        elif word:
            star = word.endswith("*")
            core = word.rstrip("*")
            if core:
                parts.append(f'"{core}"' + ("*" if star else ""))
    return " ".join(parts)


def search_interactions(
    engine: Engine, query: str, filters: SearchFilters | None = None, limit: int = 20
) -> list[SearchHit]:
    """Interactions whose turns match ``query`` (all words), filtered, best match first.

    An empty query lists the filtered interactions, newest first.
    """
    if engine.dialect.name != "sqlite":
        raise QAError("full-text search runs on the SQLite store for now; PostgreSQL search is not built yet")
    filters = filters or SearchFilters()
    expression = fts_expression(query)
    where, params = _filters(filters)
    latest = "s.scored_at = (SELECT max(s2.scored_at) FROM scores s2 WHERE s2.interaction_id = i.id)"
    if expression:
        sql = (
            f"SELECT i.id AS interaction_id, {FTS_TABLE}.idx AS turn, bm25({FTS_TABLE}) AS rank, "
            f"snippet({FTS_TABLE}, 0, '[', ']', '…', 12) AS snippet, "
            "i.agent_id, i.agent_name, i.team, i.channel, i.started_at, s.score, s.flags "
            f"FROM {FTS_TABLE} JOIN interactions i ON i.id = {FTS_TABLE}.interaction_id "
            f"LEFT JOIN scores s ON s.interaction_id = i.id AND {latest} "
            f"WHERE {FTS_TABLE} MATCH :expression {where} ORDER BY rank"
        )
        params["expression"] = expression
    else:
        sql = (
            "SELECT i.id AS interaction_id, NULL AS turn, 0 AS rank, '' AS snippet, "
            "i.agent_id, i.agent_name, i.team, i.channel, i.started_at, s.score, s.flags "
            f"FROM interactions i LEFT JOIN scores s ON s.interaction_id = i.id AND {latest} "
            f"WHERE 1 = 1 {where} ORDER BY i.started_at DESC"
        )
    hits: dict[str, SearchHit] = {}
    with engine.connect() as conn:
        for row in conn.execute(text(sql), params).mappings():
            if row["interaction_id"] in hits:
                continue  # a better-ranked turn of this interaction came first
            flags = json.loads(row["flags"]) if isinstance(row["flags"], str) else (row["flags"] or [])
            hits[row["interaction_id"]] = SearchHit(
                interaction_id=row["interaction_id"],
                agent_id=row["agent_id"],
                agent_name=row["agent_name"],
                team=row["team"],
                channel=row["channel"],
                started_at=str(row["started_at"] or "")[:16] or None,
                score=row["score"],
                flags=sorted({f.get("code", "") for f in flags}),
                turn=row["turn"],
                snippet=" ".join((row["snippet"] or "").split()),
            )
            if len(hits) == limit:
                break
    return list(hits.values())


def _filters(f: SearchFilters) -> tuple[str, dict[str, Any]]:
    clauses, params = [], {}
    for column, value in (("agent_id", f.agent), ("team", f.team), ("channel", f.channel)):
        if value is not None:
            clauses.append(f"i.{column} = :{column}")
            params[column] = value
    if f.since is not None:
        clauses.append("i.started_at >= :since")
        params["since"] = f.since.strftime("%Y-%m-%d %H:%M:%S")
    if f.until is not None:
        clauses.append("i.started_at < :until")
        params["until"] = f.until.strftime("%Y-%m-%d %H:%M:%S")
    if f.min_score is not None:
        clauses.append("s.score >= :min_score")
        params["min_score"] = f.min_score
    if f.max_score is not None:
        clauses.append("s.score <= :max_score")
        params["max_score"] = f.max_score
    if f.flag is not None:
        clauses.append(
            "EXISTS (SELECT 1 FROM json_each(s.flags) WHERE json_extract(value, '$.code') = :flag)"
        )
        params["flag"] = f.flag
    if f.failed is not None:
        clauses.append(
            "EXISTS (SELECT 1 FROM criterion_results c WHERE c.interaction_id = i.id "
            "AND c.rubric = s.rubric AND c.criterion = :failed AND c.result = 'fail')"
        )
        params["failed"] = f.failed
    return "".join(f" AND {c}" for c in clauses), params


def as_json(hits: list[SearchHit]) -> str:
    """The hits as a JSON array, for tools."""
    return json.dumps([asdict(h) for h in hits], ensure_ascii=False, indent=1)
