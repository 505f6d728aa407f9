"""The nightly flow on a real Dask cluster (a scheduler and two worker processes started
here, reached over TCP like any remote cluster) stores what the thread runner stores."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from dask_cluster import dask_cluster
from nightly_config import write_config
from sqlalchemy import select

from qa_pipeline.store import connect, criterion_results, scores, table_counts

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``dask scheduler`` and two ``dask worker`` processes, one thread each: the address."""
    pytest.importorskip("prefect_dask", reason="the dask extra: pip install -e .[dask]")
    with dask_cluster(2, logs=tmp_path_factory.mktemp("dask")) as address:
        yield address


@pytest.fixture(scope="module")
def harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def night_config(folder: Path, data: Path, runner: str) -> Path:
    calls = folder / "in" / "calls"
    calls.mkdir(parents=True)
    for name in ("short-stereo.wav", "corrupt.mp3", "manifest.csv"):
        shutil.copy(data / "calls" / name, calls / name)
    return write_config(
        folder,
        f"""
task_runner = "{runner}"
[sources]
calls = ["{calls}"]
chats = ["{data / "chats"}/*.json*"]
emails = ["{data / "emails"}/*.mbox"]
""",
    )


def stored(folder: Path) -> tuple[dict, list, list]:
    engine = connect(f"sqlite:///{folder / 'qa.db'}")
    counts = table_counts(engine)
    counts.pop("runs")
    with engine.connect() as conn:
        found = conn.execute(
            select(scores.c.interaction_id, scores.c.rubric, scores.c.score, scores.c.flags).order_by(
                scores.c.interaction_id, scores.c.rubric
            )
        ).all()
        results = conn.execute(
            select(
                criterion_results.c.interaction_id,
                criterion_results.c.criterion,
                criterion_results.c.result,
                criterion_results.c.evidence,
            ).order_by(criterion_results.c.interaction_id, criterion_results.c.criterion)
        ).all()
    engine.dispose()
    return counts, [tuple(r) for r in found], [tuple(r) for r in results]


def test_nightly_on_a_dask_cluster_stores_what_threads_store(cluster, harness, tmp_path, data):
    from distributed import Client

    from qa_pipeline.flows.nightly import run_nightly

    with Client(f"tcp://{cluster}") as client:
        before = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.transition_counter)
    on_dask = run_nightly(night_config(tmp_path / "dask", data, f"dask://{cluster}"), date(2026, 11, 20))
    with Client(f"tcp://{cluster}") as client:
        after = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.transition_counter)
        done = client.run(lambda dask_worker: len(dask_worker.state.log))
    on_threads = run_nightly(night_config(tmp_path / "threads", data, "threads"), date(2026, 11, 20))

    assert after > before  # the flow's tasks went through the cluster's scheduler ...
    assert len(done) == 2 and all(n > 0 for n in done.values())  # ... and both workers ran some
    assert on_dask["balanced"] and on_dask["channels"] == on_threads["channels"]
    assert on_dask["channels"]["call"]["scored"] >= 1 and on_dask["channels"]["chat"]["scored"] > 0
    dask_rows, thread_rows = stored(tmp_path / "dask"), stored(tmp_path / "threads")
    assert dask_rows[0] == thread_rows[0]  # every table: the same number of rows
    assert dask_rows[1] == thread_rows[1] and dask_rows[1]  # the same scores and flags
    assert dask_rows[2] == thread_rows[2]  # the same results and evidence
