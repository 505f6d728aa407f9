"""Survey responses (``qa surveys import FILE.csv``): CSAT, NPS and CES answers matched to
interactions by their id or by the help-desk ticket id, shown beside the QA score, and the
survey KPIs worked out from them.

CSV columns (names matched case-insensitively; alternatives in brackets):
``interaction_id`` or ``ticket_id`` [id, ticket, conversation_id], ``score`` [rating,
answer, csat, nps, ces, satisfaction] (a number; good/bad for a thumbs survey), ``type``
[kind, survey, survey_type] (csat, nps or ces; else ``--type``), and optionally ``date``
[responded_at, rated_at, created_at], ``customer`` [customer_key, customer_id, email, phone],
``comment`` [feedback, verbatim, text] and ``scale`` (the survey's highest answer).

Scales when no ``scale`` is given: NPS 0-10; CSAT 5 when every answer is at most 5, else 10,
else 100; CES 7 when an answer is above 5, else 5. Comments are redacted and customers keyed
like everything else stored; an id is matched after the same pseudonymisation as at ingest.

KPIs (``survey_kpis``):
- CSAT: the share of satisfied answers, at least 80% of the scale (4 and 5 of 5, 8-10 of 10,
  good of good/bad), with the average answer.
- NPS: promoters (9-10) minus detractors (0-6), as a share of all answers: -100 to +100.
- CES: the average answer on its scale; higher is easier (the 7-point "the company made it
  easy to handle my issue" question). Mixed scales: the average as a share of the scale.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from statistics import StatisticsError, correlation, fmean
from typing import Any

from qa_pipeline.errors import QAError
from qa_pipeline.redact import Redactor
from qa_pipeline.store import Store

KINDS = ("csat", "nps", "ces")
NAMES = {
    "interaction_id": ("interaction_id", "interaction"),
    "ticket": ("ticket_id", "ticket", "id", "conversation_id"),
    "score": ("score", "rating", "answer", "csat", "nps", "ces", "satisfaction"),
    "kind": ("type", "kind", "survey", "survey_type"),
    "date": ("date", "responded_at", "rated_at", "created_at"),
    "customer": ("customer", "customer_key", "customer_id", "email", "phone"),
    "comment": ("comment", "feedback", "verbatim", "text"),
    "scale": ("scale",),
}
WORDS = {"good": 1.0, "bad": 0.0}
SATISFIED = 0.8  # CSAT: an answer at least this share of the scale is "satisfied"
PROMOTER, DETRACTOR = 9, 6  # NPS: 9-10 promote, 0-6 detract
MIN_LINKED = 5  # responses a criterion needs before its link to survey scores is shown


@dataclass
class SurveyImport:
    """read = stored + rejected."""

    read: int = 0
    stored: int = 0
    rejected: list[str] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)


def _column(header: list[str], role: str) -> str | None:
    lowered = {h.strip().lower(): h for h in header}
    return next((lowered[n] for n in NAMES[role] if n in lowered), None)


def _read(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            return list(reader.fieldnames or []), list(enumerate(reader, start=2))
    except FileNotFoundError:
        raise QAError(f"survey file {path} not found") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise QAError(f"{path}: not a UTF-8 CSV file ({exc})") from None


def _default_scale(kind: str, answers: list[float]) -> float:
    if kind == "nps":
        return 10.0
    if kind == "ces":
        return 7.0 if any(a > 5 for a in answers) else 5.0
    return 5.0 if all(a <= 5 for a in answers) else 10.0 if all(a <= 10 for a in answers) else 100.0


def import_surveys(
    store: Store, path: Path, redactor: Redactor, kind: str | None = None, actor: str = "cli"
) -> SurveyImport:
    """Read a survey export and store its responses; every line is stored or rejected with
    its line number and reason."""
    if kind is not None and kind not in KINDS:
        raise QAError(f"--type {kind!r}: give csat, nps or ces")
    header, lines = _read(path)
    key = _column(header, "interaction_id") or _column(header, "ticket")
    score_col, kind_col = _column(header, "score"), _column(header, "kind")
    if key is None or score_col is None:
        raise QAError(
            f"{path}: needs an interaction_id or ticket_id column and a score column; it has {header}"
        )
    if kind_col is None and kind is None:
        raise QAError(f"{path}: has no type column (csat, nps or ces); say which with --type")
    report = SurveyImport(read=len(lines))

    def reject(line: int, problem: str) -> None:
        report.rejected.append(f"{path.name}:{line}: {problem}")

    parsed = []
    for line, row in lines:
        given = (row.get(kind_col) or "").strip().lower() if kind_col else ""
        this_kind = given or kind
        if this_kind not in KINDS:
            reject(line, f"type {given!r} is not csat, nps or ces")
            continue
        raw = (row.get(score_col) or "").strip().lower()
        try:
            score = WORDS[raw] if raw in WORDS and this_kind == "csat" else float(raw.replace(",", "."))
        except ValueError:
            reject(line, f"score {raw!r} is not a number" + (" or good/bad" if this_kind == "csat" else ""))
            continue
        parsed.append((line, row, this_kind, score, raw in WORDS))
    scales = {
        k: _default_scale(k, [s for _, _, kk, s, word in parsed if kk == k and not word]) for k in KINDS
    }
    ids = {line: redactor.name((row.get(key) or "").strip()) for line, row, *_ in parsed}
    matches = store.match_interactions(list(ids.values()))
    date_col, scale_col = _column(header, "date"), _column(header, "scale")
    customer_col, comment_col = _column(header, "customer"), _column(header, "comment")
    rows: dict[tuple[str, str], dict[str, Any]] = {}  # the last response of a kind to an interaction wins
    for line, row, this_kind, score, word in parsed:
        scale = 1.0 if word else scales[this_kind]
        if scale_col and (row.get(scale_col) or "").strip():
            try:
                scale = float(row[scale_col].replace(",", "."))
            except ValueError:
                reject(line, f"scale {row[scale_col]!r} is not a number")
                continue
        value = ids[line]
        found = matches.get(value, [])
        problem = (
            f"no interaction {value!r}"
            if not found
            else f"{value!r} names {len(found)} interactions ({', '.join(found[:3])}); use the interaction id"
            if len(found) > 1
            else "an NPS answer is on a 0..10 scale"
            if this_kind == "nps" and scale != 10
            else f"score {score:g} is outside 0..{scale:g}"
            if not 0 <= score <= scale or scale <= 0
            else None
        )
        if problem:
            reject(line, problem)
            continue
        responded_at = None
        if date_col and (row.get(date_col) or "").strip():
            try:
                responded_at = datetime.fromisoformat(row[date_col].strip().replace("Z", "+00:00"))
            except ValueError:
                reject(line, f"date {row[date_col]!r} is not YYYY-MM-DD[THH:MM]")
                continue
        customer = (row.get(customer_col) or "").strip() if customer_col else ""
        comment = (row.get(comment_col) or "").strip() if comment_col else ""
        rows[(found[0], this_kind)] = {
            "interaction_id": found[0],
            "kind": this_kind,
            "score": score,
            "scale": scale,
            "customer_key": redactor.customer_key(customer) if customer and redactor.customer_key else None,
            "comment": redactor.text(comment)[:4000] if comment else None,
            "responded_at": responded_at,
        }
        report.stored += 1
        report.kinds[this_kind] = report.kinds.get(this_kind, 0) + 1
    store.save_surveys(list(rows.values()), path.name, actor)
    return report


Responses = dict[str, dict[str, tuple[float, float]]]  # interaction -> kind -> (score, scale)


def survey_kpis(answers: Iterable[dict[str, tuple[float, float]]]) -> dict[str, dict[str, Any]]:
    """Per kind: ``n`` and the KPI (see the module's docstring). CSAT: ``satisfied`` (%) and
    ``average``/``scale``; NPS: ``nps``, ``promoters``, ``passives``, ``detractors``; CES:
    ``average``/``scale`` (``scale`` None and ``average`` a % when scales are mixed)."""
    by_kind: dict[str, list[tuple[float, float]]] = {k: [] for k in KINDS}
    for given in answers:
        for kind, pair in given.items():
            if kind in by_kind:
                by_kind[kind].append(pair)
    out: dict[str, dict[str, Any]] = {}
    for kind, pairs in by_kind.items():
        if not pairs:
            continue
        n = len(pairs)
        scales = {scale for _, scale in pairs}
        one_scale = scales.pop() if len(scales) == 1 else None
        average = (
            _avg([s for s, _ in pairs]) if one_scale is not None else _avg([100 * s / c for s, c in pairs])
        )
        kpi: dict[str, Any] = {"n": n, "average": average, "scale": one_scale}
        if kind == "csat":
            kpi["satisfied"] = 100 * sum(s >= SATISFIED * c for s, c in pairs) / n
        if kind == "nps":
            promoters = sum(s >= PROMOTER for s, _ in pairs)
            detractors = sum(s <= DETRACTOR for s, _ in pairs)
            kpi |= {
                "promoters": promoters,
                "detractors": detractors,
                "passives": n - promoters - detractors,
                "nps": 100 * (promoters - detractors) / n,
            }
        out[kind] = kpi
    return out


def describe(kind: str, kpi: dict[str, Any] | None) -> str:
    """A KPI in words for a page: 'CSAT 82% satisfied (4.3 / 5, 40 answers)'."""
    if not kpi:
        return "none imported"
    n = kpi["n"]
    mean = (
        f"{kpi['average']:.1f} / {kpi['scale']:g}"
        if kpi["scale"] is not None
        else f"{kpi['average']:.0f}% of scale"
    )
    if kind == "csat":
        return f"{kpi['satisfied']:.0f}% satisfied ({mean}, {n})"
    if kind == "nps":
        return f"{kpi['nps']:+.0f} ({kpi['promoters']} promoting, {kpi['detractors']} detracting, of {n})"
    return f"{mean} ({n})"


def _avg(values: list[float]) -> float | None:
    return fmean(values) if values else None


def pearson(xs: list[float], ys: list[float]) -> float | None:
    """Pearson's r, or None with fewer than two pairs or when either side does not vary."""
    try:
        return correlation(xs, ys)
    except StatisticsError:
        return None


def survey_links(rows: list[dict], responses: Responses, names: dict[str, str]) -> list[dict[str, Any]]:
    """Which criteria go with unhappy customers: for each criterion and survey kind, over the
    interactions with both a pass/fail result and a response, the average answer (as a share
    of the scale) when the criterion passed and when it failed, and Pearson's r between
    passing (1/0) and the answer. The QA score itself comes first (``criterion`` None).
    Only pairs with at least ``MIN_LINKED`` interactions."""
    links = []
    for kind in KINDS:
        pairs = [
            (r, responses[r["interaction_id"]][kind])
            for r in rows
            if kind in responses.get(r["interaction_id"], {}) and r["applicable"]
        ]
        if len(pairs) < MIN_LINKED:
            continue
        answer = [score / scale for _, (score, scale) in pairs]
        overall = pearson([r["score"] for r, _ in pairs], answer)
        links.append(
            {
                "kind": kind,
                "criterion": None,
                "name": "QA score",
                "n": len(pairs),
                "passed": None,
                "failed": None,
                "r": overall,
            }
        )
        criteria = sorted({c for r, _ in pairs for c in r["results"]}, key=lambda c: names.get(c, c))
        for criterion in criteria:
            judged = [
                (r["results"][criterion] == "pass", a)
                for (r, _), a in zip(pairs, answer, strict=True)
                if r["results"].get(criterion) in ("pass", "fail")
            ]
            if len(judged) < MIN_LINKED:
                continue
            passed = [a for ok, a in judged if ok]
            failed = [a for ok, a in judged if not ok]
            links.append(
                {
                    "kind": kind,
                    "criterion": criterion,
                    "name": names.get(criterion, criterion),
                    "n": len(judged),
                    "passed": _avg(passed),
                    "failed": _avg(failed),
                    "r": pearson([float(ok) for ok, _ in judged], [a for _, a in judged]),
                }
            )
    return links
