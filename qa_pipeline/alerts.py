"""After a nightly run: summarise the run's new flags and send them to a notification target.

The target is ``alert_url`` in settings. Its scheme picks the sink from the ``alert_sinks``
registry (entry-point group ``qa_pipeline.alert_sinks``; a sink is ``send(url, summary,
timeout)``): http(s) URLs receive the summary as JSON (POST); any other URL is handed to
Apprise (Slack, Teams, email, ...) when the ``apprise`` package is installed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx

from qa_pipeline.errors import ConfigError, QAError
from qa_pipeline.registry import Registry
from qa_pipeline.store import Store

TOP = 10


def flag_summary(store: Store, run_id: str) -> dict[str, Any]:
    """Flags raised by this run: counts per code and the most-flagged interactions with reasons."""
    rows = store.flagged_in_run(run_id)
    counts = Counter(f["code"] for r in rows for f in r["flags"])
    worst = sorted(rows, key=lambda r: (-len(r["flags"]), r["score"]))[:TOP]
    return {
        "run_id": run_id,
        "flagged_interactions": len(rows),
        "flags": dict(counts.most_common()),
        "top": [
            {
                "interaction_id": r["interaction_id"],
                "agent": r["agent_name"] or r["agent_id"],
                "team": r["team"],
                "channel": r["channel"],
                "score": r["score"],
                "flags": [{"code": f["code"], "reason": f.get("reason", "")} for f in r["flags"]],
            }
            for r in worst
        ],
    }


def render_text(summary: dict[str, Any]) -> str:
    """The summary as a short message for chat tools and email."""
    lines = [f"QA run {summary['run_id']}: {summary['flagged_interactions']} interactions flagged"]
    lines += [f"  {code}: {count}" for code, count in summary["flags"].items()]
    for item in summary["top"][:5]:
        reasons = "; ".join(f"{f['code']}: {f['reason']}" for f in item["flags"][:2])
        lines.append(f"- {item['interaction_id']} ({item['agent']}, score {item['score']:.0f}): {reasons}")
    return "\n".join(lines)


AlertSink = Callable[[str, dict[str, Any], float], None]  # (url, summary, timeout)
alert_sinks: Registry[AlertSink] = Registry("alert sink", "qa_pipeline.alert_sinks")


def send_alert(url: str, summary: dict[str, Any], timeout: float = 10.0) -> None:
    """Deliver the summary to ``url`` with the sink registered for its scheme (``apprise``
    for schemes no sink claims); raise QAError if it cannot be delivered."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    sink = alert_sinks.get(scheme if scheme in alert_sinks.names() else "apprise")
    sink(url, summary, timeout)


@alert_sinks.register("http")
@alert_sinks.register("https")
def send_webhook(url: str, summary: dict[str, Any], timeout: float = 10.0) -> None:
    """POST the summary as JSON, with a ready ``text`` field."""
    try:
        response = httpx.post(url, json={**summary, "text": render_text(summary)}, timeout=timeout)
    except httpx.HTTPError as exc:
        raise QAError(f"alert not delivered to {url}: {exc}") from exc
    if response.status_code >= 300:
        raise QAError(f"alert not delivered: {url} answered {response.status_code}")


@alert_sinks.register("apprise")
def send_apprise(url: str, summary: dict[str, Any], timeout: float = 10.0) -> None:
    """Hand the summary as text to Apprise, which knows Slack, Teams, email and more."""
    try:
        import apprise
    except ImportError:
        raise ConfigError(
            f"alert_url {url!r} is not http(s); for other targets pip install apprise"
        ) from None
    notifier = apprise.Apprise()
    if not notifier.add(url) or not notifier.notify(title="QA flags", body=render_text(summary)):
        raise QAError(f"alert not delivered through Apprise to {url.split('://')[0]}://...")
