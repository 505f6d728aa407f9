"""Web app benchmark: render times of the agent, team, search and interaction pages on a
database of N synthetic interactions (the search benchmark's data: 200 agents in 4 teams,
one interaction every 30 s from 2026-01-01), on SQLite and PostgreSQL.

Each page is requested through the application in-process (Starlette's test client: no
network), signed in as a QA lead (no scope filter), 20 timed requests after a warm-up.
The baseline is the sign-in page, rendered in the same process: what the framework and
templates cost without a database.

Run: ``.venv/bin/python benchmarks/bench_web.py [--n 1000000] [--db sqlite postgresql]
[--workdir DIR --reuse]`` (loading 1,000,000 interactions takes about 20 minutes per database
on 2 cores; ``--reuse`` renders from what an earlier run with the same ``--workdir`` loaded).
"""

from __future__ import annotations

import re
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench_search import START, database, load, pct  # benchmarks/ is the script's folder
from fastapi.testclient import TestClient
from results_table import database_arguments, run_each

from qa_pipeline.settings import Settings
from qa_pipeline.store import open_store
from qa_pipeline.web.app import create_app
from qa_pipeline.web.auth import account

RESULTS = Path(__file__).with_name("web_results.md")
REPEATS = 20


def pages(n: int) -> dict[str, str]:
    """The pages timed: a day in the middle of the data for the period pages."""
    middle = (START + timedelta(seconds=n * 30 / 2)).date().isoformat()
    return {
        "agent, week": f"/agents/a17?period=week&on={middle}",
        "agent, month": f"/agents/a17?period=month&on={middle}",
        "team, week": f"/teams/billing?period=week&on={middle}",
        "team, day": f"/teams/billing?period=day&on={middle}",
        "search, words": "/search?q=refund",
        "search, words + team + flag": "/search?q=refund&team=billing&flag=escalation",
        "search, filters only": f"/search?agent=a17&since={middle}",
        "interaction": f"/interactions/chat:bench:{n // 2}",
    }


def timings(url: str, n: int, workdir: Path) -> dict[str, list[float]]:
    settings = Settings(database_url=url, data_dir=workdir)
    store = open_store(url)
    if store.find_user(username="bench") is None:
        store.add_user(account("bench", "lead", [], None, "bench-password-1"), actor="bench")
    client = TestClient(create_app(settings))
    form = client.get("/login").text
    token = re.search(r'name="token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"token": token, "username": "bench", "password": "bench-password-1"})
    targets = {"sign-in page (baseline)": "/login", **pages(n)}
    out: dict[str, list[float]] = {}
    for name, path in targets.items():
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
        out[name] = []
        for _ in range(REPEATS):
            began = time.perf_counter()
            client.get(path)
            out[name].append((time.perf_counter() - began) * 1000)
    return out


def run(db: str, n: int, workdir: Path, reuse: bool) -> list[str]:
    url, server = database(db, workdir)
    marker = workdir / f"loaded-{db}-{n}"
    try:
        if not (reuse and marker.exists()):
            load(url, n)
            marker.touch()
        times = timings(url, n, workdir)
    finally:
        if server:
            server.stop()
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    base = statistics.median(times["sign-in page (baseline)"])
    return [
        f"| {day} | {db} | {n:,} | {page} | {len(values)} | {statistics.median(values):.1f} | "
        f"{pct(values, 95):.1f} | {max(values):.0f} | {statistics.median(values) / base:.1f} |"
        for page, values in times.items()
    ]


HEADER = """# Web app benchmark results

`benchmarks/bench_web.py`: the search benchmark's synthetic interactions (20 turns, scores
and flags; 200 agents in 4 teams), pages requested in-process as a QA lead, 20 timed
requests each after a warm-up. Ratio: the page's median over the sign-in page's median in
the same process (the framework and templates without a database). Target: p95 under 300 ms.

| date | database | interactions | page | n | p50 ms | p95 ms | max ms | x sign-in page |
|---|---|---|---|---|---|---|---|---|
"""


def main() -> None:
    parser = database_arguments(__doc__ or "")
    args = parser.parse_args()
    run_each(args, run, RESULTS, HEADER)


if __name__ == "__main__":
    main()
