"""The engine of a results database: one per URL and process, migrated on first use."""

from __future__ import annotations

import atexit
import threading
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    Engine,
    create_engine,
    event,
)
from sqlalchemy.exc import OperationalError

from qa_pipeline.errors import QAError


def connect(url: str) -> Engine:
    """The engine for ``url``, with the schema migrated to the newest revision.

    One engine (one connection pool) per URL and process, however many callers ask; all are
    disposed at exit. SQLite gets WAL, foreign keys and a busy timeout.
    """
    with _ENGINES_LOCK:
        engine = _ENGINES.get(url)
        if engine is None:
            engine = _create(url)
            if url != "sqlite:///:memory:":
                _ENGINES[url] = engine
    return engine


def _create(url: str) -> Engine:
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    is_sqlite = url.startswith("sqlite")
    # PostgreSQL: JIT compilation costs 0.1-0.3 s per search and repays only long scans.
    options = {"timeout": 60} if is_sqlite else {"options": "-c jit=off"} if "postgresql" in url else {}
    engine = create_engine(url, connect_args=options, json_deserializer=orjson.loads)
    if is_sqlite:

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    if url not in _MIGRATED or url == "sqlite:///:memory:":
        from qa_pipeline.migrations import upgrade

        try:
            upgrade(engine)
        except OperationalError as exc:
            shown = engine.url.render_as_string(hide_password=True)
            reason = str(exc.orig or exc).strip().splitlines()[0]
            raise QAError(f"cannot open the database {shown}: {reason}; check database_url") from exc
        _MIGRATED.add(url)
    return engine


def schema_state(engine: Engine) -> tuple[str | None, str]:
    """The schema revision the database is at (None: empty), and the newest one known."""
    from qa_pipeline.migrations import current_revision, head_revision

    return current_revision(engine), head_revision()


def peek(url: str) -> tuple[str, str | None, str]:
    """A database's URL (no password), revision and the newest revision, without migrating it."""
    engine = create_engine(url)
    try:
        return (engine.url.render_as_string(hide_password=True), *schema_state(engine))
    finally:
        engine.dispose()


_MIGRATED: set[str] = set()
_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


@atexit.register
def _dispose_all() -> None:
    for engine in _ENGINES.values():
        engine.dispose()


# The SQLite full-text index: an FTS5 table over turns.text, kept in sync by triggers
# (see migrations/versions/0002_search.py). PostgreSQL keeps a tsvector in turns.search.
FTS_TABLE = "turns_fts"
