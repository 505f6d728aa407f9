"""One big chats night, stage by stage: ingest and store, score and store, scorecards.

The night is ``--chats`` conversations (the four of tests/data/chats/export.json with new
ids, in 16 files; two in four are quarantined by design: one has no messages, one a message
from an unknown role), read one file per ingest batch and scored ``score_batch_size`` (200) at a time on ``max_workers`` (2)
threads, through the functions the nightly flow's tasks call (``bench_prefect.plain_night``:
Prefect's own cost is measured there), into a fresh SQLite database, with the fast
classifier (the mode for large nights). Rows go to ``night_results.md``.

With ``--flow`` the same night runs through the nightly flow itself (``run_nightly``: Prefect
task runs, states and logs; the temporary server unless ``PREFECT_API_URL`` names one), as
``qa nightly`` runs it; that gives the whole night's time only.

    .venv/bin/python benchmarks/bench_night.py --chats 1000000 [--flow]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).parent))

from bench_dask import chats_night, warm
from bench_prefect import ROOT, flow_night, plain_night
from nightly_config import write_config
from results_table import report

RESULTS = Path(__file__).with_name("night_results.md")


class Shown(dict):
    """Stage times, printed as each stage ends (a long night shows where it is)."""

    def __setitem__(self, stage: str, seconds: float) -> None:
        print(f"{stage}: {seconds:.0f} s", flush=True)
        super().__setitem__(stage, seconds)


HEADER = """# One big night, stage by stage

`benchmarks/bench_night.py`: a chats night through the functions the nightly flow's tasks
call (no Prefect; its cost is in `prefect_results.md`), 2 threads, a fresh SQLite database,
the fast classifier. Per stage: wall seconds and chats per second (of all chats read).

| date | machine | chats | stage | wall s | chats/s | max RSS |
|---|---|---|---|---|---|---|
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=100_000)
    parser.add_argument(
        "--workdir", type=Path, help="keep the night and database here (default: a temporary folder)"
    )
    parser.add_argument("--no-record", action="store_true", help="print only; do not update the results file")
    parser.add_argument("--flow", action="store_true", help="through the Prefect flow (whole night only)")
    args = parser.parse_args()
    machine = f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores"
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        work = Path(tmp)
        began = time.perf_counter()
        chats = chats_night(work / "in", args.chats)
        print(f"night of {args.chats} chats written in {time.perf_counter() - began:.0f} s", flush=True)
        body = f'batch_size = 1\nclassifier = "{ROOT / "models" / "turns-fast.skops"}"\n[sources]\nchats = ["{chats}/*.json"]\n'
        config = write_config(work / "night", body)
        warm(str(config))
        stages: dict[str, float] = Shown()
        total = flow_night(config) if args.flow else plain_night(config, stages)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    today = date.today().isoformat()
    rows = [
        f"| {today} | {machine} | {args.chats:,} | {stage} | {seconds:.0f} | {args.chats / seconds:,.0f} | {memory} |"
        for stage, seconds, memory in [
            *((s, t, "") for s, t in stages.items()),
            ("whole night, Prefect flow" if args.flow else "whole night", total, f"{rss:.0f} MB"),
        ]
    ]
    report(RESULTS, HEADER, rows, record=not args.no_record)


if __name__ == "__main__":
    main()
