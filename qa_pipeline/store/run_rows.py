"""Run bookkeeping in the results database: each run's status and summary, and the pull
watermarks that move only when a whole run succeeded."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from qa_pipeline.schema import runs, watermarks


def get_watermark(engine: Engine, source: str) -> datetime | None:
    """When ``source`` was last pulled successfully, or None."""
    with engine.connect() as conn:
        value = conn.execute(
            select(watermarks.c.value).where(watermarks.c.source == source)
        ).scalar_one_or_none()
    return aware(value) if value else None


def set_watermark(engine: Engine, source: str, value: datetime, run_id: str | None = None) -> None:
    """Record that ``source`` was pulled completely up to ``value``."""
    with engine.begin() as conn:
        conn.execute(delete(watermarks).where(watermarks.c.source == source))
        conn.execute(insert(watermarks).values(source=source, value=value, run_id=run_id))


def start_run(engine: Engine, run_id: str, night: str | None) -> list[str]:
    """Record that a run began; first mark runs that were killed as ``interrupted`` (returned)."""
    interrupted = mark_interrupted(engine)
    owner = {"host": socket.gethostname(), "pid": os.getpid()}
    with engine.begin() as conn:
        conn.execute(
            insert(runs).values(
                id=run_id, night=night, started_at=datetime.now(UTC), status="running", summary=owner
            )
        )
    return interrupted


STALE_RUN_HOURS = 24  # a run of another machine still "running" after this long was killed


def mark_interrupted(engine: Engine) -> list[str]:
    """Runs left ``running`` by a process that no longer exists (this machine), or for more than
    a day (another machine): they were killed. Mark them ``interrupted``; return their ids."""
    host, now = socket.gethostname(), datetime.now(UTC)
    dead = []
    with engine.begin() as conn:
        for r in conn.execute(
            select(runs.c.id, runs.c.started_at, runs.c.summary).where(runs.c.status == "running")
        ):
            owner = r.summary or {}
            if owner.get("host") == host and isinstance(owner.get("pid"), int):
                gone = not _process_alive(owner["pid"])
            else:
                gone = (now - aware(r.started_at)).total_seconds() > STALE_RUN_HOURS * 3600
            if gone:
                dead.append(r.id)
        if dead:
            conn.execute(
                update(runs).where(runs.c.id.in_(dead)).values(status="interrupted", finished_at=now)
            )
    return dead


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def finish_run(engine: Engine, run_id: str, status: str, summary: dict[str, Any]) -> None:
    """Record a run's end, its status and its summary."""
    with engine.begin() as conn:
        conn.execute(
            update(runs)
            .where(runs.c.id == run_id)
            .values(finished_at=datetime.now(UTC), status=status, summary=summary)
        )


def list_runs(engine: Engine, limit: int = 20, run_id: str | None = None) -> list[dict[str, Any]]:
    """The newest runs first (or only ``run_id``): id, night, start and end, status and, once
    finished, how many inputs each read, scored and quarantined (from the run's summary)."""
    query = select(runs).order_by(runs.c.started_at.desc()).limit(limit)
    with engine.connect() as conn:
        rows = conn.execute(query.where(runs.c.id == run_id) if run_id else query).all()
    listed = []
    for r in rows:
        channels = (r.summary or {}).get("channels") or {}
        totals = {
            k: sum(int(c.get(k, 0)) for c in channels.values()) if channels else None
            for k in ("read", "scored", "quarantined")
        }
        listed.append(
            {
                "id": r.id,
                "night": r.night,
                "started_at": aware(r.started_at),
                "finished_at": aware(r.finished_at) if r.finished_at else None,
                "status": r.status,
                **totals,
                "error": (r.summary or {}).get("error"),
                "notes": (r.summary or {}).get("notes") or [],
            }
        )
    return listed


def aware(value: datetime) -> datetime:
    """A datetime read back from SQLite (naive, stored as UTC) made timezone-aware."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
