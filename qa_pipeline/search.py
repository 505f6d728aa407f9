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
from typing import Any, Protocol

from sqlalchemy import Engine, text

from qa_pipeline.errors import QAError
from qa_pipeline.registry import Registry

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
                f"FROM interactions i LEFT JOIN scores s ON s.interaction_id = i.id AND {LATEST_SCORE} "
                f"WHERE 1 = 1 {where.all} ORDER BY i.started_at DESC LIMIT :limit"
            )
            rows: Sequence[Any] = conn.execute(text(sql), params).mappings().all()
        else:
            rows = backend.match(conn, query, where, params, limit)
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

# PostgreSQL: with more than RANK_WINDOW matches, the newest this many turns are searched
# first (the GIN index and a range on turns.id combine, so only matches inside the window
# are read), widening x8 while the filters leave too few hits.
PG_WINDOW_TURNS = 100_000


class SearchBackend(Protocol):
    """Full-text search on one kind of database, registered under SQLAlchemy's dialect name
    (entry-point group ``qa_pipeline.search_backends``)."""

    # FROM clause yielding one row per flag of ``s.flags`` whose code is ``:flag``
    FLAG_ELEMENTS: str

    def moment(self, value: datetime) -> Any:
        """A datetime as this database compares it with ``interactions.started_at``."""
        ...

    def match(self, conn: Any, query: str, where: Where, params: dict[str, Any], limit: int) -> Sequence[Any]:
        """Rows (interaction_id, turn, snippet, HIT_COLUMNS) of the turns matching ``query``
        (every word), within ``where``, best first, at most ``limit``."""
        ...


search_backends: Registry[SearchBackend] = Registry("search backend", "qa_pipeline.search_backends")


@dataclass
class Where:
    """SQL filter clauses (each starting with AND): all of them, and those on interaction
    columns only (indexed: agent, team, channel, dates)."""

    all: str
    indexed: str


def _filters(f: SearchFilters, backend: SearchBackend) -> tuple[Where, dict[str, Any]]:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    for column, value in (("agent_id", f.agent), ("team", f.team), ("channel", f.channel)):
        if value is not None:
            clauses.append(f"i.{column} = :{column}")
            params[column] = value
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
    if f.flag is not None:
        clauses.append(f"EXISTS (SELECT 1 FROM {backend.FLAG_ELEMENTS})")
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
