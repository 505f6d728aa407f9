"""Topical-Chat (Amazon, CDLA-Sharing-1.0): open-domain chats between two crowd workers
about a topic (sports, films, music...), as people type to each other: "That's crazy!",
"haha that's hilarious", "I think that's kind of sad".

It has no dialogue-act annotation, so it gives only *weak negatives*, kept apart by their
reason: a message that names no apology or sympathy word ("sorry", "sad", "too bad",
"understand" ...) is no *empathy*, and a message after the first two of a chat that names
no greeting word is no *greeting*. A model trained on customer-service and counselling text
alone had taken casual evaluative talk ("that's crazy", "you're funny") for empathy and
"let's talk" for a greeting; these are the counter-examples. Whatever the filter leaves
out is left out, never labelled a pass.

The corpus's train file is too large for the fetch; its validation and test files
(``conversations/{valid,test}_{freq,rare}.json``, about 2,100 chats) are read, and split
by chat like every corpus.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from qa_pipeline.corpora.core import Corpus, corpus_label, files_under, register
from qa_pipeline.labels import Label

NAME = "topical-chat"
SYMPATHY = re.compile(
    r"sorr|apolog|understand|sad|shame|pity|too bad|terribl|awful|horribl|feel|upset|frustrat|worr"
    r"|unfortunat|sympath|condolen|hard time|tough|rough|poor|oh no|excuse|pardon|forgive|regret|hurt"
    r"|miss|lost|death|die",
    re.I,
)
GREETING = re.compile(
    r"\b(hi+|hello|hey+|hiya|howdy|morning|evening|afternoon|greetings|welcome|how are (yo)?u|how's it going"
    r"|how is it going|how are things|nice to (meet|chat|talk)|good day)\b",
    re.I,
)
OPENING_MESSAGES = 2  # the first messages of a chat may greet: never a greeting fail


def read(paths: list[Path]) -> Iterator[Label]:
    """Weak negatives from ``conversations/*.json`` ({id: {"content": [{"message": ...}]}})."""
    for path in files_under(paths, "*.json"):
        if path.parent.name != "conversations":
            continue
        chats = json.loads(path.read_text(encoding="utf-8"))
        for chat_id, chat in sorted(chats.items()):
            for n, turn in enumerate(chat.get("content") or []):
                text = " ".join(str(turn.get("message") or "").split())
                if not text:
                    continue
                kept = []
                if not SYMPATHY.search(text):
                    kept.append("empathy")
                if n >= OPENING_MESSAGES and not GREETING.search(text):
                    kept.append("greeting")
                for criterion in kept:
                    yield corpus_label(
                        NAME,
                        chat_id,
                        text,
                        criterion,
                        False,
                        language="en",
                        channel="chat",
                        speaker="customer",
                        reason=f"weak negative: open-domain chat message {n + 1} without {criterion} words",
                    )


CORPUS = register(
    Corpus(
        name=NAME,
        repository="alexa/Topical-Chat",
        licence="CDLA-Sharing-1.0",
        commercial_use=True,
        criteria=("empathy", "greeting"),
        languages=("en",),
        description="Topical-Chat open-domain chat messages: weak negatives for empathy and greeting",
        read=read,
    )
)
