"""Per-agent scorecards from stored scores: CSV, Parquet, and HTML pages with charts.

``build_scorecards`` writes, under the output folder:
- ``scorecards.csv`` / ``scorecards.parquet``: one row per agent and period;
- ``agents/<agent>.html``: the web app's agent page (``web/templates/report.html``) over
  every stored interaction of the agent, without its forms, with the sentences behind the
  lowest scores;
- ``index.html``: each team's agents side by side; ``app.css``: the app's stylesheet.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd

from qa_pipeline.faults import checkpoint
from qa_pipeline.interactions import content_hash, replacing
from qa_pipeline.store import Store, fold_results
from qa_pipeline.web.pages import STYLESHEET, environment
from qa_pipeline.web.reports import (
    Period,
    comparison,
    defused,
    gathered_from_rows,
    period_of,
    report,
    totals_of,
)
from qa_pipeline.web.views import interaction_page

PERIODS = {"day": "D", "week": "W", "month": "M"}
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
    criteria: dict[str, Any] | None = None,
) -> ScorecardFiles:
    """Write CSV, Parquet and HTML scorecards to ``out_dir``; return what was written."""
    frame, crit = load_results(store, rubric, fcr_window_days)
    rows = _rows(frame, crit) if not frame.empty else []
    known = dict(criteria or {})
    for cid in set(crit["criterion"]) if not crit.empty else set():
        known.setdefault(cid, SimpleNamespace(name=cid, critical=False))
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
        fcr = dict(
            zip(
                frame["interaction_id"],
                zip(frame["fcr_result"], frame["fcr_reason"], strict=True),
                strict=True,
            )
        )
        responses = store.surveys_of(list(frame["interaction_id"]))
        by_agent: dict[str, list[dict]] = {}
        for row in rows:
            by_agent.setdefault(row["agent_id"], []).append(row)
        pages = [
            write_agent_page(
                store,
                out_dir / "agents",
                agent_id,
                by_agent[agent_id],
                known,
                fcr,
                responses,
            )
            for agent_id in sorted(by_agent)
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
        tmp.write_text(
            render_index(frame, rows, known),
            encoding="utf-8",
        )
    shutil.copyfile(STYLESHEET, out_dir / "app.css")
    return ScorecardFiles(out_dir, csv_path, parquet_path, index_path, pages, len(table))


def agent_file_name(agent_id: str) -> str:
    """A safe file name for an agent's page, one per agent: when the id needed changing
    ("ag/1", "ag:1", Cyrillic names), a short hash of the id keeps the names apart."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", agent_id).lstrip(".") or "agent"
    if safe != agent_id:
        safe = f"{safe[:80]}-{content_hash(agent_id, length=8)}"
    return safe + ".html"


def spreadsheet_safe(table: pd.DataFrame) -> pd.DataFrame:
    """Text cells a spreadsheet would run as a formula ("=HYPERLINK(...)") get a leading quote."""
    safe = table.copy()
    for column in safe.columns:
        safe[column] = safe[column].map(defused)
    return safe


def _rows(frame: pd.DataFrame, crit: pd.DataFrame) -> list[dict]:
    """The frame's interactions as the page reports read them (as ``store.period_results``
    gives them: no pandas types, each with its criterion results and those a dispute decided)."""
    results, decided = fold_results(
        zip(
            crit.get("interaction_id", []),
            crit.get("criterion", []),
            crit.get("result", []),
            crit.get("original", []),
            strict=True,
        )
    )
    rows = []
    for r in frame.to_dict("records"):
        started = r["started_at"]
        rows.append(
            {
                **r,
                "started_at": None if pd.isna(started) else started.to_pydatetime(),
                "team": None if r["team"] == "(no team)" else r["team"],
                "flags": r["flags"] or [],
                "metadata": r["metadata"] or {},
                "results": results.get(r["interaction_id"], {}),
                "decided": decided.get(r["interaction_id"], []),
            }
        )
    return rows


def _span(rows: list[dict]) -> Period:
    days = [r["started_at"].date() for r in rows if r["started_at"] is not None]
    if not days:
        today = datetime.now(UTC).date()
        return period_of("day", today)
    return period_of("custom", max(days), min(days), max(days))


def write_agent_page(
    store: Store,
    folder: Path,
    agent_id: str,
    rows: list[dict],
    criteria: dict[str, Any],
    fcr: dict[str, tuple[str | None, str]],
    responses: dict[str, dict[str, tuple[float, float]]],
) -> Path:
    """One agent's scorecard over every stored interaction of theirs, drawn by the web app's
    agent page template (without its forms), with the sentences behind the lowest scores."""
    names = {cid: getattr(c, "name", cid) for cid, c in criteria.items()}
    period = _span(rows)
    report_data = report(gathered_from_rows(rows, fcr, responses), names, period)
    evidence = {}
    lowest = [r["interaction_id"] for r in report_data["lowest"]]
    for item in store.load_interactions(lowest):
        evidence[item.id] = interaction_page(
            item, store.load_scores(item.id), criteria, fcr.get(item.id, (None, ""))
        )
    team = rows[0]["team"] or "no team"
    page = (
        environment()
        .get_template("report.html")
        .render(
            static=True,
            static_root="../",
            home="../index.html",
            title=f"Scorecard: {rows[0]['agent_name']}",
            heading=f"{rows[0]['agent_name']} ({agent_id}, {team})",
            kind="agent",
            period=period,
            report=report_data,
            evidence=evidence,
            written=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        )
    )
    path = folder / agent_file_name(agent_id)
    with replacing(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path


def render_index(frame: pd.DataFrame, rows: list[dict], criteria: dict[str, Any]) -> str:
    """The overview: each team's agents side by side, linked to their pages."""
    names = {cid: getattr(c, "name", cid) for cid, c in criteria.items()}
    teams = []
    if not frame.empty:
        for team, group in frame.groupby("team"):
            ids = set(group["interaction_id"])
            mine = [r for r in rows if r["interaction_id"] in ids]
            scored = group["scored"].dropna()
            teams.append(
                (
                    str(team),
                    comparison(totals_of(mine, "agent_id"), names),
                    float(scored.mean()) if len(scored) else None,
                    len(group),
                )
            )
    fcr = {a: fcr_cell(g) for a, g in frame.groupby("agent_id")} if not frame.empty else {}
    span = _span(rows).label if rows else ""
    return (
        environment()
        .get_template("scorecards_index.html")
        .render(
            static=True,
            static_root="",
            home="index.html",
            title="QA scorecards",
            teams=teams,
            count=len(frame),
            span=span,
            agent_links={
                a: f"agents/{agent_file_name(a)}"
                for a in (frame["agent_id"].unique() if not frame.empty else [])
            },
            fcr=fcr,
            written=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        )
    )


def fcr_cell(frame: pd.DataFrame) -> str:
    """First-contact resolution rate and its base, or a dash when no contact is settled."""
    settled = frame["fcr"].dropna()
    return f"{100 * settled.mean():.0f}% of {len(settled)}" if len(settled) else "–"
