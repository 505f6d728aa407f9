"""Graders' corrections: imported from a CSV export, stored, turned into training labels,
and counted against the machine's results per criterion.

CSV columns (header names are matched case-insensitively; aliases in brackets):
``interaction_id`` [interaction], ``criterion``, ``result`` [correct_result,
grader_result] = pass | fail | na, ``grader`` [reviewer], ``reason`` [comment], and
optionally ``turn`` (the turn the grader means) and ``rubric``.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from qa_pipeline.errors import QAError
from qa_pipeline.interactions import content_hash
from qa_pipeline.labels import Label
from qa_pipeline.store import Store

ALIASES = {
    "interaction": "interaction_id",
    "correct_result": "result",
    "grader_result": "result",
    "reviewer": "grader",
    "comment": "reason",
}
RESULTS = {"pass", "fail", "na"}


@dataclass
class FeedbackImport:
    """What an import did: read = stored + rejected; how many rows can teach the model."""

    read: int = 0
    stored: int = 0
    rejected: list[str] = field(default_factory=list)
    trainable: int = 0


def _rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames:
                raise QAError(f"{path}: empty file; expected a CSV header")
            return [
                (
                    n,
                    {
                        ALIASES.get(k.strip().lower(), k.strip().lower()): (v or "").strip()
                        for k, v in row.items()
                        if k
                    },
                )
                for n, row in enumerate(reader, start=2)
            ]
    except FileNotFoundError:
        raise QAError(f"feedback file {path} not found") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise QAError(f"{path}: not a UTF-8 CSV file ({exc})") from None


def import_feedback(store: Store, path: Path) -> FeedbackImport:
    """Store each grader row against the stored interaction and the machine's result.

    A row is rejected (with its line and reason) when a field is missing or invalid or the
    interaction is unknown; importing the same export again replaces, never duplicates.
    """
    report = FeedbackImport()
    now = datetime.now(UTC)
    new = []
    for line, row in _rows(path):
        report.read += 1
        problem, record = correction(store, row)
        if problem:
            report.rejected.append(f"{path.name}:{line}: {problem}")
            continue
        keyed(record, str(path), now)
        new.append(record)
        report.trainable += record["text"] is not None and record["grader_result"] != "na"
    store.save_feedback(list({r["id"]: r for r in new}.values()))
    report.stored = len(new)
    return report


def keyed(record: dict, source: str, when: datetime) -> dict:
    """A correction record with where it came from, when, and its id (one per interaction,
    rubric, criterion and grader: a later correction by the same grader replaces it)."""
    record.update(source_file=source, imported_at=when)
    parts = (record["interaction_id"], record["rubric"] or "", record["criterion"], record["grader"] or "")
    record["id"] = content_hash(*parts, length=32)
    return record


def correction(store: Store, row: dict[str, str]) -> tuple[str | None, dict]:
    """A grader's row checked against the stored interaction and the machine's result: a
    problem in words, or the correction record to store."""
    interaction_id, criterion = row.get("interaction_id", ""), row.get("criterion", "")
    result = row.get("result", "").lower()
    if not interaction_id or not criterion:
        return "needs interaction_id and criterion", {}
    if result not in RESULTS:
        return f"result {row.get('result')!r} must be pass, fail or na", {}
    stored, language = store.interaction_language(interaction_id)
    if not stored:
        return f"interaction {interaction_id!r} is not in the database (score it first)", {}
    machine = store.machine_result(interaction_id, criterion, row.get("rubric") or None)
    if machine is None:
        return f"no machine result for {criterion!r} on {interaction_id!r}", {}
    turn = _turn(row.get("turn"), result, machine)
    if isinstance(turn, str):
        return turn, {}
    text = None
    if turn is not None:
        text = store.turn_text(interaction_id, turn)
        if text is None:
            return f"interaction {interaction_id!r} has no turn {turn}", {}
    return None, {
        "interaction_id": interaction_id,
        "rubric": machine.rubric,
        "criterion": criterion,
        "machine_result": machine.result,
        "machine_method": machine.method,
        "grader_result": result,
        "grader": row.get("grader") or None,
        "reason": row.get("reason") or None,
        "turn": turn,
        "text": text,
        "language": language,
    }


def _turn(given: str | None, result: str, machine) -> int | str | None:
    """The turn a correction is about: the one given, else (for a wrong pass) the machine's evidence."""
    if given:
        try:
            return int(given)
        except ValueError:
            return f"turn {given!r} is not a number"
    if result == "fail" and machine.result == "pass" and machine.evidence:
        return int(machine.evidence[0]["turn"])
    return None  # a missed pass without a turn: stored and counted, but it cannot teach the model


def feedback_labels(store: Store) -> list[Label]:
    """Training labels from every stored correction that names a turn."""
    return [
        Label(
            text=r.text,
            interaction_id=r.interaction_id,
            turn=r.turn,
            criterion=r.criterion,
            label=r.grader_result,
            language=r.language,
            source="grader",
            grader=r.grader,
            reason=r.reason,
        )
        for r in store.stored_feedback(trainable=True)
    ]


def disagreement(store: Store) -> dict[str, dict[str, float | int]]:
    """Per criterion: corrections stored, how many disagree with the machine, and the rate."""
    rows = store.stored_feedback()
    reviewed, differ = (
        Counter(r.criterion for r in rows),
        Counter(r.criterion for r in rows if r.machine_result != r.grader_result),
    )
    return {
        c: {"reviewed": reviewed[c], "disagree": differ[c], "rate": round(differ[c] / reviewed[c], 3)}
        for c in sorted(reviewed)
    }
