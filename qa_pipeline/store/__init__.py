"""SQLAlchemy storage: SQLite file by default, any URL (PostgreSQL) through settings.

Writes are idempotent: an interaction, its turns, its score and criterion results are
replaced by id, so running the same night twice leaves one copy of everything.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from qa_pipeline.contracts import InteractionScore, Quarantined
from qa_pipeline.interactions import Interaction
from qa_pipeline.registry import Registry
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
from qa_pipeline.store import account_rows, coaching_rows, dispute_rows, feedback_rows
from qa_pipeline.store.engine import FTS_TABLE, connect, schema_state
from qa_pipeline.store.interaction_rows import (
    contact_horizon,
    fingerprint,
    first_contact_results,
    first_contacts_of,
    has_interactions,
    known_values,
    latest_start,
    link_repeat_contacts,
    load_interactions,
    save_interactions,
    stored_in_run,
)
from qa_pipeline.store.quarantine_rows import (
    QuarantineListing,
    list_quarantined,
    save_quarantined,
    table_counts,
)
from qa_pipeline.store.rollup_rows import period_totals, rebuild_totals
from qa_pipeline.store.run_rows import (
    aware,
    finish_run,
    get_watermark,
    list_runs,
    mark_interrupted,
    set_watermark,
    start_run,
)
from qa_pipeline.store.score_rows import (
    flagged_in_run,
    fold_results,
    load_scores,
    lowest_scores,
    period_first_contacts,
    period_results,
    save_scores,
    scorecard_rows,
)

__all__ = [
    "FTS_TABLE",
    "QuarantineListing",
    "Store",
    "aware",
    "connect",
    "criterion_results",
    "fingerprint",
    "finish_run",
    "first_contact_results",
    "flagged_in_run",
    "fold_results",
    "get_watermark",
    "grader_feedback",
    "interactions",
    "link_repeat_contacts",
    "list_quarantined",
    "list_runs",
    "load_interactions",
    "load_scores",
    "mark_interrupted",
    "metadata",
    "open_store",
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
    "storage_backends",
    "stored_in_run",
    "table_counts",
    "turns",
    "watermarks",
]


class Store:
    """One results database, by URL: its engine (shared per URL and process) and the reads and
    writes the product makes. Everything the pipeline, the CLI and the flow store goes
    through here, and no module outside ``store/`` (and the schema and its migrations) runs
    SQL; the module functions it wraps take an engine, for code that has one.

    This is the built-in storage backend, for every database SQLAlchemy reaches (SQLite and
    PostgreSQL are tested; search needs a ``search_backends`` entry for the dialect). Another
    backend is a class taking the URL with these methods, registered by URL scheme (see
    ``open_store``); subclassing this one keeps what it does not change.
    """

    # Lists for menus and the contact horizon change with a nightly run, not per page: a
    # process keeps them this long (and forgets them when it stores interactions itself).
    CACHE_SECONDS = 60.0

    def __init__(self, url: str):
        self.url = url
        self.engine = connect(url)
        self._cache: dict[Any, tuple[float, Any]] = {}

    def _cached(self, key: Any, compute: Any) -> Any:
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is None or now - hit[0] > self.CACHE_SECONDS:
            hit = (now, compute())
            self._cache[key] = hit
        return hit[1]

    @property
    def display_url(self) -> str:
        """The URL without its password, for messages."""
        return self.engine.url.render_as_string(hide_password=True)

    def revision(self) -> tuple[str | None, str]:
        """The schema revision the database is at, and the newest one this version knows."""
        return schema_state(self.engine)

    def save_interactions(
        self, items: Sequence[Interaction], run_id: str | None = None, fcr_window_days: float = 7.0
    ) -> None:
        save_interactions(self.engine, items, run_id, fcr_window_days)
        self._cache.clear()

    def load_interactions(self, ids: Sequence[str]) -> list[Interaction]:
        return load_interactions(self.engine, ids)

    def latest_start(
        self, agents: Sequence[str] | None = None, teams: Sequence[str] | None = None
    ) -> datetime | None:
        return latest_start(self.engine, agents, teams)

    def known_values(
        self, agents: Sequence[str] | None = None, teams: Sequence[str] | None = None
    ) -> dict[str, list[str]]:
        key = ("known", None if agents is None else tuple(agents), None if teams is None else tuple(teams))
        return self._cached(key, lambda: known_values(self.engine, agents, teams))

    def has_interactions(
        self, agents: Sequence[str] | None = None, teams: Sequence[str] | None = None
    ) -> bool:
        return has_interactions(self.engine, agents, teams)

    def contact_horizon(self) -> datetime | None:
        return self._cached("horizon", lambda: contact_horizon(self.engine))

    def stored_in_run(self, ids: Sequence[str], run_id: str | None) -> dict[str, str | None]:
        return stored_in_run(self.engine, ids, run_id)

    def save_scores(self, items: Sequence[InteractionScore], run_id: str | None = None) -> None:
        save_scores(self.engine, items, run_id)

    def load_scores(self, interaction_id: str) -> list[InteractionScore]:
        return load_scores(self.engine, interaction_id)

    def save_quarantined(self, items: Iterable[Quarantined], run_id: str | None = None) -> int:
        return save_quarantined(self.engine, items, run_id)

    def first_contacts_of(
        self, rows: Sequence[dict], window_days: float
    ) -> dict[str, tuple[str | None, str]]:
        """First-contact results of ``period_results`` rows (one query for the horizon)."""
        return first_contacts_of(rows, self.contact_horizon(), window_days)

    def first_contact_results(
        self, ids: Sequence[str] | None, window_days: float
    ) -> dict[str, tuple[str | None, str]]:
        return first_contact_results(self.engine, ids, window_days, self.contact_horizon())

    def quarantined(
        self,
        run_id: str | None = None,
        channel: str | None = None,
        reason: str | None = None,
        limit: int | None = 50,
    ) -> QuarantineListing:
        """Quarantined inputs with their reasons (``quarantine_rows.list_quarantined``)."""
        return list_quarantined(self.engine, run_id, channel, reason, limit)

    def runs(self, limit: int = 20, run_id: str | None = None) -> list[dict[str, Any]]:
        """The newest runs first (or only ``run_id``), with their status and read / scored /
        quarantined totals."""
        return list_runs(self.engine, limit, run_id)

    def start_run(self, run_id: str, night: str | None) -> list[str]:
        return start_run(self.engine, run_id, night)

    def finish_run(self, run_id: str, status: str, summary: dict[str, Any]) -> None:
        finish_run(self.engine, run_id, status, summary)

    def get_watermark(self, source: str) -> datetime | None:
        return get_watermark(self.engine, source)

    def set_watermark(self, source: str, value: datetime, run_id: str | None = None) -> None:
        set_watermark(self.engine, source, value, run_id)

    def search(self, query: str, filters: Any = None, limit: int = 20) -> list[Any]:
        """Interactions whose turns match ``query``, filtered, best first (the dialect's
        ``search.SearchBackend``; an empty query lists by the filters, newest first)."""
        from qa_pipeline.store.search_rows import search_interactions

        return search_interactions(self.engine, query, filters, limit)

    def scorecard_rows(self, rubric: str | None = None) -> tuple[list[dict], list[dict]]:
        return scorecard_rows(self.engine, rubric)

    def period_results(
        self,
        agents: Sequence[str] | None = None,
        teams: Sequence[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        ids: Sequence[str] | None = None,
    ) -> list[dict]:
        return period_results(self.engine, agents, teams, since, until, ids)

    def period_totals(
        self,
        agents: Sequence[str] | None,
        teams: Sequence[str] | None,
        since: datetime | None,
        until: datetime | None,
        by: str,
    ) -> list[dict]:
        return period_totals(self.engine, agents, teams, since, until, by)

    def lowest_scores(
        self,
        agents: Sequence[str] | None,
        teams: Sequence[str] | None,
        since: datetime | None,
        until: datetime | None,
        limit: int,
    ) -> list[dict]:
        return lowest_scores(self.engine, agents, teams, since, until, limit)

    def period_first_contacts(
        self,
        agents: Sequence[str] | None,
        teams: Sequence[str] | None,
        since: datetime | None,
        until: datetime | None,
        window_days: float,
    ) -> tuple[int, list[tuple[str, str]]]:
        horizon = self.contact_horizon()
        return period_first_contacts(self.engine, agents, teams, since, until, horizon, window_days)

    def period_surveys(
        self,
        agents: Sequence[str] | None,
        teams: Sequence[str] | None,
        since: datetime | None,
        until: datetime | None,
    ) -> dict[str, dict[str, tuple[float, float]]]:
        return coaching_rows.period_surveys(self.engine, agents, teams, since, until)

    def rebuild_totals(self) -> int:
        """Count every newest score into the day totals again (a repair)."""
        with self.engine.begin() as conn:
            return rebuild_totals(conn)

    def flagged_in_run(self, run_id: str) -> list[dict]:
        return flagged_in_run(self.engine, run_id)

    def table_counts(self) -> dict[str, int]:
        return table_counts(self.engine)

    # Graders' corrections (feedback.py decides; these read and write)
    def interaction_language(self, interaction_id: str) -> tuple[bool, str | None]:
        return feedback_rows.interaction_language(self.engine, interaction_id)

    def machine_result(self, interaction_id: str, criterion: str, rubric: str | None) -> Any:
        return feedback_rows.machine_result(self.engine, interaction_id, criterion, rubric)

    def turn_text(self, interaction_id: str, idx: int) -> str | None:
        return feedback_rows.turn_text(self.engine, interaction_id, idx)

    def save_feedback(self, records: Sequence[dict[str, Any]]) -> None:
        feedback_rows.save_feedback(self.engine, records)

    def stored_feedback(self, trainable: bool = False) -> list[Any]:
        return feedback_rows.stored_feedback(self.engine, trainable)

    # Accounts of the web app (web/auth.py decides; these read and write, audited)
    def add_user(self, account: dict[str, Any], actor: str) -> int:
        return account_rows.add_user(self.engine, account, actor)

    def change_user(self, username: str, changes: dict[str, Any], actor: str, action: str) -> None:
        account_rows.change_user(self.engine, username, changes, actor, action)

    def find_user(self, username: str | None = None, user_id: int | None = None) -> Any:
        return account_rows.find_user(self.engine, username, user_id)

    def list_users(self) -> list[Any]:
        return account_rows.list_users(self.engine)

    def start_session(self, user_id: int, id_hash: str, csrf: str, expires: datetime) -> None:
        account_rows.start_session(self.engine, user_id, id_hash, csrf, expires)

    def session_user(self, id_hash: str) -> tuple[Any, str] | None:
        return account_rows.session_user(self.engine, id_hash)

    def end_session(self, id_hash: str) -> None:
        account_rows.end_session(self.engine, id_hash)

    def note_login_failure(self, username: str, client: str) -> None:
        account_rows.note_login_failure(self.engine, username, client)

    def login_failures_since(self, username: str, client: str, since: datetime) -> tuple[int, int]:
        return account_rows.login_failures_since(self.engine, username, client, since)

    def clear_login_failures(self, username: str) -> None:
        account_rows.clear_login_failures(self.engine, username)

    def audit_entries(self, limit: int = 200) -> list[Any]:
        return account_rows.audit_entries(self.engine, limit)

    # Disputes (web/app.py decides who may; these read and write, audited)
    def raise_dispute(self, record: dict[str, Any], actor: str) -> int:
        return dispute_rows.raise_dispute(self.engine, record, actor)

    def decide_dispute(
        self,
        dispute_id: int,
        status: str,
        actor: str,
        decision: str,
        correction: dict[str, Any] | None = None,
        rescored: Sequence[InteractionScore] = (),
    ) -> Any:
        return dispute_rows.decide_dispute(
            self.engine, dispute_id, status, actor, decision, correction, rescored
        )

    def find_disputes(
        self, interaction_id: str | None = None, status: str | None = None, dispute_id: int | None = None
    ) -> list[Any]:
        return dispute_rows.find_disputes(self.engine, interaction_id, status, dispute_id)

    def accepted_overrides(self, interaction_ids: Sequence[str]) -> dict[str, list[Any]]:
        return dispute_rows.accepted_overrides(self.engine, interaction_ids)

    # Calibration, coaching and surveys (web/app.py and surveys.py decide; these read and write, audited)
    def create_calibration(
        self, name: str, interaction_ids: list[str], graders: list[str], actor: str
    ) -> int:
        return coaching_rows.create_calibration(self.engine, name, interaction_ids, graders, actor)

    def calibrations(self, session_id: int | None = None) -> list[Any]:
        return coaching_rows.calibrations(self.engine, session_id)

    def save_grades(self, session_id: int, interaction_id: str, grader: str, results: dict[str, str]) -> None:
        coaching_rows.save_grades(self.engine, session_id, interaction_id, grader, results)

    def grades(self, session_id: int) -> list[Any]:
        return coaching_rows.grades(self.engine, session_id)

    def add_comment(self, interaction_id: str, criterion: str | None, text: str, actor: str) -> int:
        return coaching_rows.add_comment(self.engine, interaction_id, criterion, text, actor)

    def find_comments(self, interaction_ids: Sequence[str]) -> list[Any]:
        return coaching_rows.find_comments(self.engine, interaction_ids)

    def add_coaching(self, record: dict[str, Any], actor: str) -> int:
        return coaching_rows.add_coaching(self.engine, record, actor)

    def find_coaching(self, agent_id: str) -> list[Any]:
        return coaching_rows.find_coaching(self.engine, agent_id)

    def save_surveys(self, rows: list[dict[str, Any]], source: str, actor: str) -> None:
        coaching_rows.save_surveys(self.engine, rows, source, actor)

    def surveys_of(self, interaction_ids: Sequence[str]) -> dict[str, dict[str, tuple[float, float]]]:
        return coaching_rows.surveys_of(self.engine, interaction_ids)

    def match_interactions(self, values: Sequence[str]) -> dict[str, list[str]]:
        return coaching_rows.match_interactions(self.engine, values)


# Storage backends by URL scheme (the part before "://", without a "+driver"). Built-in:
# this Store for SQLite and PostgreSQL; another package adds one as an entry point in the
# group qa_pipeline.storage_backends, e.g. ``duckdb = "qa_duckdb:DuckStore"``.
storage_backends: Registry[type[Store]] = Registry("storage backend", "qa_pipeline.storage_backends")
storage_backends.register("sqlite")(Store)
storage_backends.register("postgresql")(Store)


def open_store(url: str) -> Store:
    """The store for ``database_url``: the backend registered for its scheme, once per URL
    and process (its engine and connection pool are shared by every caller)."""
    with _STORES_LOCK:
        found = _STORES.get(url)
        if found is None:
            scheme = url.partition(":")[0].partition("+")[0].lower()
            found = storage_backends.get(scheme)(url)
            _STORES[url] = found
    return found


_STORES: dict[str, Store] = {}
_STORES_LOCK = threading.Lock()
