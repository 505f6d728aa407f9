"""Mail threading benchmark: thread_messages on N replies without References headers.

The hard case for the subject fallback: every message is a "Re:" with no known parent,
N/2 subjects, each a pair from one customer. Baseline, in the same process: one pass that
only normalises every subject (``base_subject``), the least any threading must do. The
ratio (threading time / baseline time) staying flat as N grows is what "near-linear" means;
the quadratic scan it replaced took 95 s at N = 10,000.

    python benchmarks/bench_threading.py [--n 10000 20000 40000]
"""

from __future__ import annotations

import argparse
import gc
import platform
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))
sys.path.insert(0, str(Path(__file__).parent))

from results_table import add_rows

from qa_pipeline.sources.emails import Message, base_subject, thread_messages

RESULTS = Path(__file__).parent / "threading_results.md"
HEADER = """# Mail threading benchmark results

`benchmarks/bench_threading.py`: `thread_messages` on N "Re:" mails without References
(N/2 subjects, each a pair from one customer), against a baseline pass that only
normalises every subject, in the same process; best of three with the garbage collector
paused. Ratio = threading time / baseline time: flat as N grows means linear.

| date | machine | N | baseline | threading | ratio | threads |
|---|---|---|---|---|---|---|
"""


def replies(n: int) -> list[Message]:
    start = datetime(2026, 11, 20, tzinfo=UTC)
    return [
        Message(
            f"<{i}@x>",
            [],
            f"c{i // 2}@x.example",
            "",
            frozenset({"help@acme.example"}),
            f"Re: order {i // 2}",
            start + timedelta(seconds=i),
            "text",
            None,
            0,
            "box",
        )
        for i in range(n)
    ]


def best_of_three(work) -> tuple[float, object]:
    times, result = [], None
    gc.disable()
    try:
        for _ in range(3):
            began = time.perf_counter()
            result = work()
            times.append(time.perf_counter() - began)
    finally:
        gc.enable()
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[10_000, 20_000, 40_000])
    args = parser.parse_args()
    rows = []
    for n in args.n:
        mails = replies(n)
        baseline, _ = best_of_three(lambda mails=mails: [base_subject(m.subject) for m in mails])
        threading, threads = best_of_three(
            lambda mails=mails: thread_messages(mails, lambda a: a.endswith("acme.example"))
        )
        machine = f"{platform.machine()}, {len(__import__('os').sched_getaffinity(0))} cores"
        rows.append(
            f"| {date.today()} | {machine} | {n:,} | {baseline:.3f} s | {threading:.3f} s"
            f" | {threading / baseline:.1f} | {len(threads):,} |"
        )
        print(rows[-1])
    add_rows(RESULTS, HEADER, rows)


if __name__ == "__main__":
    main()
