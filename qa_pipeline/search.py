"""Supervisors' search: full text over turns, with filters, ranked, with a snippet.

What a search is (words, phrases, filters), how a hit is shown, and the interface each
database's full-text search implements (``SearchBackend``; SQLite FTS5 and PostgreSQL
tsvector in ``store/``). User input never reaches the query text: words and quoted phrases
are extracted and passed as bound parameters, as is every filter. Run a search with
``Store.search``.
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Protocol

from qa_pipeline.registry import Registry

ANY_FLAG = "any"  # as --flag: interactions with at least one flag
MAX_LIMIT = 10_000  # results per search; more is an export, not a search
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
    # Whose interactions the asker may see (None: no limit): the web app's role scoping.
    agents: list[str] | None = None
    teams: list[str] | None = None
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
    snippet: str = ""  # matched words in [brackets]
    parts: list[tuple[str, bool]] = field(default_factory=list)  # the snippet as (text, matched)


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


def _fold(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))


# How the backends mark matched words: characters no text holds (Unicode private use), so a
# redaction marker such as [CARD] is never mistaken for a match. SearchHit turns them into
# [brackets] for the terminal and into parts for the web page.
MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"


def bracketed(marked: str) -> str:
    """A marked snippet for the terminal: matched words in [brackets]; a matched redaction
    marker stays as it is ("[CARD]", not "[[CARD]]"; PostgreSQL's snippet may end before its "]")."""
    marked = re.sub(f"\\[{MARK_OPEN}([A-Z_]+){MARK_CLOSE}\\]?", r"[\1]", marked)
    return marked.replace(MARK_OPEN, "[").replace(MARK_CLOSE, "]")


def snippet_parts(marked: str) -> list[tuple[str, bool]]:
    """A marked snippet as (text, matched) parts."""
    parts: list[tuple[str, bool]] = []
    for n, piece in enumerate(re.split(f"[{MARK_OPEN}{MARK_CLOSE}]", marked)):
        if piece:
            parts.append((piece, n % 2 == 1))
    return parts


def highlight(
    text: str, terms: list[tuple[str, str]], width: int = 12, marks: tuple[str, str] = ("[", "]")
) -> str:
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

    def joined(i: int) -> bool:  # word i and word i + 1 both matched, with only spaces between
        return i in marked and i + 1 in marked and text[spans[i][1] : spans[i + 1][0]].isspace()

    for i in range(lo, hi):
        start, end, _ = spans[i]
        opens = i in marked and (i == lo or not joined(i - 1))
        closes = i in marked and (i == hi - 1 or not joined(i))
        before, after = marks[0] if opens else "", marks[1] if closes else ""
        out.append(text[pos:start] + before + text[start:end] + after)
        pos = end
    tail = text[pos : spans[hi][0]] if hi < len(spans) else text[pos:]
    return ("…" if lo else "") + "".join(out) + (tail if hi == len(spans) else tail.rstrip() + "…")


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
    """The filters as SQL: ``all``, clauses each starting with AND (on ``interactions i`` and its
    latest score ``s``); ``candidates``, a SELECT of interaction ids (column ``id``) narrowed by
    the filters that have an index (agent, team, channel, dates, a flag), or '' when none
    narrows: a superset of the matches that ``all`` keeps, cheap to read when it is small."""

    all: str
    candidates: str


def check_filters(
    f: SearchFilters, known: dict[str, list[str]], criteria: list[str], flags: list[str]
) -> list[str]:
    """What is wrong with the filters, in words: a value that names no known agent, team,
    channel, flag or criterion would silently find nothing. ``known``: agents and teams
    in the database (``Store.known_values``)."""
    problems = []
    checks = (
        ("agent", f.agent, known.get("agents", [])),
        ("team", f.team, known.get("teams", [])),
        ("channel", f.channel, ["call", "chat", "email"]),
        ("flag", f.flag, [ANY_FLAG, *flags]),
        ("failed", f.failed, criteria),
    )
    for name, value, allowed in checks:
        if value is None or value in allowed:
            continue
        close = difflib.get_close_matches(value, allowed, n=3, cutoff=0.6)
        listed = ", ".join(allowed[:20]) or "none yet"
        hint = f"did you mean {', '.join(close)}?" if close else f"known: {listed}"
        problems.append(f"no {name} {value!r} in the data; {hint}")
    if f.min_score is not None and f.max_score is not None and f.min_score > f.max_score:
        problems.append(f"min score {f.min_score:g} is above max score {f.max_score:g}")
    if f.since and f.until and f.since >= f.until:
        problems.append("the start date is not before the end date")
    return problems


def as_json(hits: list[SearchHit]) -> str:
    """The hits as a JSON array, for tools."""
    rows = [{k: v for k, v in asdict(h).items() if k != "parts"} for h in hits]
    return json.dumps(rows, ensure_ascii=False, indent=1)
