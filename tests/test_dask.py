"""The nightly flow on a real Dask cluster (a scheduler and two worker processes started
here, reached over TCP like any remote cluster) stores what the thread runner stores."""

from __future__ import annotations

from datetime import date

import pytest
from dask_cluster import dask_cluster
from nightly_config import assert_same_night, night_config

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
    assert_same_night(on_dask, tmp_path / "dask", on_threads, tmp_path / "threads")
