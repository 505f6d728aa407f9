"""Crash safety: SIGKILL at named points of a nightly run, then a re-run, equals a clean run.

Each run is a real ``qa nightly`` process (chats and mail of tests/data) against one Prefect
server for the module; ``QA_FAULT_KILL_AT`` names the checkpoint (qa_pipeline/faults.py) where
the process kills itself with SIGKILL. Two situations:

- a re-run of a night already complete (the case that once left 0 scores): after the kill,
  every score is still there; after the next run, the database equals the clean run's;
- a first run of a night, killed: the next run leaves the database equal to the clean run's.

Either way the killed run is marked ``interrupted`` by the next one, never left ``running``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from nightly_config import write_config
from sqlalchemy import select

from qa_pipeline.store import connect, metadata, runs

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent
POINTS = [
    "run.started",
    "ingest.read",
    "store.interactions.in_transaction",
    "ingest.stored",
    "ingest.quarantined",
    "run.ingested",
    "score.scored",
    "store.scores.in_transaction",
    "score.saved",
    "run.scored",
    "scorecards.pages",
    "scorecards.csv",
    "run.before_finish",
]
# Columns that say when or by which run, not what: they differ between any two runs.
VOLATILE = {"run_id", "first_run_id", "last_run_id", "scored_at", "imported_at", "id"}


@pytest.fixture(scope="module")
def prefect_api():
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield PREFECT_API_URL.value()


def write_night(folder: Path, data: Path) -> Path:
    return write_config(
        folder,
        f"""
customer_key_secret = "fault-injection-test-secret-0123456789abcdef"
[sources]
chats = ["{data / "chats"}/*.json*"]
emails = ["{data / "emails"}/*.mbox"]
""",
    )


@pytest.fixture(scope="module")
def runner(prefect_api):
    """tests/fault_runner.py: one process that imports once and forks a child per run."""
    env = {**os.environ, "PREFECT_API_URL": prefect_api}
    env.pop("QA_FAULT_KILL_AT", None)
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "fault_runner.py")],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    yield process
    process.stdin.close()
    process.wait(timeout=60)


def nightly(runner: subprocess.Popen, config: Path, kill_at: str | None = None) -> int:
    """Run the night in a fresh child; its exit code, or -N when signal N killed it."""
    runner.stdin.write(f"{config} {kill_at or '-'}\n")
    runner.stdin.flush()
    return int(runner.stdout.readline())


def snapshot(config: Path) -> dict[str, list]:
    """What the database says (every table but ``runs``, without run ids and times), and
    the scorecard CSV."""
    folder = config.parent
    engine = connect(f"sqlite:///{folder / 'qa.db'}")
    state = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name == "runs":
                continue
            columns = [c for c in table.columns if c.name not in VOLATILE]
            state[table.name] = sorted(map(repr, conn.execute(select(*columns)).all()))
    engine.dispose()
    state["scorecards.csv"] = (folder / "var" / "scorecards" / "scorecards.csv").read_text().splitlines()
    return state


def run_statuses(config: Path) -> list[str]:
    engine = connect(f"sqlite:///{config.parent / 'qa.db'}")
    with engine.connect() as conn:
        found = list(conn.execute(select(runs.c.status).order_by(runs.c.started_at)).scalars())
    engine.dispose()
    return found


@pytest.fixture(scope="module")
def clean(runner, tmp_path_factory):
    """A clean run of the night: its database state, and its folder to copy."""
    config = write_night(tmp_path_factory.mktemp("clean"), ROOT / "tests" / "data")
    assert nightly(runner, config) == 0
    state = snapshot(config)
    assert len(state["scores"]) > 5 and state["quarantine"]  # a night with work and bad input
    return config, state


def copy_night(clean_config: Path, folder: Path) -> Path:
    shutil.copytree(clean_config.parent, folder)
    config = write_night(folder, ROOT / "tests" / "data")
    return config


@pytest.mark.parametrize("point", POINTS)
def test_a_rerun_killed_anywhere_keeps_every_score_and_the_next_run_repairs_the_rest(
    runner, clean, tmp_path, point
):
    clean_config, clean_state = clean
    config = copy_night(clean_config, tmp_path / "night")
    assert nightly(runner, config, kill_at=point) == -signal.SIGKILL, f"{point} was never reached"
    after_kill = snapshot(config)
    for table in ("interactions", "turns", "scores", "criterion_results"):
        assert after_kill[table] == clean_state[table], f"killed at {point}: {table} changed"
    assert nightly(runner, config) == 0
    assert snapshot(config) == clean_state
    statuses = run_statuses(config)
    assert statuses[-2:] == ["interrupted", "ok"] and "running" not in statuses


@pytest.mark.parametrize(
    "point", ["ingest.stored", "store.scores.in_transaction", "score.saved", "scorecards.csv"]
)
def test_a_first_run_killed_is_completed_by_the_next(runner, clean, tmp_path, point):
    _, clean_state = clean
    config = write_night(tmp_path / "night", ROOT / "tests" / "data")
    assert nightly(runner, config, kill_at=point) == -signal.SIGKILL, f"{point} was never reached"
    assert nightly(runner, config) == 0
    assert snapshot(config) == clean_state
    assert run_statuses(config) == ["interrupted", "ok"]
