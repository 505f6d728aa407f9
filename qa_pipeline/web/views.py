"""What the pages show, shaped from stored interactions and scores: plain-language reasons,
evidence as marked spans inside the turns, metrics with units. No HTML here: the templates
escape everything they print."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from qa_pipeline.contracts import FLAG_LABELS, CriterionResult, Interaction, InteractionScore

# Confidence as coaches read it: a band, never a raw probability.
BANDS = ((0.85, "high"), (0.65, "medium"), (0.0, "low"))
SPEAKERS = {"agent": "Agent", "customer": "Customer", "bot": "Bot", "unknown": "Unknown"}
RESULTS = {"pass": "Pass", "fail": "Fail", "na": "N/A"}
METRICS = {
    "handle_time_s": ("Handle time", "duration"),
    "agent_talk_s": ("Agent talk time", "duration"),
    "customer_talk_s": ("Customer talk time", "duration"),
    "agent_talk_ratio": ("Agent share of talk", "percent"),
    "longest_silence_s": ("Longest silence", "duration"),
    "overtalk_count": ("Talking over each other", "count"),
    "agent_words_per_minute": ("Agent pace (words/min)", "number"),
    "first_response_s": ("First response", "duration"),
    "resolution_s": ("Time to resolution", "duration"),
}


def band(confidence: float) -> str:
    return next(name for floor, name in BANDS if confidence >= floor)


def duration(seconds: float | None) -> str:
    """``75`` -> ``1:15``; hours as ``2:05:00``; None -> an em dash."""
    if seconds is None:
        return "—"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def metric_value(value: Any, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "duration":
        return duration(float(value))
    if kind == "percent":
        return f"{float(value):.0%}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def plain_reason(result: CriterionResult, turns: list[Any]) -> str:
    """Why a criterion got its result, in words a coach reads (no probabilities or thresholds)."""

    def where(turn: int) -> str:
        who = SPEAKERS.get(turns[turn].speaker, "Turn").lower() if turn < len(turns) else "turn"
        return f"the {who}'s turn {turn + 1}"

    found = [e for e in result.evidence if e.kind in ("phrase", "model")]
    negative = [e for e in result.evidence if e.kind == "negative"]
    customer = [e for e in result.evidence if e.kind == "customer"]
    if result.original is not None:
        return (result.reason or "Decided by a QA lead.").capitalize() + "."
    if result.result == "na":
        return (result.reason or "Not applicable to this interaction.").capitalize()
    if customer:
        return f"The customer said so in {where(customer[0].turn)}: “{customer[0].text.strip()}”"
    if negative:
        said = "; ".join(f"“{e.match or e.text}”" for e in negative[:3])
        return f"Counted against: {said} in {where(negative[0].turn)}."
    topic = [e for e in result.evidence if e.kind == "topic"]
    if result.result == "fail" and result.reason and (topic or found):  # the topic came up, or half a step
        return f"{result.reason[0].upper()}{result.reason[1:]}."
    if result.result == "pass" and found:
        e = found[0]
        how = "the trained model recognised it" if e.kind == "model" else f"it matched “{e.match or e.text}”"
        return f"Found in {where(e.turn)}: {how}."
    if result.method == "model":
        return "No sentence did it: neither the phrases nor the trained model found one."
    return "No sentence did it: none of the rubric's phrases for it was found."


@dataclass
class Mark:
    """A piece of a turn's text, and the criteria whose evidence covers it."""

    text: str
    kinds: list[str] = field(default_factory=list)  # "pass" / "fail" / "info"
    labels: list[str] = field(default_factory=list)

    @property
    def css(self) -> str:
        if not self.kinds:
            return ""
        return "ev-fail" if "fail" in self.kinds else "ev-pass" if "pass" in self.kinds else "ev-info"


def marked(text: str, spans: list[tuple[int, int, str, str]]) -> list[Mark]:
    """``text`` cut at every evidence boundary; each piece knows which evidence covers it."""
    cuts = sorted({0, len(text), *(max(0, min(len(text), p)) for s, e, _, _ in spans for p in (s, e))})
    pieces = []
    for lo, hi in itertools.pairwise(cuts):
        if hi <= lo:
            continue
        covering = [(kind, label) for s, e, kind, label in spans if s <= lo and hi <= e]
        labels = list(dict.fromkeys(label for _, label in covering))
        pieces.append(Mark(text[lo:hi], [kind for kind, _ in covering], labels))
    return pieces


def interaction_page(
    item: Interaction, scored: list[InteractionScore], criteria: dict[str, Any], fcr: tuple[str | None, str]
) -> dict[str, Any]:
    """Everything the interaction page shows, from the newest score."""
    score = scored[0] if scored else None
    spans: dict[int, list[tuple[int, int, str, str]]] = {}
    rows = []
    for cid, result in score.criteria.items() if score else []:
        criterion = criteria.get(cid)
        name = criterion.name if criterion is not None else cid
        for e in result.evidence:
            kind = "fail" if e.kind == "negative" or result.result == "fail" else "pass"
            kind = "info" if result.result == "na" or e.kind in ("na", "topic") else kind
            spans.setdefault(e.turn, []).append((e.start, e.end, kind, f"{name}: {RESULTS[result.result]}"))
        rows.append(
            {
                "id": cid,
                "name": name,
                "result": result.result,
                "result_label": RESULTS[result.result],
                "critical": bool(criterion is not None and criterion.critical),
                "reason": plain_reason(result, item.turns),
                "confidence": band(result.confidence),
                "by": "trained model" if result.method == "model" else "rubric phrases",
                "turns": sorted({e.turn for e in result.evidence}),
                "original": RESULTS[result.original] if result.original else None,
                "dispute": result.dispute,
            }
        )
    guessed = item.metadata.get("speaker_attribution") == "turn-taking"
    turns = [
        {
            "idx": n,
            "speaker": t.speaker,
            "speaker_label": SPEAKERS.get(t.speaker, t.speaker) + ("?" if guessed else ""),
            "start": t.start,
            "clock": duration(t.start) if t.start is not None else (t.at.strftime("%H:%M") if t.at else ""),
            "pieces": marked(t.text, spans.get(n, [])),
        }
        for n, t in enumerate(item.turns)
    ]
    metrics = item.metadata.get("metrics") or {}
    return {
        "item": item,
        "score": score,
        "older": len(scored) - 1 if scored else 0,
        "criteria": rows,
        "critical_fails": [r for r in rows if r["critical"] and r["result"] == "fail"],
        "flags": [
            {"code": f.code, "label": FLAG_LABELS.get(f.code, f.code.replace("_", " ")), "reason": f.reason}
            for f in (score.flags if score else [])
        ],
        "turns": turns,
        "guessed_speakers": guessed,
        "metrics": [
            (label, metric_value(metrics[key], kind))
            for key, (label, kind) in METRICS.items()
            if key in metrics and metrics[key] is not None
        ],
        "first_contact": {"result": fcr[0], "reason": fcr[1]},
        "is_call": item.channel == "call",
    }
