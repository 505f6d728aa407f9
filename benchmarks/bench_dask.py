"""Dask benchmark: the nightly flow on a real Dask cluster (a scheduler and 1 or 2 worker
processes of one thread each, started here and reached over TCP) against the thread runner
and the local process pool (``task_runner = "processes"``, 2 processes), on a scoring night
(chats only) and a transcription night (calls only).

- Scoring night: ``--chats`` conversations (the four of tests/data/chats/export.json with
  new ids, spread over 16 files), ingested in batches of 2 files and scored in batches of
  ``--score-batch`` interactions.
- Transcription night: the demo calls (examples/calls) copied ``--call-copies`` times under
  new names, one file per ingest task.

Every run writes a fresh SQLite database; the Prefect server is started once for all runs
(not timed). Each process is warmed first (models and matchers loaded, as in a long-running
worker); Whisper's threads are the cores divided among the worker processes. Wall time of
``run_nightly``; speed-up = 1 worker's time / 2 workers' time.

    .venv/bin/python benchmarks/bench_dask.py [--chats 1600] [--call-copies 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).parent))

from dask_cluster import dask_cluster  # noqa: E402  (tests/ holds the cluster the test starts too)
from nightly_config import write_config  # noqa: E402  (tests/ holds the shared config writer)
from results_table import add_rows  # noqa: E402

RESULTS = Path(__file__).with_name("dask_results.md")
HEADER = """# Dask benchmark results

`benchmarks/bench_dask.py`: the nightly flow on a real Dask cluster (scheduler and worker
processes started by the benchmark, one thread each, over TCP) against the thread runner, in
the same process, each run on a fresh SQLite database. Speed-up = 1 worker's wall time / 2
workers'. Scoring night: chats only; transcription night: the demo calls only.

| date | machine | night | items | runner | wall s | per item s | speed-up vs 1 worker |
|---|---|---|---|---|---|---|---|
"""


def chats_night(folder: Path, n: int) -> Path:
    source = json.loads((ROOT / "tests" / "data" / "chats" / "export.json").read_text(encoding="utf-8"))
    chats = folder / "chats"
    chats.mkdir(parents=True)
    files = 16
    for f in range(files):
        conversations = []
        for k in range(f, n, files):
            template = source["conversations"][k % len(source["conversations"])]
            conversations.append(
                {**template, "id": f"b{k}", "agent": {"id": f"a{k % 20}", "name": f"Agent {k % 20}"}}
            )
        (chats / f"chats-{f:02d}.json").write_text(json.dumps({**source, "conversations": conversations}))
    return chats


def calls_night(folder: Path, copies: int) -> tuple[Path, int]:
    calls = folder / "calls"
    calls.mkdir(parents=True)
    demo = sorted(p for p in (ROOT / "examples" / "calls").iterdir() if p.suffix in (".wav", ".mp3"))
    count = 0
    for c in range(copies):
        for p in demo:
            shutil.copy(p, calls / f"{p.stem}-{c}{p.suffix}")
            count += 1
    return calls, count


def warm(config: str) -> bool:
    """Load what a night needs once per process (the models, the rubric's matchers), as a
    long-running worker has: the timed runs measure the night, not a cold start."""
    from qa_pipeline.interactions import Interaction, Turn
    from qa_pipeline.pipeline import _transcriber, score_routed
    from qa_pipeline.settings import load_settings

    settings = load_settings(Path(config))
    _transcriber(settings.whisper).model  # noqa: B018  (loads it)
    sample = Interaction(
        id="chat:warm:1",
        channel="chat",
        agent_id="a",
        language="en",
        turns=[Turn(speaker="agent", text="Hello, thanks for waiting.")],
    )
    score_routed([sample], settings)
    return True


def timed_night(folder: Path, sources: str, runner: str, score_batch: int, threads: int) -> float:
    from distributed import Client

    from qa_pipeline.flows.nightly import run_nightly

    config = write_config(
        folder,
        f'task_runner = "{runner}"\nbatch_size = 2\nscore_batch_size = {score_batch}\n'
        f'[whisper]\nmodel = "tiny.en"\ncpu_threads = {threads}\n[sources]\n{sources}\n',
    )
    if runner.startswith("dask"):
        with Client(runner.replace("dask://", "tcp://"), timeout=30) as client:
            assert all(client.run(warm, str(config)).values())
    else:
        warm(str(config))
    began = time.perf_counter()
    summary = run_nightly(config, date(2026, 11, 20))
    seconds = time.perf_counter() - began
    assert summary["balanced"], summary
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chats", type=int, default=1600)
    parser.add_argument("--call-copies", type=int, default=2)
    parser.add_argument("--score-batch", type=int, default=100)
    args = parser.parse_args()
    from prefect.testing.utilities import prefect_test_harness

    cores = len(os.sched_getaffinity(0))
    machine = f"{platform.machine()}, {cores} cores"
    today = date.today().isoformat()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, prefect_test_harness(server_startup_timeout=120):
        work = Path(tmp)
        chats = chats_night(work / "in", args.chats)
        calls, n_calls = calls_night(work / "in", args.call_copies)
        nights = {
            "scoring (chats)": (f'chats = ["{chats}/*.json"]', args.chats),
            "transcription (calls)": (f'calls = ["{calls}"]', n_calls),
        }
        for night, (sources, items) in nights.items():
            times: dict[str, float] = {}
            for label in ("threads", "processes, 2", "dask, 1 worker", "dask, 2 workers"):
                folder = work / f"{night[:5]}-{label.replace(' ', '').replace(',', '-')}"
                if label == "threads":  # one process: ctranslate2 uses both cores
                    times[label] = timed_night(folder, sources, "threads", args.score_batch, cores)
                    continue
                if label.startswith("processes"):  # the flow's own pool of 2 processes
                    times[label] = timed_night(
                        folder, sources, "processes", args.score_batch, max(1, cores // 2)
                    )
                    continue
                workers = 1 if "1 worker" in label else 2
                with dask_cluster(workers) as address:  # the cores shared among the workers
                    threads = max(1, cores // workers)
                    times[label] = timed_night(
                        folder, sources, f"dask://{address}", args.score_batch, threads
                    )
            for label, seconds in times.items():
                if label.startswith("dask"):
                    speed = f"{times['dask, 1 worker'] / seconds:.2f}x"
                elif label.startswith("processes"):
                    speed = f"{times['threads'] / seconds:.2f}x vs threads"
                else:
                    speed = "-"
                rows.append(
                    f"| {today} | {machine} | {night} | {items} | {label} | {seconds:.1f} "
                    f"| {seconds / items:.3f} | {speed} |"
                )
                print(rows[-1], flush=True)
    add_rows(RESULTS, HEADER, rows)


if __name__ == "__main__":
    main()
