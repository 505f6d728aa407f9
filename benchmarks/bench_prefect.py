"""Prefect's own cost in a night: the nightly flow against the same work without Prefect.

In one process, on the same chats night (``--chats`` conversations of
tests/data/chats/export.json with new ids, in 16 files), each run on a fresh SQLite
database, after one warm-up night (models and matchers loaded, as in a long-running worker):

- plain: the flow's own batches through the same functions (``ingest_batch``,
  ``score_batch``, ``build_scorecards``) on a thread pool of ``max_workers``, no Prefect;
- prefect: ``run_nightly`` (flow, task runs, states reported to a Prefect server that is
  already running, as under a work pool's worker).

Overhead = prefect / plain - 1 (best of ``--repeat`` runs each, alternated). Then the fixed
cost a bare ``qa nightly`` pays when no server is configured: Prefect starts a temporary
one. It is measured as ``qa nightly`` on an empty night in a child process, with
``PREFECT_API_URL`` pointing at the running server and without it.

    .venv/bin/python benchmarks/bench_prefect.py [--chats 10000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).parent))

from bench_dask import chats_night, warm  # noqa: E402  (the same night as the Dask benchmark)
from nightly_config import write_config  # noqa: E402
from results_table import report  # noqa: E402

RESULTS = Path(__file__).with_name("prefect_results.md")
NIGHT = date(2026, 11, 20)
HEADER = """# Prefect overhead benchmark results

`benchmarks/bench_prefect.py`: a chats night through the nightly flow (`run_nightly`, a
Prefect server already running) against the same batches through the same functions on a
thread pool without Prefect, in one process, each run on a fresh SQLite database, best of
the repeats. Overhead = flow / plain - 1. The last rows are the fixed cost of a bare `qa
nightly` (a child process, empty night) with a running server and with the temporary server
Prefect starts when `PREFECT_API_URL` is not set.

| date | machine | night | items | path | wall s | overhead |
|---|---|---|---|---|---|---|
"""


def plain_night(config: Path, stages: dict[str, float] | None = None) -> float:
    """The flow's work without Prefect: same batches, same functions, same thread count.

    Returns the wall seconds; ``stages`` (if given) gets each stage's seconds.
    """
    from qa_pipeline.pipeline import (
        batches,
        chat_groups,
        ingest_batch,
        score_batch,
        summarise_reports,
    )
    from qa_pipeline.rubric import criterion_names
    from qa_pipeline.scorecards import build_scorecards
    from qa_pipeline.settings import load_settings
    from qa_pipeline.store import open_store

    began = time.perf_counter()
    settings = load_settings(config)
    run_id = f"plain-{uuid.uuid4().hex[:8]}"
    store = open_store(settings.database_url)
    store.start_run(run_id, NIGHT.isoformat())
    plan = [
        (b, source.format, source.team)
        for source, paths in chat_groups(settings, NIGHT)
        for b in batches(paths, settings.batch_size)
    ]
    stages = {} if stages is None else stages
    with ThreadPoolExecutor(settings.max_workers) as pool:
        mark = time.perf_counter()
        ingested = list(pool.map(lambda p: ingest_batch("chat", p[0], settings, run_id, p[1], p[2]), plan))
        stages["ingest and store"], mark = time.perf_counter() - mark, time.perf_counter()
        jobs = [ids for r in ingested for ids in batches(r.ids, settings.score_batch_size)]
        scored = list(pool.map(lambda ids: score_batch("chat", ids, settings, run_id), jobs))
        stages["score and store"], mark = time.perf_counter() - mark, time.perf_counter()
    summary = summarise_reports(ingested + scored)
    build_scorecards(
        store,
        settings.scorecard_dir,
        fcr_window_days=settings.fcr_window_days,
        criteria=criterion_names(settings.rubric_paths()),
    )
    stages["scorecards"] = time.perf_counter() - mark
    store.finish_run(run_id, "ok" if summary.balanced else "unbalanced", summary.as_dict())
    seconds = time.perf_counter() - began
    assert summary.balanced, summary.render()
    return seconds


def flow_night(config: Path) -> float:
    from qa_pipeline.flows.nightly import run_nightly

    began = time.perf_counter()
    summary = run_nightly(config, NIGHT)
    seconds = time.perf_counter() - began
    assert summary["balanced"], summary
    return seconds


def bare_cli(folder: Path, api_url: str | None) -> float:
    """Wall time of ``qa nightly`` on an empty night in a child process."""
    config = write_config(folder, f'[sources]\nchats = ["{folder}/none/*.json"]\n')
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    if api_url:
        env["PREFECT_API_URL"] = api_url
    began = time.perf_counter()
    qa = Path(sys.executable).with_name("qa")
    subprocess.run(
        [str(qa), "nightly", "--config", str(config), "--date", NIGHT.isoformat()],
        check=True,
        capture_output=True,
        env=env,
    )
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--batch", type=int, default=8, help="files per ingest task (shipped: 8)")
    parser.add_argument(
        "--score-batch", type=int, default=200, help="interactions per scoring task (shipped: 200)"
    )
    parser.add_argument("--no-record", action="store_true", help="print only; do not update the results file")
    args = parser.parse_args()
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    machine = f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores"
    today = date.today().isoformat()
    body = (
        f"batch_size = {args.batch}\nscore_batch_size = {args.score_batch}\n"
        'classifier = "{model}"\n[sources]\nchats = ["{chats}/*.json"]\n'
    )
    night = f"scoring (chats), {args.batch} files / {args.score_batch} interactions per task"
    rows = []
    with tempfile.TemporaryDirectory() as tmp, prefect_test_harness(server_startup_timeout=120):
        work = Path(tmp)
        chats = chats_night(work / "in", args.chats)
        model = ROOT / "models" / "turns-fast.skops"  # the mode for large nights
        runs: dict[str, list[float]] = {"plain": [], "prefect": []}
        for n in range(args.repeat + 1):
            for path, run in (("plain", plain_night), ("prefect", flow_night)):
                config = write_config(work / f"{path}-{n}", body.format(model=model, chats=chats))
                if n == 0:
                    warm(str(config))
                seconds = run(config)
                print(
                    f"{path} run {n}: {seconds:.1f} s" + (" (warm-up, not counted)" if n == 0 else ""),
                    flush=True,
                )
                if n:
                    runs[path].append(seconds)
        plain, flow = min(runs["plain"]), min(runs["prefect"])
        rows.append(
            f"| {today} | {machine} | {night} | {args.chats} | plain functions, no Prefect | {plain:.1f} | - |"
        )
        rows.append(
            f"| {today} | {machine} | {night} | {args.chats} | nightly flow, server running "
            f"| {flow:.1f} | {100 * (flow / plain - 1):+.1f}% |"
        )
        running = min(bare_cli(work / f"cli-running-{n}", PREFECT_API_URL.value()) for n in range(2))
        temporary = min(bare_cli(work / f"cli-temporary-{n}", None) for n in range(2))
        rows.append(f"| {today} | {machine} | empty | 0 | `qa nightly`, server running | {running:.1f} | - |")
        rows.append(
            f"| {today} | {machine} | empty | 0 | `qa nightly`, temporary server | {temporary:.1f} "
            f"| +{temporary - running:.1f} s |"
        )
    report(RESULTS, HEADER, rows, record=not args.no_record)


if __name__ == "__main__":
    main()
