"""Search on PostgreSQL: a tsvector per turn (migrations/versions/0002_search.py)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text

from qa_pipeline import search  # the windows are read at call time (tests narrow them)
from qa_pipeline.search import (
    MARK_CLOSE,
    MARK_OPEN,
    Where,
    query_terms,
    search_backends,
)
from qa_pipeline.store.search_rows import HIT_COLUMNS, NEWEST_SCORE

# Query words are stemmed with each of these PostgreSQL configurations (the languages of the
# default rubric that PostgreSQL can stem) and also matched unstemmed without diacritics,
# folded by the database's own qa_fold (migration 0002), as the stored turns were.
PG_STEMMERS = ("english", "russian", "lithuanian")


def pg_tsquery(query: str) -> tuple[str, dict[str, str]]:
    """A PostgreSQL tsquery SQL expression for the query, with its bound parameters, or ('', {})."""
    parts, params = [], {}
    for n, (kind, value) in enumerate(query_terms(query)):
        if kind == "prefix":
            params[f"t{n}"] = " & ".join(f"{w}:*" for w in re.findall(r"[^\W_]+", value)) or "x"
            parts.append(f"to_tsquery('simple', qa_fold(:t{n}))")
            continue
        params[f"t{n}"] = value
        function = "phraseto_tsquery" if kind == "phrase" else "plainto_tsquery"
        options = [f"{function}('{config}', :t{n})" for config in PG_STEMMERS]
        options.append(f"{function}('simple', qa_fold(:t{n}))")
        parts.append("(" + " || ".join(options) + ")")
    return " && ".join(parts), params


class PostgresSearch:
    """ts_rank over the GIN-indexed tsvector; the newest turns first when matches are many."""

    def moment(self, value: datetime) -> Any:
        return value

    def match(self, conn: Any, query: str, where: Where, params: dict[str, Any], limit: int) -> Sequence[Any]:
        return _postgres_search(conn, query, where, params, limit)


search_backends.register("postgresql")(PostgresSearch())


def _postgres_search(conn: Any, query: str, where: Where, params: dict[str, Any], limit: int) -> list:
    tsquery, terms = pg_tsquery(query)
    params = {**params, **terms}
    # Room for exact bitmaps: with the default 4 MB a common word's bitmap turns lossy and
    # every row of its pages is rechecked (3.5M rows for one phrase at 1M interactions).
    conn.execute(text("SET LOCAL work_mem = '64MB'"))
    # One search is one short query: starting parallel workers cost more than they saved.
    conn.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    # The planner's estimate (from the GIN statistics) says whether the matches are many;
    # counting them would read up to search.RANK_WINDOW rows. Phrases always count as many:
    # the estimate multiplies the words' frequencies, far below the truth for set phrases
    # ("speak to a manager"), and each match needs a heap recheck.
    estimate = text(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM turns t WHERE t.search @@ ({tsquery})")
    phrase = any(kind == "phrase" for kind, _ in query_terms(query))
    many = phrase or conn.execute(estimate, params).scalar()[0]["Plan"]["Plan Rows"] > search.RANK_WINDOW
    if where.candidates:
        # The candidates' ids go in as an array, so the planner can reach their turns through
        # the (interaction_id, idx) index; as a subquery it checked every candidate turn's vector.
        found = text(f"{where.candidates} LIMIT :cap")
        ids = conn.execute(found, {**params, "cap": search.FILTER_FIRST + 1}).scalars().all()
        if len(ids) <= search.FILTER_FIRST:
            if many:
                # Reading a common word's whole GIN entry (450,000 turns for "refund" at 1M
                # interactions) cost 2-4x more than checking the candidates' own turns; the
                # planner, misled by the estimate, would AND the two indexes.
                conn.execute(text("SET LOCAL enable_bitmapscan = off"))
                conn.execute(text("SET LOCAL enable_seqscan = off"))
            sql = _postgres_sql(tsquery, where, candidates=True)
            return conn.execute(text(sql), {**params, "ids": list(ids)}).mappings().all()
    if not many:
        return conn.execute(text(_postgres_sql(tsquery, where)), {**params, "floor": 0}).mappings().all()
    newest = conn.execute(text("SELECT max(id) FROM turns")).scalar() or 0
    window = search.PG_WINDOW_TURNS
    while True:
        floor = max(0, newest - window)
        rows = conn.execute(text(_postgres_sql(tsquery, where)), {**params, "floor": floor}).mappings().all()
        if floor == 0 or len(rows) >= limit:
            return rows
        window *= 8


def _postgres_sql(tsquery: str, where: Where, candidates: bool = False) -> str:
    # The tsquery is written out (not a CTE value) so the planner can estimate how many
    # turns match from the GIN index statistics and pick its joins accordingly.
    scope = "t.interaction_id = ANY(:ids)" if candidates else "t.id >= :floor"
    scope = f"t.search @@ ({tsquery}) AND {scope}"
    return (
        "WITH best AS (SELECT DISTINCT ON (t.interaction_id) t.interaction_id, t.idx, t.text, "
        f"ts_rank_cd(t.search, {tsquery}) AS rank FROM turns t WHERE {scope} "
        "ORDER BY t.interaction_id, rank DESC, t.idx), "
        f"page AS (SELECT b.interaction_id, b.idx AS turn, b.text, b.rank, i.language, {HIT_COLUMNS} "
        "FROM best b JOIN interactions i ON i.id = b.interaction_id "
        f"{NEWEST_SCORE} "
        f"WHERE 1 = 1 {where.all} ORDER BY b.rank DESC, b.interaction_id LIMIT :limit) "
        f"SELECT page.*, ts_headline(qa_ts_config(page.language), page.text, {tsquery}, "
        f"'StartSel={MARK_OPEN}, StopSel={MARK_CLOSE}, MaxWords=24, MinWords=8, MaxFragments=1, "
        "FragmentDelimiter=…') AS snippet "
        "FROM page ORDER BY page.rank DESC, page.interaction_id"
    )
