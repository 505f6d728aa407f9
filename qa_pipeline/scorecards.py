"""Per-agent scorecards from stored scores: CSV, Parquet, and HTML pages with charts.

``build_scorecards`` writes, under the output folder:
- ``scorecards.csv`` / ``scorecards.parquet``: one row per agent and period;
- ``agents/<agent>.html``: pass rate per criterion, score trend, lowest interactions
  with the sentence behind each failed or passed criterion;
- ``index.html``: the team overview.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from qa_pipeline.faults import checkpoint
from qa_pipeline.interactions import content_hash, replacing
from qa_pipeline.store import Store

PERIODS = {"day": "D", "week": "W", "month": "M"}
LOWEST_SHOWN = 5
SVG_NS = "http://www.w3.org/2000/svg"
NO_DATE = "(no date)"  # interactions whose source gave no time


@dataclass
class ScorecardFiles:
    """What build_scorecards wrote."""

    folder: Path
    csv: Path
    parquet: Path
    index: Path
    agent_pages: list[Path]
    rows: int


def load_results(
    store: Store, rubric: str | None = None, fcr_window_days: float = 7.0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (scores joined with interactions, criterion results) as DataFrames."""
    rows, crit_rows = store.scorecard_rows(rubric)
    frame, crit = pd.DataFrame(rows), pd.DataFrame(crit_rows)
    if frame.empty:
        return frame, crit
    if rubric is None:
        # An interaction scored under several rubric versions counts once: its latest score.
        frame = frame.sort_values("scored_at").drop_duplicates("interaction_id", keep="last")
        keep = set(zip(frame["interaction_id"], frame["rubric"], strict=True))
        crit = crit[[k in keep for k in zip(crit["interaction_id"], crit["rubric"], strict=True)]]
    frame["started_at"] = pd.to_datetime(frame["started_at"], utc=True)
    frame["team"] = frame["team"].fillna("(no team)")
    frame["agent_name"] = frame["agent_name"].fillna(frame["agent_id"])
    frame["duration"] = frame["metadata"].map(lambda m: (m or {}).get("duration"))
    metrics = frame["metadata"].map(lambda m: (m or {}).get("metrics") or {})
    frame["agent_talk_ratio"] = metrics.map(lambda m: m.get("agent_talk_ratio"))
    frame["longest_silence_s"] = metrics.map(lambda m: m.get("longest_silence_s"))
    frame["first_response_s"] = metrics.map(lambda m: m.get("first_response_s"))
    frame["resolution_s"] = metrics.map(lambda m: m.get("resolution_s"))
    frame["flag_count"] = frame["flags"].map(lambda f: len(f or []))
    frame["critical_fail"] = frame["flags"].map(
        lambda f: any(x.get("code") == "critical_fail" for x in f or [])
    )
    fcr = store.first_contact_results(None, fcr_window_days)
    frame["fcr_result"] = frame["interaction_id"].map(lambda i: fcr.get(i, (None, ""))[0])
    frame["fcr_reason"] = frame["interaction_id"].map(lambda i: fcr.get(i, (None, ""))[1])
    # 1 resolved at first contact, 0 the customer came back; pending and unknown stay out.
    frame["fcr"] = frame["fcr_result"].map({"yes": 1.0, "no": 0.0})
    frame["repeat_contact"] = frame["fcr_result"] == "no"
    # An interaction where every criterion was N/A has no score to average (its stored 0 is
    # not a zero): it counts as an interaction, but stays out of averages, minima and "lowest".
    applicable = set(crit.loc[crit["result"] != "na", "interaction_id"]) if not crit.empty else set()
    frame["applicable"] = frame["interaction_id"].isin(applicable)
    frame["scored"] = frame["score"].where(frame["applicable"])
    return frame, crit


def summarise(frame: pd.DataFrame, crit: pd.DataFrame, period: str = "day") -> pd.DataFrame:
    """One row per agent and period: counts, scores, handle time and pass rate per criterion."""
    frame = frame.copy()
    periods = frame["started_at"].dt.tz_localize(None).dt.to_period(PERIODS[period]).astype(str)
    frame["period"] = periods.where(frame["started_at"].notna(), NO_DATE)
    keys = ["agent_id", "agent_name", "team", "period"]
    table = (
        frame.groupby(keys, dropna=False)
        .agg(
            interactions=("interaction_id", "count"),
            avg_score=("scored", "mean"),
            min_score=("scored", "min"),
            flags=("flag_count", "sum"),
            critical_fails=("critical_fail", "sum"),
            avg_handle_time_s=("duration", "mean"),
            avg_agent_talk_ratio=("agent_talk_ratio", "mean"),
            avg_longest_silence_s=("longest_silence_s", "mean"),
            avg_first_response_s=("first_response_s", "mean"),
            avg_resolution_s=("resolution_s", "mean"),
            fcr_rate=("fcr", "mean"),
            fcr_settled=("fcr", "count"),
            repeat_contacts=("repeat_contact", "sum"),
        )
        .reset_index()
    )
    for channel in ("call", "chat", "email"):
        counts = frame[frame["channel"] == channel].groupby(keys).size().rename(f"{channel}s")
        table = table.merge(counts, on=keys, how="left")
    rates = pass_rates(frame[["interaction_id", *keys]], crit, keys)
    table = table.merge(rates, on=keys, how="left")
    number_cols = table.select_dtypes("number").columns
    table[number_cols] = table[number_cols].round(3)
    return table.sort_values(["team", "agent_id", "period"]).reset_index(drop=True)


def pass_rates(frame: pd.DataFrame, crit: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Pass rate per criterion (N/A left out of the denominator), one column per criterion."""
    scored = crit[crit["result"] != "na"].merge(frame, on="interaction_id")
    if scored.empty:
        return frame[keys].drop_duplicates()
    scored["passed"] = scored["result"] == "pass"
    rates = scored.pivot_table(index=keys, columns="criterion", values="passed", aggfunc="mean")
    rates.columns = [f"pass_{c}" for c in rates.columns]
    return rates.reset_index()


def build_scorecards(
    store: Store,
    out_dir: Path,
    period: str = "day",
    rubric: str | None = None,
    fcr_window_days: float = 7.0,
) -> ScorecardFiles:
    """Write CSV, Parquet and HTML scorecards to ``out_dir``; return what was written."""
    frame, crit = load_results(store, rubric, fcr_window_days)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "agents").mkdir(exist_ok=True)
    csv_path, parquet_path, index_path = (
        out_dir / "scorecards.csv",
        out_dir / "scorecards.parquet",
        out_dir / "index.html",
    )
    if frame.empty:
        table = pd.DataFrame(
            columns=["agent_id", "agent_name", "team", "period", "interactions", "avg_score"]
        )
        pages: list[Path] = []
    else:
        table = summarise(frame, crit, period)
        pages = [
            write_agent_page(out_dir / "agents", agent_id, frame, crit, table)
            for agent_id in sorted(frame["agent_id"].unique())
        ]
    checkpoint("scorecards.pages")
    # Each file is written whole or not at all (temp file, then rename): a run killed here
    # leaves the previous scorecards readable, never half a CSV.
    with replacing(csv_path) as tmp:
        spreadsheet_safe(table).to_csv(tmp, index=False)
    checkpoint("scorecards.csv")
    with replacing(parquet_path) as tmp:
        table.to_parquet(tmp, index=False)
    with replacing(index_path) as tmp:
        tmp.write_text(render_index(frame, table), encoding="utf-8")
    return ScorecardFiles(out_dir, csv_path, parquet_path, index_path, pages, len(table))


def agent_file_name(agent_id: str) -> str:
    """A safe file name for an agent's page, one per agent: when the id needed changing
    ("ag/1", "ag:1", Cyrillic names), a short hash of the id keeps the names apart."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", agent_id).lstrip(".") or "agent"
    if safe != agent_id:
        safe = f"{safe[:80]}-{content_hash(agent_id, length=8)}"
    return safe + ".html"


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(table: pd.DataFrame) -> pd.DataFrame:
    """Text cells a spreadsheet would run as a formula ("=HYPERLINK(...)") get a leading quote."""
    safe = table.copy()
    for column in safe.columns:
        safe[column] = safe[column].map(
            lambda v: f"'{v}" if isinstance(v, str) and v.startswith(FORMULA_START) else v
        )
    return safe


STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:70rem}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}
th{background:#f3f3f3}.pass{color:#176b2c}.fail{color:#a11}.na{color:#777}.small{font-size:.85rem;color:#555}
blockquote{margin:.2rem 0 .2rem 1rem;font-style:italic}
"""


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    )


def bar_chart(rates: dict[str, float]) -> str:
    """Horizontal SVG bars: criterion pass rates 0..100 %."""
    row, width, left = 26, 320, 150
    parts = [
        f"<svg xmlns='{SVG_NS}' width='{left + width + 60}' height='{row * len(rates) + 10}' "
        "role='img' aria-label='pass rate per criterion'>"
    ]
    for n, (name, rate) in enumerate(rates.items()):
        y = 5 + n * row
        parts.append(
            f"<text x='0' y='{y + 15}' font-size='13'>{html.escape(name)}</text>"
            f"<rect x='{left}' y='{y}' width='{width}' height='18' fill='#eee'/>"
            f"<rect x='{left}' y='{y}' width='{width * rate:.1f}' height='18' fill='#3b7dd8'/>"
            f"<text x='{left + width + 6}' y='{y + 15}' font-size='13'>{rate * 100:.0f}%</text>"
        )
    return "".join(parts) + "</svg>"


def trend_chart(points: list[tuple[str, float]]) -> str:
    """SVG line of average score (0..100) per period."""
    width, height, pad = 480, 160, 30
    if not points:
        return ""
    step = (width - 2 * pad) / max(len(points) - 1, 1)
    first_x = pad if len(points) > 1 else width / 2  # a single period sits in the middle
    xy = [
        (first_x + i * step, height - pad - (v / 100) * (height - 2 * pad)) for i, (_, v) in enumerate(points)
    ]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    marks = "".join(
        f"<circle cx='{x:.1f}' cy='{y:.1f}' r='3' fill='#3b7dd8'/>"
        f"<text x='{x:.1f}' y='{height - 8}' font-size='11' text-anchor='middle'>{html.escape(p)}</text>"
        f"<text x='{x:.1f}' y='{y - 6:.1f}' font-size='11' text-anchor='middle'>{v:.0f}</text>"
        for (x, y), (p, v) in zip(xy, points, strict=True)
    )
    return (
        f"<svg xmlns='{SVG_NS}' width='{width}' height='{height}' role='img' aria-label='score trend'>"
        f"<polyline fill='none' stroke='#3b7dd8' stroke-width='2' points='{line}'/>"
        f"<line x1='{pad}' y1='{height - pad}' x2='{width - pad}' y2='{height - pad}' stroke='#999'/>"
        f"{marks}</svg>"
    )


def group_evidence(evidence: list[dict]) -> dict[tuple[int, str], list[str]]:
    """One entry per evidence sentence, with every phrase matched in it."""
    grouped: dict[tuple[int, str], list[str]] = {}
    for e in evidence:
        grouped.setdefault((e["turn"], e["text"]), []).extend([e["match"]] if e.get("match") else [])
    return grouped


def highlight(text: str, matches: list[str]) -> str:
    """HTML-escaped ``text`` with each matched phrase wrapped in <mark>."""
    if not matches:
        return html.escape(text)
    pattern = re.compile("|".join(re.escape(m) for m in sorted(set(matches), key=len, reverse=True)))
    out, last = [], 0
    for m in pattern.finditer(text):
        out += [html.escape(text[last : m.start()]), f"<mark>{html.escape(m.group())}</mark>"]
        last = m.end()
    return "".join([*out, html.escape(text[last:])])


def _criterion_lines(crit: pd.DataFrame, interaction_id: str) -> str:
    lines = []
    for r in crit[crit["interaction_id"] == interaction_id].itertuples():
        # the customer's own words on the outcome ("still not working") are marked as theirs
        customer = {e["turn"] for e in r.evidence or [] if e.get("kind") == "customer"}
        evidence = "".join(
            f"<blockquote>{'customer, ' if turn in customer else ''}turn {turn}: "
            f"“{highlight(text, matches)}”</blockquote>"
            for (turn, text), matches in group_evidence(r.evidence or []).items()
        )
        reason = f" <span class='small'>{html.escape(r.reason)}</span>" if isinstance(r.reason, str) else ""
        lines.append(
            f"<li><b>{html.escape(r.criterion)}</b>: <span class='{r.result}'>{r.result}</span>"
            f"{reason}{evidence}</li>"
        )
    return "<ul>" + "".join(lines) + "</ul>"


def write_agent_page(
    folder: Path, agent_id: str, frame: pd.DataFrame, crit: pd.DataFrame, table: pd.DataFrame
) -> Path:
    """Write one agent's HTML scorecard; return its path."""
    mine = frame[frame["agent_id"] == agent_id]
    rows = table[table["agent_id"] == agent_id]
    mine_crit = crit[crit["interaction_id"].isin(mine["interaction_id"]) & (crit["result"] != "na")]
    rates = (
        mine_crit.assign(passed=mine_crit["result"] == "pass").groupby("criterion")["passed"].mean().to_dict()
        if not mine_crit.empty
        else {}
    )
    trend = [
        (str(p), float(v)) for p, v in zip(rows["period"], rows["avg_score"], strict=True) if pd.notna(v)
    ]
    lowest = mine[mine["applicable"]].nsmallest(LOWEST_SHOWN, "score")
    name = str(mine["agent_name"].iloc[0])
    items = "".join(
        f"<li><code>{html.escape(r.interaction_id)}</code> ({r.channel}) score <b>{r.score:.0f}</b>"
        f"{_fcr_line(r.fcr_result, r.fcr_reason)}{_criterion_lines(crit, r.interaction_id)}</li>"
        for r in lowest.itertuples()
    )
    period_rows = "".join(
        f"<tr><td>{html.escape(str(r.period))}</td><td>{r.interactions}</td>"
        f"<td>{'–' if pd.isna(r.avg_score) else f'{r.avg_score:.1f}'}</td>"
        f"<td>{r.critical_fails}</td></tr>"
        for r in rows.itertuples()
    )
    body = (
        f"<p><a href='../index.html'>← team overview</a></p><h1>{html.escape(name)} "
        f"<span class='small'>({html.escape(agent_id)}, {html.escape(str(mine['team'].iloc[0]))})</span></h1>"
        f"<p>{len(mine)} interactions, average score <b>{_average(mine)}</b></p>"
        f"{call_summary(mine)}{response_summary(mine)}{fcr_summary(mine)}"
        f"<h2>Pass rate per criterion</h2>{bar_chart(rates)}"
        f"<h2>Score trend</h2>{trend_chart(trend)}"
        f"<table><tr><th>period</th><th>interactions</th><th>average score</th><th>critical fails</th></tr>"
        f"{period_rows}</table>"
        f"<h2>Lowest-scoring interactions</h2><ol>{items}</ol>"
        f"{repeat_list(mine)}"
    )
    path = folder / agent_file_name(agent_id)
    with replacing(path) as tmp:
        tmp.write_text(_page(f"Scorecard: {name}", body), encoding="utf-8")
    return path


def _average(frame: pd.DataFrame) -> str:
    """The average score of the interactions that had a criterion to score, or a dash."""
    scored = frame["scored"].dropna()
    return f"{scored.mean():.1f}" if len(scored) else "–"


def minutes(seconds: float) -> str:
    """``m:ss`` for a number of seconds."""
    total = round(seconds)
    return f"{total // 60}:{total % 60:02d}"


def aht(frame: pd.DataFrame) -> str:
    """Average handle time of the calls in ``frame``, or a dash."""
    durations = frame.loc[frame["channel"] == "call", "duration"].dropna()
    return minutes(durations.mean()) if len(durations) else "–"


def fcr_cell(frame: pd.DataFrame) -> str:
    """First-contact resolution rate and its base, or a dash when no contact is settled."""
    settled = frame["fcr"].dropna()
    return f"{100 * settled.mean():.0f}% of {len(settled)}" if len(settled) else "–"


def call_summary(frame: pd.DataFrame) -> str:
    """One line on the agent's calls: average handle time, talk ratio, longest silence."""
    calls = frame[frame["channel"] == "call"]
    if calls.empty or calls["duration"].isna().all():
        return ""
    parts = [f"{len(calls)} calls, average handle time <b>{minutes(calls['duration'].mean())}</b>"]
    if calls["agent_talk_ratio"].notna().any():
        parts.append(f"agent talks {100 * calls['agent_talk_ratio'].mean():.0f}% of the time")
    if calls["longest_silence_s"].notna().any():
        parts.append(f"longest silence {calls['longest_silence_s'].mean():.0f} s on average")
    return "<p>" + ", ".join(parts) + "</p>"


def response_summary(frame: pd.DataFrame) -> str:
    """One line on chat/email response times, where the sources gave timestamps."""
    first, resolved = frame["first_response_s"].dropna(), frame["resolution_s"].dropna()
    parts = []
    if len(first):
        parts.append(
            f"first response in <b>{minutes(first.mean())}</b> on average ({len(first)} conversations)"
        )
    if len(resolved):
        parts.append(f"resolved in {minutes(resolved.mean())} on average ({len(resolved)} conversations)")
    return "<p>" + "; ".join(parts) + "</p>" if parts else ""


def _fcr_line(result: str | None, reason: str) -> str:
    if result not in {"yes", "no"}:
        return ""
    css = "pass" if result == "yes" else "fail"
    return f"<div class='small'>first contact: <span class='{css}'>{html.escape(reason)}</span></div>"


def fcr_summary(frame: pd.DataFrame) -> str:
    """One line on first-contact resolution: rate over settled contacts, repeats, pending."""
    settled = frame["fcr"].dropna()
    pending = int((frame["fcr_result"] == "pending").sum())
    if settled.empty and not pending:
        return ""
    parts = []
    if len(settled):
        parts.append(
            f"first-contact resolution <b>{100 * settled.mean():.0f}%</b> of {len(settled)} settled contacts"
            f" ({int((settled == 0).sum())} customers came back within the window)"
        )
    if pending:
        parts.append(f"{pending} still inside the window")
    return "<p>" + "; ".join(parts) + "</p>"


def repeat_list(frame: pd.DataFrame) -> str:
    """The agent's interactions whose customer came back within the window, with the repeat's id."""
    repeats = frame[frame["fcr_result"] == "no"].sort_values("started_at")
    if repeats.empty:
        return ""
    items = "".join(
        f"<li><code>{html.escape(r.interaction_id)}</code> ({r.channel}): {html.escape(r.fcr_reason)}</li>"
        for r in repeats.itertuples()
    )
    return f"<h2>Not resolved at first contact</h2><ul>{items}</ul>"


def render_index(frame: pd.DataFrame, table: pd.DataFrame) -> str:
    """The team overview page: each team's agents, averages and links."""
    if frame.empty:
        return _page("QA scorecards", "<h1>QA scorecards</h1><p>No scored interactions yet.</p>")
    sections = []
    for team, group in frame.groupby("team"):
        rows = "".join(
            f"<tr><td><a href='agents/{agent_file_name(a)}'>"
            f"{html.escape(str(g['agent_name'].iloc[0]))}</a></td>"
            f"<td>{len(g)}</td><td>{_average(g)}</td><td>{int(g['critical_fail'].sum())}</td>"
            f"<td>{int(g['flag_count'].sum())}</td><td>{aht(g)}</td><td>{fcr_cell(g)}</td></tr>"
            for a, g in group.groupby("agent_id")
        )
        sections.append(
            f"<h2>{html.escape(str(team))}</h2>"
            f"<p>{len(group)} interactions, average {_average(group)}</p>"
            "<table><tr><th>agent</th><th>interactions</th><th>average score</th><th>critical fails</th>"
            f"<th>flags</th><th>average handle time (calls)</th><th>first-contact resolution</th></tr>"
            f"{rows}</table>"
        )
    periods = ", ".join(sorted(table["period"].astype(str).unique()))
    body = (
        f"<h1>QA scorecards</h1><p>{len(frame)} scored interactions; periods: {html.escape(periods)}. "
        "Data: <a href='scorecards.csv'>CSV</a>, <a href='scorecards.parquet'>Parquet</a>.</p>"
        + "".join(sections)
    )
    return _page("QA scorecards", body)
