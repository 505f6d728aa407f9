"""ESConv (Liu et al. 2021, CC BY-NC 4.0: non-commercial use only): emotional-support
conversations whose supporter turns are annotated with the support strategy used.

*empathy* passes on "Reflection of feelings" and "Affirmation and Reassurance" and fails
on "Questions", "Providing Suggestions" and "Information". Strategies that may or may not
acknowledge feelings ("Restatement or Paraphrasing", "Self-disclosure", "Other") are left
out rather than guessed.

The help-seeker's own turns are *weak negatives* for *empathy*, kept apart by their reason:
they are full of feeling words ("I'm so stressed", "it was really sad") without being
sympathy for the other person, which is what a model trained on the supporters' turns alone
took for empathy in casual talk ("it's a shame", "it can be sad"). A seeker turn that
apologises or sympathises with the supporter ("sorry", "I understand", "that must be
hard") is left out, never labelled.

Reads ``ESConv.json`` / ``FailedESConv.json`` (one object per dialogue) and the
``*WithStrategy_short.tsv`` files of the repository's baseline code (dialogue windows
separated by `` EOS ``, supporter turns tagged ``[Strategy]``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from qa_pipeline.corpora.core import Corpus, corpus_label, files_under, register
from qa_pipeline.labels import Label

NAME = "esconv"
PASS = {"Reflection of feelings", "Affirmation and Reassurance", "Approval and Reassurance"}
FAIL = {"Questions", "Question", "Providing Suggestions", "Information", "Direct Guidance"}
# apology or sympathy directed at the other person: a seeker turn with it is left out
DIRECTED = re.compile(
    r"sorr|apolog|forgive|pardon|excuse|understand|know how|must (be|have)|sounds?( like)? (hard|tough|rough|"
    r"terrible|awful|difficult|horrible|sad|frustrating)|feel for you|hear you|too bad|shame|pity|sympath|"
    r"condolen|that's (hard|tough|rough|terrible|awful|horrible)|you (too|as well)",
    re.I,
)
SEGMENT = re.compile(r"\s*[\d.]+ ([01]) (\d+) (?:\[([^\]]+)\] )?(.*)", re.S)


def _label(dialogue: str, text: str, strategy: str | None) -> Label | None:
    if strategy not in PASS | FAIL:
        return None
    return _turn(dialogue, text, strategy in PASS, "agent", f"strategy: {strategy}")


def _seeker(dialogue: str, text: str) -> Label | None:
    if DIRECTED.search(text):
        return None
    reason = "weak negative: the help-seeker's own words, no apology or sympathy to the other"
    return _turn(dialogue, text, False, "customer", reason)


def _turn(dialogue: str, text: str, passed: bool, speaker: str, reason: str) -> Label | None:
    if not text.strip():
        return None
    return corpus_label(
        NAME, dialogue, text, "empathy", passed, language="en", channel="chat", speaker=speaker, reason=reason
    )


def _from_json(path: Path) -> Iterator[Label]:
    for n, dialogue in enumerate(json.loads(path.read_text(encoding="utf-8"))):
        key = f"{path.stem}/{n}"
        for turn in dialogue.get("dialog", []):
            if turn.get("speaker") in ("supporter", "listener"):
                lb = _label(key, turn.get("content", ""), (turn.get("annotation") or {}).get("strategy"))
            else:
                lb = _seeker(key, turn.get("content", ""))
            if lb:
                yield lb


def _from_tsv(path: Path) -> Iterator[Label]:
    """Each line is a window of one dialogue; a line whose first turn was not seen in the
    current dialogue starts a new one."""
    dialogue, seen = 0, set[tuple[str, str]]()
    for line in path.read_text(encoding="utf-8").splitlines():
        segments = [m for m in (SEGMENT.match(s) for s in line.split(" EOS ")) if m]
        if not segments:
            continue
        first = (segments[0].group(2), segments[0].group(4).strip())
        if first not in seen:
            dialogue, seen = dialogue + 1, set()
        for m in segments:
            key = (m.group(2), m.group(4).strip())
            if key in seen:
                continue
            seen.add(key)
            where = f"{path.stem}/{dialogue}"
            lb = _label(where, m.group(4), m.group(3)) if m.group(1) == "1" else _seeker(where, m.group(4))
            if lb:
                yield lb


def read(paths: list[Path]) -> Iterator[Label]:
    """Labels from every ESConv JSON and strategy TSV under ``paths``."""
    for f in files_under(paths, "*ESConv*.json"):
        yield from _from_json(f)
    for f in files_under(paths, "*WithStrategy*.tsv"):
        yield from _from_tsv(f)


CORPUS = register(
    Corpus(
        name=NAME,
        repository="thu-coai/Emotional-Support-Conversation",
        licence="CC BY-NC 4.0",
        commercial_use=False,
        criteria=("empathy",),
        languages=("en",),
        description=(
            "ESConv supporter turns with their annotated support strategy; seeker turns as weak"
            " empathy negatives"
        ),
        read=read,
        cap_scale=2.5,  # the seekers' weak negatives: every supporter's turn still fits
    )
)
