"""Search benchmark: load N synthetic interactions (20 turns each) into SQLite and PostgreSQL
through the same ``store`` functions the nightly run uses, then time ``search_interactions``
over a fixed query set, without and with filters.

Run: ``.venv/bin/python benchmarks/bench_search.py [--n 1000000] [--db sqlite postgresql]``
(``make bench`` runs it with a small N; the 1M rows in ``search_results.md`` used the
default). PostgreSQL runs on a throwaway server this script starts (tests/pg_server.py)
with default durability settings. Ingest is also compared with a bare baseline in the same
process: the same turn rows written with plain ``executemany`` into an unindexed table.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from results_table import database_arguments, run_each  # benchmarks/ is the script's folder
from tqdm import tqdm

from qa_pipeline.interactions import Interaction, Turn
from qa_pipeline.scoring import CriterionResult, Flag, InteractionScore
from qa_pipeline.search import SearchFilters
from qa_pipeline.store import connect, save_interactions, save_scores
from qa_pipeline.store.search_rows import search_interactions

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from pg_server import PostgresServer

RESULTS = Path(__file__).with_name("search_results.md")
LANGS = ("en", "cs", "sl", "lt", "ru")
CRITERIA = ("greeting", "empathy", "positive_language", "resolution", "thanks")
FLAGS = ("critical_fail", "escalation", "customer_upset", "negative_language", "low_score")
START = datetime(2026, 1, 1, tzinfo=UTC)

CUSTOMER = {
    "en": [
        "I want a refund for order {order}",
        "my {product} stopped working again",
        "the invoice for {product} is wrong",
        "I was charged twice for {product}",
        "I want to speak to a manager",
        "I will cancel my subscription",
        "where is my parcel, it is late",
        "ok thanks",
        "the app shows an error when I log in",
        "can you change my delivery address",
    ],
    "cs": [
        "chci vrácení peněz za objednávku {order}",
        "můj {product} zase nefunguje",
        "faktura za {product} je špatně",
        "strhli mi peníze dvakrát",
        "chci mluvit s vedoucím",
        "zruším smlouvu",
        "kde je můj balík",
        "dobře děkuji",
    ],
    "sl": [
        "želim vračilo denarja za naročilo {order}",
        "moj {product} spet ne deluje",
        "račun za {product} je napačen",
        "dvakrat so mi zaračunali",
        "želim govoriti z vodjo",
        "v redu hvala",
    ],
    "lt": [
        "noriu grąžinti pinigus už užsakymą {order}",
        "mano {product} vėl neveikia",
        "sąskaita už {product} neteisinga",
        "noriu kalbėti su vadovu",
        "gerai ačiū",
    ],
    "ru": [
        "хочу возврат денег за заказ {order}",
        "мой {product} снова не работает",
        "счёт за {product} неверный",
        "с меня дважды списали деньги",
        "хочу поговорить с руководителем",
        "хорошо спасибо",
    ],
}
AGENT = {
    "en": [
        "hello, thank you for contacting us",
        "I'm sorry to hear that",
        "let me check your account",
        "I have issued the refund for {product}",
        "your {product} replacement ships today",
        "calm down, you have to wait",
        "is there anything else I can help with",
        "thank you for your patience",
    ],
    "cs": [
        "dobrý den, děkujeme, že jste nás kontaktovali",
        "omlouváme se za komplikace",
        "podívám se na váš účet",
        "vrácení peněz za {product} jsem odeslala",
        "děkujeme za trpělivost",
    ],
    "sl": [
        "dober dan, hvala za klic",
        "oprostite za nevšečnosti",
        "preverila bom vaš račun",
        "vračilo za {product} sem odobrila",
        "hvala za potrpežljivost",
    ],
    "lt": [
        "laba diena, ačiū, kad kreipėtės",
        "atsiprašome dėl nepatogumų",
        "patikrinsiu jūsų paskyrą",
        "pinigus už {product} grąžinome",
        "ačiū už kantrybę",
    ],
    "ru": [
        "здравствуйте, спасибо за обращение",
        "приносим извинения за неудобства",
        "я проверю ваш аккаунт",
        "возврат за {product} оформлен",
        "спасибо за терпение",
    ],
}
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "de", "bi", "go", "fu", "ha", "ji"]
PRODUCTS = sorted({a + b + c for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES[:8]})  # 2,048 names

QUERIES = [
    "refund",
    "refunds",  # stemming (PostgreSQL) / no match without it (SQLite)
    '"speak to a manager"',
    "cancel*",
    "vraceni",  # typed without diacritics
    "возврат",
    "kalbėti vadovu",
    "sorry",  # in ~1 of 8 agent turns: a worst case for ranking
    "kalosa",  # a product name: a rare, selective word
    "order 4711",
    "invoice wrong",
    "charged twice",
]


def filter_sets(n: int) -> list[SearchFilters]:
    """The filters of the 'with filters' rows: agent, team + a week, failed criterion, flag, score."""
    return [
        SearchFilters(agent="a17"),
        SearchFilters(team="billing", since=START + timedelta(days=30), until=START + timedelta(days=37)),
        SearchFilters(failed="empathy"),
        SearchFilters(flag="escalation", channel="chat"),
        SearchFilters(max_score=60),
    ]


def make_batch(
    rng: random.Random, first: int, count: int
) -> tuple[list[Interaction], list[InteractionScore]]:
    """``count`` synthetic interactions of 20 turns from id ``first`` on, with their scores."""
    items, scored = [], []
    for i in range(first, first + count):
        lang = LANGS[i % len(LANGS)]
        turns = []
        for t in range(20):
            pool = AGENT[lang] if t % 2 else CUSTOMER[lang]
            line = rng.choice(pool).format(
                order=rng.randint(1000, 99999), product=PRODUCTS[int(rng.paretovariate(1.1)) % len(PRODUCTS)]
            )
            turns.append(Turn(speaker="agent" if t % 2 else "customer", text=line))
        agent = f"a{i % 200}"
        item = Interaction(
            id=f"chat:bench:{i}",
            channel=("chat", "email", "call")[i % 3],
            agent_id=agent,
            team=("billing", "support", "cee", "retention")[i % 200 % 4],
            language=lang,
            started_at=START + timedelta(seconds=i * 30),
            turns=turns,
        )
        results = {
            c: CriterionResult.model_construct(
                result="fail" if rng.random() < 0.2 else "pass",
                score=None,
                confidence=1.0,
                method="rule",
                evidence=[],
                reason="",
            )
            for c in CRITERIA
        }
        flags = (
            [Flag.model_construct(code=rng.choice(FLAGS), reason="", evidence=[])]
            if rng.random() < 0.1
            else []
        )
        scored.append(
            InteractionScore.model_construct(
                interaction_id=item.id,
                rubric="default",
                agent_id=agent,
                channel=item.channel,
                model="rules-only",
                language=lang,
                score=round(rng.uniform(20, 100), 1),
                criteria=results,
                flags=flags,
            )
        )
        items.append(item)
    return items, scored


def load(url: str, n: int, batch: int = 2000) -> dict[str, float]:
    """Store ``n`` interactions with their scores; returns seconds and rates."""
    engine = connect(url)
    rng = random.Random(42)
    began = time.perf_counter()
    for first in tqdm(range(0, n, batch), desc=f"loading {engine.dialect.name}", unit="batch"):
        items, scored = make_batch(rng, first, min(batch, n - first))
        save_interactions(engine, items)
        save_scores(engine, scored)
    seconds = time.perf_counter() - began
    engine.dispose()
    return {"seconds": seconds, "per_s": n / seconds, "turns_per_s": n * 20 / seconds}


def bare_baseline(url: str, n: int, batch: int = 2000) -> float:
    """Interactions per second for writing the same turn rows with plain executemany, no index."""
    from sqlalchemy import create_engine

    engine = create_engine(url)
    rng = random.Random(42)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bare_turns")
        conn.exec_driver_sql(
            "CREATE TABLE bare_turns (interaction_id TEXT, idx INTEGER, speaker TEXT, text TEXT)"
        )
    began = time.perf_counter()
    mark = "?" if url.startswith("sqlite") else "%s"
    for first in range(0, n, batch):
        items, _ = make_batch(rng, first, min(batch, n - first))
        rows = [(i.id, k, t.speaker, t.text) for i in items for k, t in enumerate(i.turns)]
        with engine.begin() as conn:
            conn.exec_driver_sql(f"INSERT INTO bare_turns VALUES ({mark}, {mark}, {mark}, {mark})", rows)
    seconds = time.perf_counter() - began
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE bare_turns")
    engine.dispose()
    return n / seconds


def latencies(url: str, n: int, repeats: int = 5) -> dict[str, list[float]]:
    """Milliseconds per search, without and with filters (each query once to warm up)."""
    engine = connect(url)
    out: dict[str, list[float]] = {"no filters": [], "with filters": []}
    cases = [(q, None) for q in QUERIES] + [(q, f) for q in QUERIES for f in filter_sets(n)]
    for query, filters in cases:
        search_interactions(engine, query, filters)
    for _ in tqdm(range(repeats), desc=f"searching {engine.dialect.name}"):
        for query, filters in cases:
            began = time.perf_counter()
            search_interactions(engine, query, filters)
            out["with filters" if filters else "no filters"].append((time.perf_counter() - began) * 1000)
    engine.dispose()
    return out


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def database(db: str, workdir: Path) -> tuple[str, PostgresServer | None]:
    """The URL of the benchmark database in ``workdir``, and the PostgreSQL server started for it."""
    if db == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}", None
    server = PostgresServer(fast=False, root=workdir / "pg").start()
    return server.new_database("bench"), server


def run(db: str, n: int, workdir: Path, reuse: bool) -> list[str]:
    url, server = database(db, workdir)
    saved = workdir / f"ingest-{db}-{n}.json"
    try:
        if reuse and saved.exists():
            loaded = json.loads(saved.read_text())
        else:
            loaded = {"baseline_per_s": bare_baseline(url, min(n, 20000)), **load(url, n)}
            saved.write_text(json.dumps(loaded))
        times = latencies(url, n)
        size = _size(url, workdir)
    finally:
        if server:
            server.stop()
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    rows = []
    for kind, values in times.items():
        rows.append(
            f"| {day} | {db} | {n:,} | {loaded['per_s']:,.0f} ({loaded['turns_per_s']:,.0f} turns) | "
            f"{loaded['per_s'] / loaded['baseline_per_s']:.2f} | {size} | {kind} | {len(values)} | "
            f"{statistics.median(values):.1f} | {pct(values, 95):.1f} | {max(values):.0f} |"
        )
    return rows


def _size(url: str, workdir: Path) -> str:
    if url.startswith("sqlite"):
        return f"{sum(p.stat().st_size for p in workdir.glob('bench.db*')) / 1e9:.1f} GB"
    from sqlalchemy import create_engine

    with create_engine(url).connect() as conn:
        return (
            f"{conn.exec_driver_sql('SELECT pg_database_size(current_database())').scalar_one() / 1e9:.1f} GB"
        )


HEADER = """# Search benchmark results

`benchmarks/bench_search.py`: synthetic interactions of 20 turns in en/cs/sl/lt/ru with
scores and flags, stored through `save_interactions` + `save_scores` in batches of 2,000,
then `search_interactions` over 12 queries, 5 timed repeats after a warm-up; "with filters"
is each query under 5 filter sets (agent; team + one week; failed empathy; flag + channel;
score <= 60). Ingest ratio: our store rate over plain `executemany` of the same turn rows
into an unindexed table, in the same process. Latencies in milliseconds.

| date | database | interactions | ingest interactions/s | ratio to bare insert | size | queries | n | p50 ms | p95 ms | max ms |
|---|---|---|---|---|---|---|---|---|---|---|
"""


def main() -> None:
    parser = database_arguments(__doc__ or "")
    args = parser.parse_args()
    run_each(args, run, RESULTS, HEADER)


if __name__ == "__main__":
    main()
