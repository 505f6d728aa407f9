"""Full-text search with filters (SQLite FTS5), including hostile queries."""

import json
from datetime import datetime

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from qa_pipeline.contracts import Flag
from qa_pipeline.errors import QAError
from qa_pipeline.interactions import Interaction, Turn
from qa_pipeline.scoring import score_interactions
from qa_pipeline.search import SearchFilters, query_terms
from qa_pipeline.store import save_interactions, save_scores, table_counts
from qa_pipeline.store.search_rows import search_interactions
from qa_pipeline.store.search_sqlite import fts_expression


def chat(n: int, agent: str, team: str, day: int, lang: str, *agent_lines: str, customer: str) -> Interaction:
    turns = [Turn(speaker="customer", text=customer)] + [Turn(speaker="agent", text=t) for t in agent_lines]
    return Interaction(
        id=f"chat:t:{n}",
        channel="chat",
        agent_id=agent,
        team=team,
        language=lang,
        started_at=f"2026-11-{day:02d}T10:00:00Z",
        turns=turns,
    )


@pytest.fixture
def stored(engine, rubric):
    items = [
        chat(
            1,
            "a1",
            "billing",
            18,
            "en",
            "Hello! I'm sorry, I have issued the refund. Thank you!",
            customer="I want a refund for my refund request, refund now",
        ),
        chat(
            2,
            "a1",
            "billing",
            19,
            "en",
            "Calm down, you have to wait.",
            customer="Where is my refund? I want to speak to a manager.",
        ),
        chat(
            3,
            "a2",
            "cee",
            20,
            "cs",
            "Dobrý den, vrácení peněz jsem odeslala. Děkujeme.",
            customer="Kdy přijde vrácení peněz?",
        ),
        chat(
            4,
            "a2",
            "cee",
            20,
            "ru",
            "Здравствуйте! Возврат средств оформлен. Спасибо!",
            customer="Где мой возврат?",
        ),
    ]
    save_interactions(engine, items)
    save_scores(engine, score_interactions(items, rubric))
    return items


def ids(hits):
    return [h.interaction_id for h in hits]


def test_words_rank_and_snippets(engine, stored):
    hits = search_interactions(engine, "refund")
    assert ids(hits) == ["chat:t:1", "chat:t:2"]  # three mentions outrank one
    assert "[refund]" in hits[0].snippet and hits[0].turn == 0


def test_diacritics_prefix_and_phrases(engine, stored):
    assert ids(search_interactions(engine, "vraceni")) == ["chat:t:3"]  # typed without diacritics
    assert ids(search_interactions(engine, "возврат*")) == ["chat:t:4"]
    assert ids(search_interactions(engine, '"speak to a manager"')) == ["chat:t:2"]
    assert search_interactions(engine, '"manager to speak"') == []


def test_filters(engine, stored, rubric):
    from datetime import datetime

    scores = {s.interaction_id: s for s in score_interactions(stored, rubric)}
    by_id = {i.id: i for i in stored}

    def expect(keep):
        return sorted(i for i in by_id if keep(by_id[i], scores[i]))

    cases = [
        (SearchFilters(agent="a2"), expect(lambda i, s: i.agent_id == "a2")),
        (
            SearchFilters(team="billing", since=datetime(2026, 11, 19)),
            expect(lambda i, s: i.team == "billing" and i.started_at.day >= 19),
        ),
        (SearchFilters(flag="escalation"), expect(lambda i, s: "escalation" in {f.code for f in s.flags})),
        (SearchFilters(failed="empathy"), expect(lambda i, s: s.criteria["empathy"].result == "fail")),
        (SearchFilters(min_score=50, max_score=90), expect(lambda i, s: 50 <= s.score <= 90)),
    ]
    for filters, expected in cases:
        assert expected, filters  # each case must select something to prove the filter
        assert len(expected) < len(stored), filters  # ... and leave something out
        assert sorted(ids(search_interactions(engine, "", filters))) == expected, filters


@pytest.mark.parametrize(
    "query",
    [
        '"',
        'refund" OR 1=1 --',
        "'; DROP TABLE turns; --",
        "NEAR(refund",
        "refund AND",
        "*",
        "^",
        "💥",
        "column:text",
        "a\x00b",
        "(((",
        "{x}",
        'ř"ž',
        "%_%",
    ],
)
def test_hostile_queries_never_error_or_inject(engine, stored, query):
    before = table_counts(engine)
    try:
        search_interactions(engine, query)
    except QAError as exc:  # nothing searchable: a clear answer, never "every interaction"
        assert not query_terms(query) and "no letters or digits" in str(exc)
    assert table_counts(engine) == before
    assert_index_in_sync(engine)
    assert ids(search_interactions(engine, "refund")) == ["chat:t:1", "chat:t:2"]


def assert_index_in_sync(engine):
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":  # raises "database disk image is malformed" if not
            conn.execute(text("INSERT INTO turns_fts (turns_fts, rank) VALUES ('integrity-check', 1)"))
        else:
            assert conn.execute(text("SELECT count(*) FROM turns WHERE search IS NULL")).scalar_one() == 0


def test_expression_is_built_from_words_only():
    assert fts_expression('refund "speak to" mana* ") OR (') == '"refund" "speak to" "mana"* "OR"'


def test_index_follows_rewrites(engine, stored):
    changed = stored[0].model_copy(update={"turns": [Turn(speaker="customer", text="nothing about money")]})
    save_interactions(engine, [changed])
    assert ids(search_interactions(engine, "refund")) == ["chat:t:2"]
    assert ids(search_interactions(engine, "money")) == ["chat:t:1"]
    assert_index_in_sync(engine)


def test_cli_table_and_json(engine, stored, tmp_path):
    from qa_pipeline.cli import app

    config = tmp_path / "qa.toml"
    config.write_text(f'database_url = "{engine.url}"\n', encoding="utf-8")
    runner = CliRunner()
    table = runner.invoke(app, ["search", "refund", "--team", "billing", "-c", str(config)])
    assert table.exit_code == 0 and "chat:t:1" in table.output and "[refund]" in table.output
    raw = runner.invoke(app, ["search", "", "--flag", "escalation", "--json", "-c", str(config)])
    [hit] = json.loads(raw.output)
    assert hit["interaction_id"] == "chat:t:2" and "escalation" in hit["flags"]
    bad = runner.invoke(app, ["search", "x", "--since", "last week", "-c", str(config)])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


@pytest.mark.parametrize(
    ("text", "query", "expected"),
    [
        ("Kdy přijde vrácení peněz?", "vraceni", "Kdy přijde [vrácení] peněz?"),
        (
            "I want to speak to a manager, now.",
            '"speak to a manager"',
            "I want to [speak to a manager], now.",
        ),
        ("It was CANCELLED yesterday", "cancel*", "It was [CANCELLED] yesterday"),
        ("nothing here", "refund", "nothing here"),
        (" ".join(f"w{n}" for n in range(30)) + " refund", "refund", "…w26 w27 w28 w29 [refund]"),
    ],
)
def test_snippets_mark_what_matched(text, query, expected):
    from qa_pipeline.search import highlight, query_terms

    assert highlight(text, query_terms(query)) == expected


def flagged(scores, every: int, code: str = "escalation"):
    """The scores, every ``every``-th one carrying a ``code`` flag and the rest none."""
    return [
        s.model_copy(update={"flags": [Flag(code=code, reason="test")] if n % every == 0 else []})
        for n, s in enumerate(scores)
    ]


def test_windows_and_filter_first_find_what_a_full_search_finds(engine, monkeypatch, rubric):
    import qa_pipeline.search as search

    items = [
        chat(
            n,
            f"a{n % 3}",
            "billing" if n % 2 else "cee",
            1 + n % 20,
            "en",
            "Hello, your refund is on its way.",
            customer=f"refund {n}",
        )
        for n in range(40)
    ]
    save_interactions(engine, items)
    save_scores(engine, flagged(score_interactions(items, rubric), every=7))
    if engine.dialect.name == "postgresql":  # statistics, so the planner sees "refund" is common
        with engine.begin() as conn:
            conn.execute(text("ANALYZE turns"))
    queries = [
        ("refund", SearchFilters()),
        ("refund", SearchFilters(agent="a1")),
        ("refund", SearchFilters(team="cee", since=datetime(2026, 11, 5), until=datetime(2026, 11, 9))),
        ("way", SearchFilters(agent="a2")),
        ("refund", SearchFilters(flag="escalation")),  # the flag's rows are the candidates
        ("refund", SearchFilters(flag="escalation", team="cee")),
        ("refund", SearchFilters(flag="any", agent="a0")),
        ("refund", SearchFilters(flag="escalation", since=datetime(2026, 11, 8), channel="chat")),
    ]
    full = [sorted(ids(search_interactions(engine, q, f, limit=100))) for q, f in queries]
    assert all(full) and len(full[0]) == 40
    assert full[4] == [f"chat:t:{n}" for n in sorted(range(0, 40, 7), key=str)]
    monkeypatch.setattr(search, "RANK_WINDOW", 3)  # SQLite: the newest 3 matches first
    monkeypatch.setattr(search, "PG_WINDOW_TURNS", 5)  # PostgreSQL: the newest 5 turns first
    for filter_first in (0, 1000):  # never / always filter first
        monkeypatch.setattr(search, "FILTER_FIRST", filter_first)
        for (q, f), expected in zip(queries, full, strict=True):
            assert sorted(ids(search_interactions(engine, q, f, limit=100))) == expected, (q, f, filter_first)
            assert len(search_interactions(engine, q, f, limit=5)) == min(5, len(expected))


def test_flag_filter_follows_rescoring_and_reaches_old_scores(engine, rubric):
    items = [
        chat(n, "a1", "billing", 1 + n, "en", "Your refund is done.", customer="refund?") for n in range(6)
    ]
    save_interactions(engine, items)
    scores = score_interactions(items, rubric)
    save_scores(engine, flagged(scores, every=2))
    only = SearchFilters(flag="escalation")
    assert sorted(ids(search_interactions(engine, "refund", only))) == ["chat:t:0", "chat:t:2", "chat:t:4"]
    save_scores(engine, flagged(scores[:3], every=3, code="negative_language"))  # 0 re-flagged, 2 cleared
    assert sorted(ids(search_interactions(engine, "refund", only))) == ["chat:t:4"]
    other = SearchFilters(flag="negative_language")
    assert ids(search_interactions(engine, "", other)) == ["chat:t:0"]
    assert sorted(ids(search_interactions(engine, "", SearchFilters(flag="any")))) == ["chat:t:0", "chat:t:4"]


def test_a_matched_redaction_marker_is_not_bracketed_twice(engine):
    item = chat(1, "a1", "billing", 2, "en", "I see the card [CARD] on file.", customer="My card [CARD]")
    save_interactions(engine, [item])
    [hit] = search_interactions(engine, "card")
    assert "[[" not in hit.snippet and "]]" not in hit.snippet
    assert "[CARD]" in hit.snippet and "[card]" in hit.snippet  # the typed word is still marked
    assert ("CARD", True) in hit.parts  # the web page still marks the marker as matched


def test_two_rubrics_scored_in_one_instant_give_one_hit_with_the_pages_score(engine, rubric):
    """Scored by two rubrics in one save (one scored_at), an interaction is one hit, carrying
    the score its pages show (the newest; on a tie, the first rubric by name)."""
    from pathlib import Path

    from qa_pipeline.rubric import load_rubric

    billing = load_rubric(Path(__file__).resolve().parents[1] / "rubrics" / "billing.yaml")
    item = chat(1, "a1", "billing", 3, "en", "Thanks, your refund is issued.", customer="My refund?")
    save_interactions(engine, [item])
    by_default, by_billing = score_interactions([item], rubric)[0], score_interactions([item], billing)[0]
    assert by_default.score != by_billing.score  # else the test could not tell which one is shown
    save_scores(engine, [by_default, by_billing])
    for query in ("refund", ""):
        [hit] = search_interactions(engine, query, SearchFilters(agent="a1"))
        assert hit.score == pytest.approx(min((by_billing, by_default), key=lambda s: s.rubric).score)
