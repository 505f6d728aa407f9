"""One stored interaction as a coach reads it (``qa show ID``): score, evidence, first contact."""

from __future__ import annotations

import json

from qa_pipeline.contracts import InteractionScore
from qa_pipeline.errors import QAError
from qa_pipeline.interactions import Interaction
from qa_pipeline.store import Store


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
