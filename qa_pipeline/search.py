"""Supervisors' search: full text over turns, with filters, ranked, with a snippet.

The embedded database uses SQLite FTS5 (``store.create_search_index``). User input never
reaches the query text: words and quoted phrases are extracted and passed as one bound
FTS5 expression, every filter is a bound parameter.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
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


def query_terms(query: str) -> list[tuple[str, str]]:
    """The words and quoted phrases of a query: ("word"|"prefix"|"phrase", text) pairs.

    Only runs of letters and digits survive, so no operator or quote of any search syntax
    can come from the user.
    """
    terms = []
    for phrase, word in TERM.findall(query):
        if phrase:
            words = re.findall(r"\w+", phrase)
            if words:
                terms.append(("phrase", " ".join(words)))
        elif word.rstrip("*"):
            terms.append(("prefix" if word.endswith("*") else "word", word.rstrip("*")))
    return terms


def fts_expression(query: str) -> str:
    """An FTS5 expression matching every word (``word*`` = prefix) and quoted phrase, or ''."""
    return " ".join(f'"{value}"' + ("*" if kind == "prefix" else "") for kind, value in query_terms(query))


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


LATEST_SCORE = "s.scored_at = (SELECT max(s2.scored_at) FROM scores s2 WHERE s2.interaction_id = i.id)"
HIT_COLUMNS = "i.agent_id, i.agent_name, i.team, i.channel, i.started_at, s.score, s.flags"


MAX_LIMIT = 10_000  # results per search; more is an export, not a search


def search_interactions(
    engine: Engine, query: str, filters: SearchFilters | None = None, limit: int = 20
) -> list[SearchHit]:
    """Interactions whose turns match ``query`` (all words), filtered, best match first.

    SQLite searches its FTS5 index, PostgreSQL its tsvector index; an empty query lists the
    filtered interactions, newest first.
    """
    dialect = engine.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        raise QAError(f"full-text search needs SQLite or PostgreSQL, not {dialect}")
    if not 1 <= limit <= MAX_LIMIT:
        raise QAError(f"--limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if query.strip() and not query_terms(query):
        raise QAError(
            f"the query {query[:40]!r} has no letters or digits to search for; "
            "leave it empty to list interactions by the filters alone"
        )
    where, params = _filters(filters or SearchFilters(), dialect)
    params["limit"] = limit
    with engine.connect() as conn:
        if not query_terms(query):
            sql = (
                f"SELECT i.id AS interaction_id, NULL AS turn, '' AS snippet, {HIT_COLUMNS} "
                f"FROM interactions i LEFT JOIN scores s ON s.interaction_id = i.id AND {LATEST_SCORE} "
                f"WHERE 1 = 1 {where.all} ORDER BY i.started_at DESC LIMIT :limit"
            )
            rows: Sequence[Any] = conn.execute(text(sql), params).mappings().all()
        elif dialect == "sqlite":
            rows = _sqlite_search(conn, fts_expression(query), where, params, limit)
            terms = query_terms(query)  # FTS5's snippet() re-runs the match per row: mark here
            rows = [{**row, "snippet": highlight(row["snippet"], terms)} for row in rows]
        else:
            rows = _postgres_search(conn, query, where, params, limit)
    return [_hit(row) for row in rows]


def _fold(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))


def highlight(text: str, terms: list[tuple[str, str]], width: int = 12) -> str:
    """The words of ``text`` around the first match, matched words in [brackets], as FTS5
    matches them (case and diacritics ignored, ``prefix*``, phrases word by word)."""
    spans = [(m.start(), m.end(), _fold(m.group())) for m in re.finditer(r"\w+", text)]
    marked: set[int] = set()
    for kind, value in terms:
        words = [_fold(w) for w in re.findall(r"\w+", value)]
        for i in range(len(spans) - len(words) + 1):
            window = [spans[i + k][2] for k in range(len(words))]
            if (kind == "prefix" and window[0].startswith(words[0])) or window == words:
                marked.update(range(i, i + len(words)))
    if not spans:
        return text
    first = min(marked, default=0)
    lo, hi = max(0, first - width // 3), min(len(spans), max(0, first - width // 3) + width)
    out, pos = [], spans[lo][0]
    for i in range(lo, hi):
        start, end, _ = spans[i]
        opens = i in marked and (i - 1 not in marked or i == lo)
        closes = i in marked and (i + 1 not in marked or i == hi - 1)
        out.append(text[pos:start] + ("[" if opens else "") + text[start:end] + ("]" if closes else ""))
        pos = end
    tail = text[pos : spans[hi][0]] if hi < len(spans) else text[pos:]
    return ("…" if lo else "") + "".join(out) + (tail if hi == len(spans) else tail.rstrip() + "…")


def _hit(row: Any) -> SearchHit:
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
        snippet=" ".join((row["snippet"] or "").split()),
    )


# Ranking every one of hundreds of thousands of matching turns costs about a microsecond
# each; beyond this many matches only the newest are ranked, and the window widens (x8)
# while the filters leave fewer hits than asked for.
RANK_WINDOW = 20_000


# A filter on interaction columns (agent, team, channel, dates) that leaves at most this many
# interactions is applied first: their turns' matches are ranked, whatever their age.
FILTER_FIRST = 10_000


def _sqlite_search(conn: Any, expression: str, where: Where, params: dict[str, Any], limit: int) -> list:
    params = {**params, "expression": expression}
    if where.indexed:
        count = text(
            f"SELECT count(*) FROM (SELECT 1 FROM interactions i WHERE 1 = 1 {where.indexed} LIMIT :cap)"
        )
        if conn.execute(count, {**params, "cap": FILTER_FIRST + 1}).scalar() <= FILTER_FIRST:
            return conn.execute(text(_sqlite_sql(where, candidates=True)), params).mappings().all()
    window = RANK_WINDOW
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
            "cand AS MATERIALIZED (SELECT t.id FROM interactions i JOIN turns t ON t.interaction_id = i.id "
            f"WHERE 1 = 1 {where.indexed}), "
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
        f"LEFT JOIN scores s ON s.interaction_id = i.id AND {LATEST_SCORE} "
        f"WHERE 1 = 1 {where.all} ORDER BY b.rank, b.interaction_id LIMIT :limit"
    )


# PostgreSQL: with more than RANK_WINDOW matches, the newest this many turns are searched
# first (the GIN index and a range on turns.id combine, so only matches inside the window
# are read), widening x8 while the filters leave too few hits.
PG_WINDOW_TURNS = 100_000


def _postgres_search(conn: Any, query: str, where: Where, params: dict[str, Any], limit: int) -> list:
    tsquery, terms = pg_tsquery(query)
    params = {**params, **terms}
    # Room for exact bitmaps: with the default 4 MB a common word's bitmap turns lossy and
    # every row of its pages is rechecked (3.5M rows for one phrase at 1M interactions).
    conn.execute(text("SET LOCAL work_mem = '64MB'"))
    if where.indexed:
        # The candidates' ids go in as an array, so the planner can AND the GIN index with the
        # (interaction_id, idx) index; as a subquery it checked every candidate turn's vector.
        found = text(f"SELECT i.id FROM interactions i WHERE 1 = 1 {where.indexed} LIMIT :cap")
        ids = conn.execute(found, {**params, "cap": FILTER_FIRST + 1}).scalars().all()
        if len(ids) <= FILTER_FIRST:
            sql = _postgres_sql(tsquery, where, candidates=True)
            return conn.execute(text(sql), {**params, "ids": list(ids)}).mappings().all()
    # The planner's estimate (from the GIN statistics) says whether the matches are many;
    # counting them would read up to RANK_WINDOW rows.
    # Phrases are always windowed: the estimate multiplies the words' frequencies, far below
    # the truth for set phrases ("speak to a manager"), and each match needs a heap recheck.
    estimate = text(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM turns t WHERE t.search @@ ({tsquery})")
    phrase = any(kind == "phrase" for kind, _ in query_terms(query))
    if not phrase and conn.execute(estimate, params).scalar()[0]["Plan"]["Plan Rows"] <= RANK_WINDOW:
        return conn.execute(text(_postgres_sql(tsquery, where)), {**params, "floor": 0}).mappings().all()
    newest = conn.execute(text("SELECT max(id) FROM turns")).scalar() or 0
    window = PG_WINDOW_TURNS
    while True:
        floor = max(0, newest - window)
        rows = conn.execute(text(_postgres_sql(tsquery, where)), {**params, "floor": floor}).mappings().all()
        if floor == 0 or len(rows) >= limit:
            return rows
        window *= 8


def _postgres_sql(tsquery: str, where: Where, candidates: bool = False) -> str:
    # The tsquery is written out (not a CTE value) so the planner can estimate how many
    # turns match from the GIN index statistics and pick its joins accordingly. (Checking
    # candidates' turns one by one instead of using the GIN index was 10x slower at 1M.)
    scope = "t.interaction_id = ANY(:ids)" if candidates else "t.id >= :floor"
    scope = f"t.search @@ ({tsquery}) AND {scope}"
    return (
        "WITH best AS (SELECT DISTINCT ON (t.interaction_id) t.interaction_id, t.idx, t.text, "
        f"ts_rank_cd(t.search, {tsquery}) AS rank FROM turns t WHERE {scope} "
        "ORDER BY t.interaction_id, rank DESC, t.idx), "
        f"page AS (SELECT b.interaction_id, b.idx AS turn, b.text, b.rank, i.language, {HIT_COLUMNS} "
        "FROM best b JOIN interactions i ON i.id = b.interaction_id "
        f"LEFT JOIN scores s ON s.interaction_id = i.id AND {LATEST_SCORE} "
        f"WHERE 1 = 1 {where.all} ORDER BY b.rank DESC, b.interaction_id LIMIT :limit) "
        f"SELECT page.*, ts_headline(qa_ts_config(page.language), page.text, {tsquery}, "
        "'StartSel=[, StopSel=], MaxWords=24, MinWords=8, MaxFragments=1, FragmentDelimiter=…') AS snippet "
        "FROM page ORDER BY page.rank DESC, page.interaction_id"
    )


@dataclass
class Where:
    """SQL filter clauses (each starting with AND): all of them, and those on interaction
    columns only (indexed: agent, team, channel, dates)."""

    all: str
    indexed: str


def _filters(f: SearchFilters, dialect: str) -> tuple[Where, dict[str, Any]]:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    for column, value in (("agent_id", f.agent), ("team", f.team), ("channel", f.channel)):
        if value is not None:
            clauses.append(f"i.{column} = :{column}")
            params[column] = value
    for name, op, moment in (("since", ">=", f.since), ("until", "<", f.until)):
        if moment is not None:
            clauses.append(f"i.started_at {op} :{name}")
            # SQLite keeps datetimes as text in SQLAlchemy's format; PostgreSQL compares them.
            params[name] = moment.strftime("%Y-%m-%d %H:%M:%S") if dialect == "sqlite" else moment
    indexed = "".join(f" AND {c}" for c in clauses)
    if f.min_score is not None:
        clauses.append("s.score >= :min_score")
        params["min_score"] = f.min_score
    if f.max_score is not None:
        clauses.append("s.score <= :max_score")
        params["max_score"] = f.max_score
    if f.flag is not None:
        elements = (
            "json_each(s.flags) WHERE json_extract(value, '$.code') = :flag"
            if dialect == "sqlite"
            else "json_array_elements(s.flags) AS e WHERE e ->> 'code' = :flag"
        )
        clauses.append(f"EXISTS (SELECT 1 FROM {elements})")
        params["flag"] = f.flag
    if f.failed is not None:
        clauses.append(
            "EXISTS (SELECT 1 FROM criterion_results c WHERE c.interaction_id = i.id "
            "AND c.rubric = s.rubric AND c.criterion = :failed AND c.result = 'fail')"
        )
        params["failed"] = f.failed
    return Where("".join(f" AND {c}" for c in clauses), indexed), params


def as_json(hits: list[SearchHit]) -> str:
    """The hits as a JSON array, for tools."""
    return json.dumps([asdict(h) for h in hits], ensure_ascii=False, indent=1)
