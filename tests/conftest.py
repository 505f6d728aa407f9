"""Shared fixtures. Tests use the small real files under tests/data/."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

# Offline: Prefect must not phone home; keep its state out of the user's home.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_HOME", str(Path(__file__).parent.parent / "var" / "prefect-tests"))
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)  # Prefect makes only the leaf

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent


@pytest.fixture(autouse=True)
def _seed() -> None:
    random.seed(1234)


@pytest.fixture
def data() -> Path:
    return DATA


@pytest.fixture(scope="session")
def rubric():
    from qa_pipeline.rubric import load_rubric

    return load_rubric(ROOT / "rubrics" / "default.yaml")


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for the session (``make test`` installs PostgreSQL if missing).

    Without one the PostgreSQL cases are skipped locally and fail in CI.
    """
    from pg_server import PostgresServer, pg_bin

    if pg_bin() is None:
        message = "PostgreSQL is not installed: `make test` installs it (apt-get install postgresql)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request, tmp_path: Path):
    """A migrated, empty store: every test that takes it (or ``engine``) runs on SQLite and on
    PostgreSQL."""
    from qa_pipeline.store import Store

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'qa.db'}"
    else:
        url = request.getfixturevalue("postgres").new_database()
    store = Store(url)
    yield store
    store.engine.dispose()


@pytest.fixture
def engine(store):
    """The store's engine, for tests of the module functions that take one."""
    return store.engine


@pytest.fixture(scope="session")
def transcriber():
    from qa_pipeline.transcribe import Transcriber

    return Transcriber()
