"""A real Dask cluster on this machine, for tests/test_dask.py and benchmarks/bench_dask.py:
``dask scheduler`` and worker processes of one thread each, reached over TCP like a remote one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def dask_cluster(workers: int, logs: Path | None = None) -> Iterator[str]:
    """Start a scheduler and ``workers`` worker processes (their output in ``logs``, else
    dropped); yield the scheduler's HOST:PORT once every worker has joined; stop them all."""
    from distributed import Client

    port = free_port()
    address = f"127.0.0.1:{port}"
    # this process's import path, so that workers can unpickle functions of its modules
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), *sys.path])}

    def start(name: str, *args: str) -> subprocess.Popen:
        out = (logs / f"{name}.log").open("w") if logs else subprocess.DEVNULL
        return subprocess.Popen([str(BIN / "dask"), *args], stdout=out, stderr=subprocess.STDOUT, env=env)

    started = [start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard")]
    try:
        for n in range(workers):
            worker = ("worker", f"tcp://{address}", "--nthreads", "1", "--no-dashboard")
            started.append(start(f"worker{n}", *worker, "--memory-limit", "0", "--name", f"w{n}"))
        deadline = time.monotonic() + 120
        while True:
            try:
                with Client(f"tcp://{address}", timeout=10) as client:
                    client.wait_for_workers(workers, timeout=90)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        yield address
    finally:
        for p in reversed(started):
            p.terminate()
        for p in started:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
