"""A throwaway PostgreSQL server for tests and benchmarks: initdb in a temporary folder,
listening on 127.0.0.1 at a free port, stopped and removed afterwards.

PostgreSQL refuses to run as root; as root the server runs as the ``postgres`` user that
Debian's package creates.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path


def pg_bin() -> Path | None:
    """The folder holding initdb and pg_ctl, or None when PostgreSQL is not installed."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """Start with ``start()``; ``new_database()`` returns a SQLAlchemy URL of an empty database."""

    def __init__(self, fast: bool = True, root: Path | None = None) -> None:
        self.bin = pg_bin()
        self.fast = fast  # no fsync: for tests only, never for the benchmark's numbers
        self.port = _free_port()
        self.keep = root is not None  # a given folder keeps its cluster for the next start
        self.dir = Path(root) if root else Path(tempfile.mkdtemp(prefix="qa-pg-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, text=True)

    def start(self) -> PostgresServer:
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        data = self.dir / "data"
        if not self.keep or not (self.dir / "initialised").exists():
            self._initdb(data)
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        if self.fast:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(self.dir / "log"),
            "-o",
            options,
            "-w",
            "start",
        )
        return self

    def _initdb(self, data: Path) -> None:
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(data),
            "-U",
            "qa",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        (self.dir / "initialised").touch()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://qa@127.0.0.1:{self.port}/{database}"

    def new_database(self, name: str | None = None) -> str:
        """A URL of database ``name`` (default: a new random name), created if missing."""
        import psycopg

        name = name or "qa_" + uuid.uuid4().hex[:12]
        dsn = f"host=127.0.0.1 port={self.port} user=qa dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as c:
            if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                c.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        try:
            mode = "fast" if self.keep else "immediate"  # a kept cluster shuts down cleanly
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", mode, "stop")
        finally:
            if not self.keep:
                shutil.rmtree(self.dir, ignore_errors=True)
