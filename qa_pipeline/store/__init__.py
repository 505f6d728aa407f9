"""SQLAlchemy storage: SQLite file by default, any URL (PostgreSQL) through settings.

Writes are idempotent: an interaction, its turns, its score and criterion results are
replaced by id, so running the same night twice leaves one copy of everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from qa_pipeline.contracts import InteractionScore, Quarantined
from qa_pipeline.interactions import Interaction
from qa_pipeline.runs import (
    aware,
    finish_run,
    get_watermark,
    mark_interrupted,
    set_watermark,
    start_run,
)
from qa_pipeline.schema import (
    criterion_results,
    grader_feedback,
    interactions,
    metadata,
    quarantine,
    repeat_contacts,
    runs,
    scores,
    turns,
    watermarks,
)
from qa_pipeline.store.engine import FTS_TABLE, connect
from qa_pipeline.store.interaction_rows import (
    fingerprint,
    first_contact_results,
    link_repeat_contacts,
    load_interactions,
    save_interactions,
    stored_in_run,
)
from qa_pipeline.store.quarantine_rows import save_quarantined, table_counts
from qa_pipeline.store.score_rows import flagged_in_run, load_scores, save_scores, scorecard_rows

__all__ = [
    "FTS_TABLE",
    "Store",
    "aware",
    "connect",
    "criterion_results",
    "fingerprint",
    "finish_run",
    "first_contact_results",
    "flagged_in_run",
    "get_watermark",
    "grader_feedback",
    "interactions",
    "link_repeat_contacts",
    "load_interactions",
    "load_scores",
    "mark_interrupted",
    "metadata",
    "quarantine",
    "repeat_contacts",
    "runs",
    "save_interactions",
    "save_quarantined",
    "save_scores",
    "scorecard_rows",
    "scores",
    "set_watermark",
    "start_run",
    "stored_in_run",
    "table_counts",
    "turns",
    "watermarks",
]


class Store:
    """One results database, by URL: its engine (shared per URL and process) and the reads and
    writes the product makes. Everything the pipeline, the CLI and the flow store goes
    through here; the module functions it wraps take an engine, for code that has one."""

    def __init__(self, url: str):
        self.url = url
        self.engine = connect(url)

    def save_interactions(
        self, items: Sequence[Interaction], run_id: str | None = None, fcr_window_days: float = 7.0
    ) -> None:
        save_interactions(self.engine, items, run_id, fcr_window_days)

    def load_interactions(self, ids: Sequence[str]) -> list[Interaction]:
        return load_interactions(self.engine, ids)

    def stored_in_run(self, ids: Sequence[str], run_id: str | None) -> dict[str, str | None]:
        return stored_in_run(self.engine, ids, run_id)

    def save_scores(self, items: Sequence[InteractionScore], run_id: str | None = None) -> None:
        save_scores(self.engine, items, run_id)

    def load_scores(self, interaction_id: str) -> list[InteractionScore]:
        return load_scores(self.engine, interaction_id)

    def save_quarantined(self, items: Iterable[Quarantined], run_id: str | None = None) -> int:
        return save_quarantined(self.engine, items, run_id)

    def first_contact_results(
        self, ids: Sequence[str] | None, window_days: float
    ) -> dict[str, tuple[str | None, str]]:
        return first_contact_results(self.engine, ids, window_days)

    def start_run(self, run_id: str, night: str | None) -> list[str]:
        return start_run(self.engine, run_id, night)

    def finish_run(self, run_id: str, status: str, summary: dict[str, Any]) -> None:
        finish_run(self.engine, run_id, status, summary)

    def get_watermark(self, source: str) -> datetime | None:
        return get_watermark(self.engine, source)

    def set_watermark(self, source: str, value: datetime, run_id: str | None = None) -> None:
        set_watermark(self.engine, source, value, run_id)

    def search(self, query: str, filters: Any = None, limit: int = 20) -> list[Any]:
        """``search.search_interactions`` on this database (its backend by dialect)."""
        from qa_pipeline.search import search_interactions

        return search_interactions(self.engine, query, filters, limit)

    def scorecard_rows(self, rubric: str | None = None) -> tuple[list[dict], list[dict]]:
        return scorecard_rows(self.engine, rubric)

    def flagged_in_run(self, run_id: str) -> list[dict]:
        return flagged_in_run(self.engine, run_id)

    def table_counts(self) -> dict[str, int]:
        return table_counts(self.engine)
