"""EPITOME (Sharma et al. 2020, "A Computational Approach to Understanding Empathy Expressed
in Text-Based Mental Health Support"): Reddit replies to people asking for support, each
rated by trained annotators for *emotional reactions* (warmth, compassion, concern: 0 none,
1 weak, 2 strong) with the words that carry it marked as rationales.

It gives *empathy* labels per sentence, written by people nobody on the team knows, in
phrasings no rubric author chose ("hang in there", "I feel for you man", "sending hugs"):
- a sentence of a reply rated 1 or 2 that holds (part of) a rationale passes;
- a sentence of a reply rated 0 fails, unless it holds a rationale of the same reply's
  *interpretations* rating ("I understand", "I know how you feel": understanding, which
  the rubric's empathy counts but emotional reactions does not), which is left out;
- the other sentences of a rated reply are left out: the annotators did not mark them,
  and guessing would put our judgement in their place.

The reply is the supporter's turn (speaker ``agent``); the seeker's post only gives the
split, so all replies to one post fall on the same side. The repository states no licence
for the data (only the TalkLife part is named non-commercial), so it is evaluation only:
``qa train`` refuses it; half its posts are validation (rules may be checked there), half
test. The interpretations file (read when it is beside the emotional reactions file) only keeps
its rationales out of the fails; the explorations file (questions) is not read.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from qa_pipeline.classifier import sentence_spans
from qa_pipeline.corpora.core import Corpus, corpus_label, files_under, register
from qa_pipeline.labels import Label

NAME = "epitome"
LEVELS = {"0": "none", "1": "weak", "2": "strong"}


def rationale_spans(reply: str, rationales: str) -> list[tuple[int, int]]:
    """Where each ``|``-separated rationale stands in the reply (ones not found are skipped)."""
    spans = []
    for part in rationales.split("|"):
        part = part.strip()
        start = reply.find(part) if part else -1
        if start >= 0:
            spans.append((start, start + len(part)))
    return spans


def sentence_labels(
    reply: str, level: str, rationales: str, understanding: str = ""
) -> Iterator[tuple[str, bool]]:
    """(sentence, passed) for the sentences of one rated reply that the rating decides;
    ``understanding``: the reply's interpretations rationales (kept out of the fails)."""
    marked = rationale_spans(reply, rationales if level != "0" else understanding)
    if level != "0" and not marked:
        return  # rated, but nothing marked that we can find: not guessed
    for start, end in sentence_spans(reply):
        overlaps = any(s < end and start < e for s, e in marked)
        if level == "0" and not overlaps:
            yield reply[start:end], False
        elif level != "0" and overlaps:
            yield reply[start:end], True


def _understanding(path: Path) -> dict[str, str]:
    """Reply id -> its interpretations rationales, from the file beside ``path`` (rated 1-2)."""
    beside = path.with_name(path.name.replace("emotional-reactions", "interpretations"))
    if not beside.is_file():
        return {}
    with beside.open(encoding="utf-8", newline="") as f:
        return {
            row["rp_id"]: row.get("rationales") or ""
            for row in csv.DictReader(f)
            if (row.get("level") or "").strip() in ("1", "2") and row.get("rp_id")
        }


def read(paths: list[Path]) -> Iterator[Label]:
    """Labels from every ``emotional-reactions-*.csv`` under ``paths``."""
    for path in files_under(paths, "emotional-reactions*.csv"):
        understanding = _understanding(path)
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                level = (row.get("level") or "").strip()
                post, reply = row.get("sp_id") or "", row.get("response_post") or ""
                if level not in LEVELS or not post or not reply.strip():
                    continue
                for text, passed in sentence_labels(
                    reply, level, row.get("rationales") or "", understanding.get(row.get("rp_id") or "", "")
                ):
                    yield corpus_label(
                        NAME,
                        post,
                        text,
                        "empathy",
                        passed,
                        language="en",
                        channel="chat",
                        speaker="agent",
                        reason=f"emotional reactions: {LEVELS[level]}",
                    )


CORPUS = register(
    Corpus(
        name=NAME,
        repository="behavioral-data/Empathy-Mental-Health",
        licence="data terms not stated (no LICENSE in the repository); evaluation only",
        commercial_use=False,
        criteria=("empathy",),
        languages=("en",),
        description="EPITOME: Reddit support replies rated for emotional reactions, with rationales",
        read=read,
        evaluation_only=True,
    )
)
