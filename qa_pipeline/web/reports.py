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
from typing import Any

from qa_pipeline.rollups import SCORE_BINS, totals_of
from qa_pipeline.store import Store
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


@dataclass(frozen=True)
class Gathered:
    """What an agent or team page shows of a period, gathered from the database by
    ``gather`` or from the scorecards' rows by ``gathered_from_rows``."""

    by_day: list[dict]  # totals per UTC day and key (store.rollup_rows.contributions)
    by_agent: list[dict]  # the same per agent and key
    lowest: list[dict]  # the lowest scores: interaction_id, score, channel, started_at
    repeats: list[tuple[str, str]]  # not resolved at first contact: (interaction, why), by start
    resolved_first: int  # resolved at first contact (window passed, no repeat)
    answered: list[dict]  # ``period_results`` rows of the interactions with a survey response
    responses: Responses


def gather(
    store: Store, agents: list[str] | None, teams: list[str] | None, period: Period, window_days: float
) -> Gathered:
    """A page's period from the database: its day totals, and only the rows a page lists
    (the lowest scores, the repeat contacts, the interactions with a survey response)."""
    since, until = period.bounds()
    responses = store.period_surveys(agents, teams, since, until)
    resolved, repeats = store.period_first_contacts(agents, teams, since, until, window_days)
    return Gathered(
        by_day=store.period_totals(agents, teams, since, until, "day"),
        by_agent=store.period_totals(agents, teams, since, until, "agent_id"),
        lowest=store.lowest_scores(agents, teams, since, until, LOWEST),
        repeats=repeats,
        resolved_first=resolved,
        answered=store.period_results(agents, teams, since, until, ids=list(responses)) if responses else [],
        responses=responses,
    )


def gathered_from_rows(
    rows: list[dict], fcr: dict[str, tuple[str | None, str]], responses: Responses
) -> Gathered:
    """The same from rows already read (``period_results`` rows or the scorecards' own)."""
    settled = {r["interaction_id"]: fcr.get(r["interaction_id"], (None, "")) for r in rows}
    scored = [r for r in rows if any(v != "na" for v in r["results"].values())]
    answered = {iid: responses[iid] for iid in settled if iid in responses}
    return Gathered(
        by_day=totals_of(rows, "day"),
        by_agent=totals_of(rows, "agent_id"),
        lowest=sorted(scored, key=lambda r: (r["score"], r["interaction_id"]))[:LOWEST],
        repeats=[
            (r["interaction_id"], settled[r["interaction_id"]][1])
            for r in sorted(rows, key=lambda r: str(r["started_at"]))
            if settled[r["interaction_id"]][0] == "no"
        ],
        resolved_first=sum(1 for result, _ in settled.values() if result == "yes"),
        answered=[r for r in rows if r["interaction_id"] in answered],
        responses=answered,
    )


@dataclass
class _Sums:
    """Totals folded for one page: overall, per trend bucket, per agent."""

    count: int = 0
    scored: list[float] = field(default_factory=lambda: [0, 0.0])
    bins: list[int] = field(default_factory=lambda: [0] * SCORE_BINS)
    results: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    decided: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    metrics: dict[str, list[float]] = field(default_factory=lambda: defaultdict(lambda: [0, 0.0]))
    flags: int = 0
    names: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, key: str, n: int, total: float) -> None:
        kind, _, rest = key.partition(":")
        if kind == "result":
            criterion, _, result = rest.rpartition(":")
            self.results[criterion][result] += n
            self.decided[criterion] += round(total)
        elif kind == "interactions":
            self.count += n
        elif kind == "scored":
            self.scored[0] += n
            self.scored[1] += total
        elif kind == "bin":
            self.bins[int(rest)] += n
        elif kind == "metric":
            self.metrics[rest][0] += n
            self.metrics[rest][1] += total
        elif kind == "flags":
            self.flags += n
        elif kind == "name":
            self.names[rest] += n

    def average(self) -> float | None:
        return self.scored[1] / self.scored[0] if self.scored[0] else None

    def metric(self, name: str) -> float | None:
        n, total = self.metrics.get(name, (0, 0.0))
        return total / n if n else None


def _rate(counts: dict[str, int]) -> tuple[int, int]:
    """(passed, applicable) of a criterion's counts by result."""
    return counts.get("pass", 0), counts.get("pass", 0) + counts.get("fail", 0)


def report(data: Gathered, names: dict[str, str], period: Period) -> dict[str, Any]:
    """What an agent or team page shows for a period (each interaction's newest score)."""
    span = (period.end - period.start).days
    whole = _Sums()
    per_bucket: dict[str, _Sums] = defaultdict(_Sums)
    for t in data.by_day:
        whole.add(t["key"], t["n"], t["total"])
        if t["day"] is not None:
            per_bucket[_bucket(t["day"], span)].add(t["key"], t["n"], t["total"])
    criteria = []
    for cid in sorted(whole.results, key=lambda x: names.get(x, x)):
        passed, applicable = _rate(whole.results[cid])
        criteria.append(
            {
                "id": cid,
                "name": names.get(cid, cid),
                "passed": passed,
                "applicable": applicable,
                "na": whole.results[cid].get("na", 0),
                "rate": 100.0 * passed / applicable if applicable else None,
                "overridden": whole.decided[cid],
            }
        )
    order = sorted(per_bucket)
    score_trend = chart("Average score", [(b, per_bucket[b].average()) for b in order])
    trends = []
    for c in criteria:
        series = []
        for b in order:
            passed, applicable = _rate(per_bucket[b].results.get(str(c["id"]), {}))
            series.append((b, 100.0 * passed / applicable if applicable else None))
        trends.append(chart(f"{c['name']}: pass rate", series))
    top = max(whole.bins) or 1
    settled = data.resolved_first + len(data.repeats)
    talk, silence = whole.metric("agent_talk_ratio"), whole.metric("longest_silence_s")
    average = whole.average()
    kpis = [
        ("Interactions", str(whole.count)),
        ("Average score", f"{average:.1f}" if average is not None else "—"),
        ("Handle time (calls)", duration(whole.metric("handle_time_s"))),
        ("Agent share of talk (calls)", f"{talk:.0%}" if talk is not None else "—"),
        ("Longest silence (calls)", duration(silence)),
        ("First response (chats)", duration(whole.metric("first_response_s"))),
        ("Time to resolution", duration(whole.metric("resolution_s"))),
        (
            "First-contact resolution",
            f"{100 * data.resolved_first / settled:.0f}% of {settled}" if settled else "—",
        ),
    ]
    kpis += _survey_kpis(list(data.responses.values()))
    return {
        "count": whole.count,
        "all_na": whole.count - int(whole.scored[0]),
        "criteria": criteria,
        "score_trend": score_trend,
        "trends": trends,
        "distribution": [
            (f"{10 * i}–{10 * i + 9 if i < 9 else 100}", n, 100 * n / top) for i, n in enumerate(whole.bins)
        ],
        "kpis": kpis,
        "lowest": data.lowest,
        "survey_links": survey_links(data.answered, data.responses, names) if data.responses else [],
        "repeats": data.repeats,
    }


def _survey_kpis(answers: list[dict[str, tuple[float, float]]]) -> list[tuple[str, str]]:
    """CSAT always (or "none imported"); NPS and CES when any were imported."""
    kpis = survey_kpis(answers)
    shown = [("CSAT", describe("csat", kpis.get("csat")))]
    shown += [(kind.upper(), describe(kind, kpis[kind])) for kind in ("nps", "ces") if kind in kpis]
    return shown


def comparison(totals: list[dict], names: dict[str, str]) -> dict[str, Any]:
    """One line per agent of a team: interactions, average score, pass rate per criterion."""
    by_agent: dict[str, _Sums] = defaultdict(_Sums)
    for t in totals:
        by_agent[t["agent_id"]].add(t["key"], t["n"], t["total"])
    criteria = sorted({c for sums in by_agent.values() for c in sums.results}, key=lambda x: names.get(x, x))
    lines = []
    for agent, sums in sorted(by_agent.items()):
        lines.append(
            {
                "agent_id": agent,
                # the name most of the period's interactions give (an agent may be renamed)
                "agent_name": max(sums.names, key=lambda k: (sums.names[k], k)) if sums.names else agent,
                "count": sums.count,
                "average": sums.average(),
                "rates": [_rate(sums.results.get(cid, {})) for cid in criteria],
                "handle_time": duration(sums.metric("handle_time_s")),
                "flags": sums.flags,
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
