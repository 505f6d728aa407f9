"""Search on SQLite: its FTS5 index over turns (migrations/versions/0002_search.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text

from qa_pipeline import search  # the windows are read at call time (tests narrow them)
from qa_pipeline.search import (
    MARK_CLOSE,
    MARK_OPEN,
    Where,
    highlight,
    query_terms,
    search_backends,
)
from qa_pipeline.store.engine import FTS_TABLE
from qa_pipeline.store.search_rows import HIT_COLUMNS, NEWEST_SCORE


def fts_expression(query: str) -> str:
    """An FTS5 expression matching every word (``word*`` = prefix) and quoted phrase, or ''."""
    return " ".join(f'"{value}"' + ("*" if kind == "prefix" else "") for kind, value in query_terms(query))


class SqliteSearch:
    """BM25 over the FTS5 index; the newest matches are ranked first when there are many."""

    def moment(self, value: datetime) -> Any:
        # SQLite keeps datetimes as text in SQLAlchemy's format.
        return value.strftime("%Y-%m-%d %H:%M:%S")

    def match(self, conn: Any, query: str, where: Where, params: dict[str, Any], limit: int) -> Sequence[Any]:
        rows = _sqlite_search(conn, fts_expression(query), where, params, limit)
        terms = query_terms(query)  # FTS5's snippet() re-runs the match per row: mark here
        marks = (MARK_OPEN, MARK_CLOSE)
        return [{**row, "snippet": highlight(row["snippet"], terms, marks=marks)} for row in rows]


search_backends.register("sqlite")(SqliteSearch())


def _sqlite_search(conn: Any, expression: str, where: Where, params: dict[str, Any], limit: int) -> list:
    params = {**params, "expression": expression}
    if where.candidates:
        count = text(f"SELECT count(*) FROM ({where.candidates} LIMIT :cap)")
        if conn.execute(count, {**params, "cap": search.FILTER_FIRST + 1}).scalar() <= search.FILTER_FIRST:
            return conn.execute(text(_sqlite_sql(where, candidates=True)), params).mappings().all()
    window = search.RANK_WINDOW
    floor_sql = text(
        f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :expression "
        "ORDER BY rowid DESC LIMIT 1 OFFSET :skip"
    )
    while True:
        floor = conn.execute(floor_sql, {"expression": expression, "skip": window - 1}).scalar()
        rows = conn.execute(text(_sqlite_sql(where)), {**params, "floor": floor or 0}).mappings().all()
        if floor is None or len(rows) >= limit:
            return rows
        window *= 8


def _sqlite_sql(where: Where, candidates: bool = False) -> str:
    # Best turn per interaction (bm25: lower is better), then the filters, then the snippet
    # for the few rows kept. With candidates, the index is scanned once (CROSS JOIN keeps it
    # the outer loop: probing it per candidate turn re-runs the whole match each time).
    if candidates:
        matches = (
            "cand AS MATERIALIZED (SELECT t.id FROM turns t "
            f"WHERE t.interaction_id IN ({where.candidates})), "
            "matches AS MATERIALIZED (SELECT t.interaction_id, t.idx, t.id AS turn_id, "
            f"bm25({FTS_TABLE}) AS rank FROM {FTS_TABLE} CROSS JOIN turns t ON t.id = {FTS_TABLE}.rowid "
            f"WHERE {FTS_TABLE} MATCH :expression AND +{FTS_TABLE}.rowid IN cand), "
        )
    else:
        matches = (
            "matches AS MATERIALIZED (SELECT t.interaction_id, t.idx, t.id AS turn_id, "
            f"bm25({FTS_TABLE}) AS rank FROM {FTS_TABLE} JOIN turns t ON t.id = {FTS_TABLE}.rowid "
            f"WHERE {FTS_TABLE} MATCH :expression AND {FTS_TABLE}.rowid >= :floor), "
        )
    return (
        f"WITH {matches}"
        "best AS (SELECT interaction_id, idx, turn_id, min(rank) AS rank "
        "FROM matches GROUP BY interaction_id) "
        f"SELECT b.interaction_id, b.idx AS turn, t.text AS snippet, {HIT_COLUMNS} "
        "FROM best b JOIN interactions i ON i.id = b.interaction_id JOIN turns t ON t.id = b.turn_id "
        f"{NEWEST_SCORE} "
        f"WHERE 1 = 1 {where.all} ORDER BY b.rank, b.interaction_id LIMIT :limit"
    )
