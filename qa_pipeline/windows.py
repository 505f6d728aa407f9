"""Which turns a criterion reads: its speaker's turns, cut to its window (turns or seconds)."""

from __future__ import annotations

from qa_pipeline.contracts import Interaction
from qa_pipeline.rubric import Criterion


def turn_offsets(interaction: Interaction) -> list[float | None]:
    """Seconds from the start for each turn: ``start`` on calls, else from the ``at`` timestamps."""
    first_at = next((t.at for t in interaction.turns if t.at is not None), None)
    offsets: list[float | None] = []
    for t in interaction.turns:
        if t.start is not None:
            offsets.append(t.start)
        elif t.at is not None and first_at is not None:
            offsets.append((t.at - first_at).total_seconds())
        else:
            offsets.append(None)
    return offsets


def window_turns(interaction: Interaction, criterion: Criterion) -> list[int]:
    """Indices of the turns a criterion reads: its speaker's turns, cut to its window.

    A seconds window on an interaction without times falls back to reading every turn.
    """
    turns = [i for i, t in enumerate(interaction.turns) if criterion.speaker in ("any", t.speaker)]
    window = criterion.window
    if window.first_turns:
        return turns[: window.first_turns]
    if window.last_turns:
        return turns[-window.last_turns :]
    if window.first_seconds or window.last_seconds:
        offsets = turn_offsets(interaction)
        known = [o for o in offsets if o is not None]
        if not known:
            return turns
        if window.first_seconds:
            limit = window.first_seconds
            return [i for i in turns if (at := offsets[i]) is not None and at <= limit]
        start = max(known) - (window.last_seconds or 0)
        return [i for i in turns if (at := offsets[i]) is not None and at >= start]
    return turns
