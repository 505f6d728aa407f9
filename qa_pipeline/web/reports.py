"""Agent and team pages: the period a page covers, and what it shows of the interactions in it
(pass rates with their denominators, trends, the score distribution, KPIs, the lowest
scores, the comparison of agents). An interaction where every criterion was N/A has no
score to average: it is counted, but stays out of averages and the distribution."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from math import fsum
from typing import Any

from qa_pipeline.surveys import Responses, describe, survey_kpis, survey_links
from qa_pipeline.web.views import duration

PERIODS = ("day", "week", "month", "custom")
LOWEST = 5


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date  # exclusive

    @property
    def label(self) -> str:
        last = self.end - timedelta(days=1)
        if self.kind == "day":
            return self.start.isoformat()
        if self.kind == "month":
            return self.start.strftime("%B %Y")
        return f"{self.start.isoformat()} to {last.isoformat()}"

    def bounds(self) -> tuple[datetime, datetime]:
        return (
            datetime(self.start.year, self.start.month, self.start.day, tzinfo=UTC),
            datetime(self.end.year, self.end.month, self.end.day, tzinfo=UTC),
        )

    def query(self) -> dict[str, str]:
        if self.kind == "custom":
            return {
                "period": "custom",
                "since": self.start.isoformat(),
                "until": (self.end - timedelta(days=1)).isoformat(),
            }
        return {"period": self.kind, "on": self.start.isoformat()}

    def step(self, direction: int) -> Period | None:
        """The period before (-1) or after (+1) this one, of the same kind."""
        if self.kind == "custom":
            return None
        anchor = self.start - timedelta(days=1) if direction < 0 else self.end
        return period_of(self.kind, anchor)


def period_of(kind: str, on: date, since: date | None = None, until: date | None = None) -> Period:
    """The day, week (Monday first), month, or custom range [since, until] holding ``on``."""
    if kind == "custom" and since and until and since <= until:
        return Period("custom", since, until + timedelta(days=1))
    if kind == "week":
        start = on - timedelta(days=on.weekday())
        return Period("week", start, start + timedelta(days=7))
    if kind == "month":
        start = on.replace(day=1)
        following = (start + timedelta(days=32)).replace(day=1)
        return Period("month", start, following)
    return Period("day", on, on + timedelta(days=1))


@dataclass
class Chart:
    """A line chart with axes, as coordinates for an inline SVG (0..100 on the y axis)."""

    title: str
    points: list[tuple[float, float, str, str]] = field(default_factory=list)  # x, y, label, value
    x_labels: list[tuple[float, str]] = field(default_factory=list)
    width: int = 320
    height: int = 140
    left: int = 34
    bottom: int = 22

    @property
    def path(self) -> str:
        return " ".join(
            f"{'M' if n == 0 else 'L'}{x:.1f},{y:.1f}" for n, (x, y, _, _) in enumerate(self.points)
        )

    @property
    def y_ticks(self) -> list[tuple[float, str]]:
        return [(self.y(v), f"{v:.0f}") for v in (0, 50, 100)]

    def y(self, value: float) -> float:
        return 6 + (self.height - self.bottom - 6) * (1 - value / 100)


def chart(title: str, series: list[tuple[str, float | None]]) -> Chart:
    """``series``: (bucket label, value 0..100 or None for no data) in time order."""
    c = Chart(title)
    usable = c.width - c.left - 10
    n = max(len(series) - 1, 1)
    for i, (label, value) in enumerate(series):
        x = c.left + usable * (i / n if len(series) > 1 else 0.5)
        if value is not None:
            c.points.append((x, c.y(value), label, f"{value:.0f}"))
    if series:
        c.x_labels = [(c.left + (usable * 0.5 if len(series) == 1 else 0), series[0][0])]
        if len(series) > 1:
            c.x_labels.append((c.left + usable, series[-1][0]))
    return c


def _bucket(day: date, span_days: int) -> str:
    if span_days > 62:
        return day.strftime("%Y-%m")
    if span_days > 14:
        return (day - timedelta(days=day.weekday())).isoformat()
    return day.isoformat()


def _metrics(meta: dict | None) -> dict[str, float]:
    """An interaction's numeric call and chat metrics; a call's handle time is its duration
    when its metrics do not give one."""
    given = {**((meta or {}).get("metrics") or {})}
    given.setdefault("handle_time_s", (meta or {}).get("duration"))
    return {k: float(v) for k, v in given.items() if isinstance(v, int | float)}


def _metrics_of(row: dict) -> dict[str, float]:
    """The row's metrics (``_metrics``), worked out once for the report and the comparison."""
    if "metrics" not in row:
        row["metrics"] = _metrics(row["metadata"])
    return row["metrics"]


def _avg(values: list[float]) -> float | None:
    return fsum(values) / len(values) if values else None  # statistics.mean: 10x slower (exact)


def tally(rows: list[dict]) -> list[dict]:
    """The criterion results of these rows (``store.period_results``: each interaction's
    newest score) counted per agent, UTC day, criterion and result, with how many a dispute
    decided."""
    counted: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        agent, day, decided = r["agent_id"], _day(r["started_at"]), r["decided"]
        for criterion, result in r["results"].items():
            slot = counted[(agent, day, criterion, result)]
            slot[0] += 1
            slot[1] += criterion in decided
    return [
        {"agent_id": a, "day": d, "criterion": c, "result": res, "n": n, "decided": decided}
        for (a, d, c, res), (n, decided) in counted.items()
    ]


def _day(when: datetime | None) -> date | None:
    if when is None:
        return None
    return (when.astimezone(UTC) if when.tzinfo else when).date()


def _rate(counts: dict[str, int]) -> tuple[int, int]:
    """(passed, applicable) of a criterion's counts by result."""
    return counts.get("pass", 0), counts.get("pass", 0) + counts.get("fail", 0)


def report(
    rows: list[dict],
    counts: list[dict],
    names: dict[str, str],
    period: Period,
    fcr: dict[str, tuple[str | None, str]],
    responses: Responses | None = None,
) -> dict[str, Any]:
    """What an agent or team page shows for these interactions (newest score of each), from
    their criterion results counted per agent, day, criterion and result (``tally``)."""
    answered = responses or {}
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    decided: dict[str, int] = defaultdict(int)
    span = (period.end - period.start).days
    per_bucket: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for c in counts:
        totals[c["criterion"]][c["result"]] += c["n"]
        decided[c["criterion"]] += c["decided"]
        if c["day"] is not None:
            per_bucket[(_bucket(c["day"], span), c["criterion"])][c["result"]] += c["n"]
    scored = [r for r in rows if r["applicable"]]
    all_na = len(rows) - len(scored)
    criteria = []
    for cid in sorted(totals, key=lambda x: names.get(x, x)):
        passed, applicable = _rate(totals[cid])
        criteria.append(
            {
                "id": cid,
                "name": names.get(cid, cid),
                "passed": passed,
                "applicable": applicable,
                "na": totals[cid].get("na", 0),
                "rate": 100.0 * passed / applicable if applicable else None,
                "overridden": decided[cid],
            }
        )
    buckets: dict[str, list[dict]] = defaultdict(list)
    bucket_of: dict[date, str] = {}
    for r in scored:
        day = _day(r["started_at"])
        if day is not None:
            if day not in bucket_of:
                bucket_of[day] = _bucket(day, span)
            buckets[bucket_of[day]].append(r)
    order = sorted({b for b, _ in per_bucket} | set(buckets))
    score_trend = chart("Average score", [(b, _avg([r["score"] for r in buckets[b]])) for b in order])
    trends = []
    for c in criteria:
        series = []
        for b in order:
            passed, applicable = _rate(per_bucket[(b, str(c["id"]))])
            series.append((b, 100.0 * passed / applicable if applicable else None))
        trends.append(chart(f"{c['name']}: pass rate", series))
    bins = [0] * 10
    for r in scored:
        bins[min(int(r["score"] // 10), 9)] += 1
    top = max(bins) or 1
    settled = [
        fcr[r["interaction_id"]][0]
        for r in rows
        if fcr.get(r["interaction_id"], (None, ""))[0] in ("yes", "no")
    ]

    metrics = [_metrics_of(r) for r in rows]

    def average(key: str) -> float | None:
        return _avg([m[key] for m in metrics if key in m])

    talk, silence = average("agent_talk_ratio"), average("longest_silence_s")
    kpis = [
        ("Interactions", str(len(rows))),
        ("Average score", f"{_avg([r['score'] for r in scored]):.1f}" if scored else "—"),
        ("Handle time (calls)", duration(average("handle_time_s"))),
        ("Agent share of talk (calls)", f"{talk:.0%}" if talk is not None else "—"),
        ("Longest silence (calls)", duration(silence)),
        ("First response (chats)", duration(average("first_response_s"))),
        ("Time to resolution", duration(average("resolution_s"))),
        (
            "First-contact resolution",
            f"{100 * settled.count('yes') / len(settled):.0f}% of {len(settled)}" if settled else "—",
        ),
    ]
    kpis += _survey_kpis([answered[r["interaction_id"]] for r in rows if r["interaction_id"] in answered])
    lowest = sorted(scored, key=lambda r: (r["score"], r["interaction_id"]))[:LOWEST]
    return {
        "count": len(rows),
        "all_na": all_na,
        "criteria": criteria,
        "score_trend": score_trend,
        "trends": trends,
        "distribution": [
            (f"{10 * i}–{10 * i + 9 if i < 9 else 100}", n, 100 * n / top) for i, n in enumerate(bins)
        ],
        "kpis": kpis,
        "lowest": lowest,
        "survey_links": survey_links(rows, answered, names) if answered else [],
        "repeats": [
            (r["interaction_id"], fcr[r["interaction_id"]][1])
            for r in sorted(
                (r for r in rows if fcr.get(r["interaction_id"], (None, ""))[0] == "no"),
                key=lambda r: str(r["started_at"]),
            )
        ],
    }


def _survey_kpis(answers: list[dict[str, tuple[float, float]]]) -> list[tuple[str, str]]:
    """CSAT always (or "none imported"); NPS and CES when any were imported."""
    kpis = survey_kpis(answers)
    shown = [("CSAT", describe("csat", kpis.get("csat")))]
    shown += [(kind.upper(), describe(kind, kpis[kind])) for kind in ("nps", "ces") if kind in kpis]
    return shown


def comparison(rows: list[dict], counts: list[dict], names: dict[str, str]) -> dict[str, Any]:
    """One line per agent of a team: interactions, average score, pass rate per criterion."""
    by_agent: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_agent[r["agent_id"]].append(r)
    results: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for c in counts:
        results[(c["agent_id"], c["criterion"])][c["result"]] += c["n"]
    criteria = sorted({c["criterion"] for c in counts}, key=lambda x: names.get(x, x))
    lines = []
    for agent, mine in sorted(by_agent.items()):
        handle = _avg([v for r in mine if (v := _metrics_of(r).get("handle_time_s")) is not None])
        lines.append(
            {
                "agent_id": agent,
                "agent_name": mine[0]["agent_name"] or agent,
                "count": len(mine),
                "average": _avg([r["score"] for r in mine if r["applicable"]]),
                "rates": [_rate(results[(agent, cid)]) for cid in criteria],
                "handle_time": duration(handle),
                "flags": sum(len(r["flags"] or []) for r in mine),
            }
        )
    return {"criteria": [names.get(c, c) for c in criteria], "lines": lines}


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defused(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula ("=HYPERLINK(...)") with a leading
    quote; every other value as it is. The CSV exports of the app and the scorecards use it."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_START) else value


def csv_export(rows: list[dict], names: dict[str, str]) -> str:
    """One line per interaction: who, when, score and each criterion's result."""
    criteria = sorted({c for r in rows for c in r["results"]})
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "interaction_id",
            "agent_id",
            "agent_name",
            "team",
            "channel",
            "started_at",
            "score",
            *[names.get(c, c) for c in criteria],
        ]
    )
    for r in sorted(rows, key=lambda r: (str(r["started_at"]), r["interaction_id"])):
        cells = [
            r["interaction_id"],
            r["agent_id"],
            r["agent_name"] or "",
            r["team"] or "",
            r["channel"],
            r["started_at"].isoformat() if r["started_at"] else "",
            r["score"],
            *[_shown(r, c) for c in criteria],
        ]
        writer.writerow([defused(v) for v in cells])
    return out.getvalue()


def _shown(row: dict, criterion: str) -> str:
    """A criterion's result in the CSV export: "pass (decided)" when a dispute decided it."""
    result = row["results"].get(criterion, "")
    return f"{result} (decided)" if result and criterion in row["decided"] else result
