"""Customer-satisfaction ratings from a survey export (``qa csat import FILE.csv``), matched to
interactions by their id or by the help-desk ticket id, shown beside the QA score.

CSV columns (names matched case-insensitively): ``interaction_id`` or ``ticket_id`` [id,
ticket, conversation_id], ``rating`` [csat, score, satisfaction] (a number, or good/bad), and
optionally ``date`` [rated_at, created_at] and ``scale`` (the survey's highest rating; when
absent: 5 if every rating is at most 5, else 10, else 100).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from qa_pipeline.errors import QAError
from qa_pipeline.store import Store

NAMES = {
    "interaction_id": ("interaction_id", "interaction"),
    "ticket": ("ticket_id", "ticket", "id", "conversation_id"),
    "rating": ("rating", "csat", "score", "satisfaction"),
    "date": ("date", "rated_at", "created_at"),
    "scale": ("scale",),
}
WORDS = {"good": 1.0, "bad": 0.0}


@dataclass
class CsatImport:
    """read = stored + rejected."""

    read: int = 0
    stored: int = 0
    rejected: list[str] = field(default_factory=list)


def _column(header: list[str], role: str) -> str | None:
    lowered = {h.strip().lower(): h for h in header}
    return next((lowered[n] for n in NAMES[role] if n in lowered), None)


def import_csat(store: Store, path: Path, actor: str = "cli") -> CsatImport:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = list(reader.fieldnames or [])
            lines = list(enumerate(reader, start=2))
    except FileNotFoundError:
        raise QAError(f"CSAT file {path} not found") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise QAError(f"{path}: not a UTF-8 CSV file ({exc})") from None
    key = _column(header, "interaction_id") or _column(header, "ticket")
    rating_col = _column(header, "rating")
    if key is None or rating_col is None:
        raise QAError(
            f"{path}: needs an interaction_id or ticket_id column and a rating column; it has {header}"
        )
    date_col, scale_col = _column(header, "date"), _column(header, "scale")
    report = CsatImport(read=len(lines))
    parsed = []
    for line, row in lines:
        raw = (row.get(rating_col) or "").strip().lower()
        try:
            rating = WORDS[raw] if raw in WORDS else float(raw.replace(",", "."))
        except ValueError:
            report.rejected.append(f"{path.name}:{line}: rating {raw!r} is not a number or good/bad")
            continue
        parsed.append((line, row, rating, raw in WORDS))
    numbers = [r for _, _, r, word in parsed if not word]
    inferred = 5.0 if all(r <= 5 for r in numbers) else 10.0 if all(r <= 10 for r in numbers) else 100.0
    matches = store.match_interactions([(row.get(key) or "").strip() for _, row, _, _ in parsed])
    rows = []
    for line, row, rating, word in parsed:
        value = (row.get(key) or "").strip()
        scale = 1.0 if word else inferred
        if scale_col and (row.get(scale_col) or "").strip():
            try:
                scale = float(row[scale_col])
            except ValueError:
                report.rejected.append(f"{path.name}:{line}: scale {row[scale_col]!r} is not a number")
                continue
        found = matches.get(value, [])
        problem = (
            f"no interaction {value!r}"
            if not found
            else f"{value!r} names {len(found)} interactions ({', '.join(found[:3])}); use the interaction id"
            if len(found) > 1
            else f"rating {rating:g} is outside 0..{scale:g}"
            if not 0 <= rating <= scale
            else None
        )
        if problem:
            report.rejected.append(f"{path.name}:{line}: {problem}")
            continue
        rated_at = None
        if date_col and (row.get(date_col) or "").strip():
            try:
                rated_at = datetime.fromisoformat(row[date_col].strip().replace("Z", "+00:00"))
            except ValueError:
                report.rejected.append(
                    f"{path.name}:{line}: date {row[date_col]!r} is not YYYY-MM-DD[THH:MM]"
                )
                continue
        rows.append({"interaction_id": found[0], "rating": rating, "scale": scale, "rated_at": rated_at})
    unique = {r["interaction_id"]: r for r in rows}  # the last rating of an interaction wins
    store.save_csat(list(unique.values()), str(path), actor)
    report.stored = len(rows)
    return report
