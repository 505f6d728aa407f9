"""Runs ``qa nightly`` many times fast, for tests/test_faults.py: imports once, forks per run.

Reads lines ``CONFIG KILL_AT`` (``-`` for none) on stdin; for each, forks a child that runs
the nightly flow for 2026-11-20 with ``QA_FAULT_KILL_AT`` set, and answers one line: the
child's exit code, or ``-N`` when signal N killed it. The parent never runs a flow itself,
so every child starts from the same freshly imported state, as a new process would.
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

# The expensive imports, done once, before any fork.
import qa_pipeline.cli
import qa_pipeline.flows.nightly


def warm() -> None:
    """Load what every run loads (spaCy pipelines, the classifier) once, before forking."""
    from qa_pipeline.interactions import Interaction, Turn
    from qa_pipeline.pipeline import score_routed
    from qa_pipeline.settings import Settings

    texts = {"en": "Hello, thank you for waiting.", "cs": "Dobrý den, děkuji za trpělivost."}
    items = [
        Interaction(
            id=f"warm-{lang}", channel="chat", language=lang, turns=[Turn(speaker="agent", text=text)]
        )
        for lang, text in texts.items()
    ]
    score_routed(items, Settings())


def child(config: str, kill_at: str) -> None:
    if kill_at != "-":
        os.environ["QA_FAULT_KILL_AT"] = kill_at
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        qa_pipeline.flows.nightly.run_nightly(Path(config), date(2026, 11, 20))
    except BaseException as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        os._exit(1)
    os._exit(0)


def main() -> None:
    warm()
    for line in sys.stdin:
        config, kill_at = line.split()
        pid = os.fork()
        if pid == 0:
            child(config, kill_at)
        _, status = os.waitpid(pid, 0)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        print(code, flush=True)


if __name__ == "__main__":
    main()
