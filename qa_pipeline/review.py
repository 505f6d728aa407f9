"""Stored results as a coach or QA lead reads them: one interaction (``qa show ID``) with its
score, evidence and first contact; the runs (``qa runs``) and what they quarantined
(``qa quarantine``)."""

from __future__ import annotations

import json
from typing import Any

from qa_pipeline.contracts import InteractionScore
from qa_pipeline.errors import QAError
from qa_pipeline.interactions import Interaction
from qa_pipeline.store import QuarantineListing, Store


def _load(
    store: Store, interaction_id: str, window_days: float
) -> tuple[Interaction, list[InteractionScore], tuple[str | None, str]]:
    found = store.load_interactions([interaction_id])
    if not found:
        raise QAError(f"no interaction with id {interaction_id!r} in the database; find ids with qa search")
    fcr = store.first_contact_results([interaction_id], window_days).get(interaction_id, (None, ""))
    return found[0], store.load_scores(interaction_id), fcr


def describe(store: Store, interaction_id: str, window_days: float = 7.0) -> str:
    """Plain text: header, newest score with each criterion's result and evidence, transcript."""
    item, scored, (fcr, fcr_reason) = _load(store, interaction_id, window_days)
    when = item.started_at.strftime("%Y-%m-%d %H:%M") if item.started_at else "no date"
    agent = f"{item.agent_name} ({item.agent_id})" if item.agent_name else item.agent_id
    lines = [f"{item.id}  {item.channel}  {agent}  {item.team or '(no team)'}  {when}  {item.language or ''}"]
    if fcr is not None:
        lines.append(f"first contact: {fcr_reason}")
    if not scored:
        lines.append("not scored yet")
    for score in scored[:1]:
        older = f"; {len(scored) - 1} older score(s) under other rubric versions" if len(scored) > 1 else ""
        lines.append(f"score {score.score:.1f}  (rubric {score.rubric}, model {score.model}{older})")
        for flag in score.flags:
            lines.append(
                f"  flag {flag.code}{f' [{flag.criterion}]' if flag.criterion else ''}: {flag.reason}"
            )
        for name, result in score.criteria.items():
            head = f"  {name:<22} {result.result:<4}  {result.method} {result.confidence:.2f}"
            lines.append(head + (f"  {result.reason}" if result.reason else ""))
            sentences: dict[tuple[int, str], list[str]] = {}
            for e in result.evidence:  # one line per sentence, with every phrase found in it
                found = sentences.setdefault((e.turn, e.text), [])
                found += [f"{e.kind}: {e.match}" if e.match else e.kind]
            for (turn, text), found in sentences.items():
                who = item.turns[turn].speaker if turn < len(item.turns) else "turn"
                lines.append(
                    f"      {who}, turn {turn}: \u201c{text}\u201d  [{'; '.join(dict.fromkeys(found))}]"
                )
    lines.append("transcript:")
    lines += [f"  {i:>3} {t.speaker:<8} {t.text}" for i, t in enumerate(item.turns)]
    return "\n".join(lines) + "\n"


def describe_json(store: Store, interaction_id: str, window_days: float = 7.0) -> str:
    """The same as JSON: the interaction, its scores (Score contract), first-contact resolution."""
    item, scored, (fcr, fcr_reason) = _load(store, interaction_id, window_days)
    body = {
        "interaction": item.model_dump(mode="json", exclude_none=True),
        "scores": [s.model_dump(mode="json", exclude_none=True) for s in scored],
        "first_contact": {"result": fcr, "reason": fcr_reason},
    }
    return json.dumps(body, ensure_ascii=False, indent=2) + "\n"


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


def describe_runs(store: Store, limit: int = 20) -> str:
    """Plain text: the newest runs, one line each (night, start, status, read = scored +
    quarantined), and a hint for the quarantine list."""
    rows = store.runs(limit)
    if not rows:
        return "no runs yet: qa nightly runs one\n"
    lines = [
        f"{'run':<34} {'night':<10} {'started':<16} {'status':<11} {'read':>7} {'scored':>7} {'quar.':>6}"
    ]
    for r in rows:
        lines.append(
            f"{r['id']:<34} {r['night'] or '-':<10} {_when(r['started_at']):<16} {r['status']:<11} "
            f"{_count(r['read']):>7} {_count(r['scored']):>7} {_count(r['quarantined']):>6}"
        )
        if r["error"]:
            lines.append(f"  error: {r['error']}")
    lines.append("quarantined inputs of a run: qa quarantine --run RUN")
    return "\n".join(lines) + "\n"


def runs_json(store: Store, limit: int = 20) -> str:
    """The newest runs as JSON (``Store.runs`` rows, times in ISO 8601)."""
    return json.dumps(store.runs(limit), default=str, ensure_ascii=False, indent=2) + "\n"


def run_scope(store: Store, run: str) -> str | None:
    """The run a listing is about: ``latest`` is the newest run, ``all`` is None (every run),
    anything else must be a stored run's id. QAError for an unknown id or no runs at all."""
    if run == "all":
        return None
    rows = store.runs(1, None if run == "latest" else run)
    if not rows:
        raise QAError(
            "no runs yet: qa nightly runs one" if run == "latest" else f"no run {run!r}; qa runs lists them"
        )
    return str(rows[0]["id"])


def describe_quarantine(listing: QuarantineListing, run_id: str | None = None, records: bool = False) -> str:
    """Plain text of ``Store.quarantined``'s listing: how many inputs are quarantined and why
    (counts per kind of reason, largest first), then each listed one (channel, source file
    and position, reason; with ``records`` its redacted copy)."""
    scope = f" by run {run_id}" if run_id else ""
    if not listing.total:
        return f"nothing quarantined{scope}\n"
    lines = [f"{listing.total} input(s) quarantined{scope}, by reason:"]
    lines += [f"  {n:>6}  {c:<5}  {why}" for c, why, n in listing.by_reason]
    lines.append("inputs (channel, source and position, reason):")
    for q in listing.items:
        at = f"#{q['position']}" if q["position"] is not None else ""
        lines.append(f"  {q['channel']:<5}  {q['source']}{at}: {q['reason']}")
        if records and q["record"]:
            lines.append(f"         record: {q['record']}")
    if listing.total > len(listing.items):
        lines.append(
            f"  ... {listing.total - len(listing.items)} more (--limit 0 lists all, --json for tools)"
        )
    return "\n".join(lines) + "\n"


def quarantine_json(listing: QuarantineListing) -> str:
    """The same as JSON: total, counts per channel and kind of reason, and the listed items
    with their redacted records and first and last runs."""
    body = {
        "total": listing.total,
        "by_reason": [{"channel": c, "reason": r, "count": n} for c, r, n in listing.by_reason],
        "items": listing.items,
    }
    return json.dumps(body, ensure_ascii=False, indent=2) + "\n"
