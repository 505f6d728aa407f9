"""The nightly flow on a real Dask cluster (a scheduler and two worker processes started
here, reached over TCP like any remote cluster) stores what the thread runner stores."""

from __future__ import annotations

from datetime import date

import pytest
from dask_cluster import dask_cluster
from nightly_config import night_config, stored

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
