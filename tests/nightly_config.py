"""A qa.toml for a test night: its own database and data folder, acme.example's agents."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import select

from qa_pipeline.store import connect, criterion_results, scores, table_counts


def write_config(folder: Path, body: str, database_url: str | None = None) -> Path:
    """Write ``folder/qa.toml``: a SQLite database in ``folder`` (or ``database_url``), the data
    folder ``folder/var``, mail agents by the domain acme.example, then ``body`` (settings and
    a ``[sources]`` table). Returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "qa.toml"
    url = database_url or f"sqlite:///{folder / 'qa.db'}"
    config.write_text(
        f'database_url = "{url}"\ndata_dir = "{folder / "var"}"\nagent_domains = ["acme.example"]\n'
        + body.lstrip("\n"),
        encoding="utf-8",
    )
    return config


def night_config(folder: Path, data: Path, runner: str) -> Path:
    """A small mixed night (a call, a corrupt recording, the chats and mail of tests/data) on
    ``runner``."""
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
    """Row counts (but runs), scores and criterion results of ``folder``'s database, in order."""
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


def assert_same_night(summary: dict, folder: Path, on_threads: dict, threads_folder: Path) -> None:
    """A night run on another task runner reconciles and stored what the thread runner stored."""
    assert summary["balanced"] and summary["channels"] == on_threads["channels"]
    assert summary["channels"]["call"]["scored"] >= 1 and summary["channels"]["chat"]["scored"] > 0
    rows, thread_rows = stored(folder), stored(threads_folder)
    assert rows[0] == thread_rows[0]  # every table: the same number of rows
    assert rows[1] == thread_rows[1] and rows[1]  # the same scores and flags
    assert rows[2] == thread_rows[2]  # the same results and evidence
