"""MultiDoGO (Amazon, CDLA-Permissive 1.0): customer turns of real-time chats between
crowd-sourced customers and agents in six domains (airline, fast food, finance,
insurance, media, software), each sentence annotated with its intents.

``openinggreeting`` gives *greeting*, ``thankyou`` gives *thanks*; every other annotated
sentence (confirmations, rejections, closing greetings, requests) is a fail for both. The
text is informal, often lower case, with typos: what chats look like.

The same annotations also say what a sentence is *not*: an "ok", a "sure", an account
number or a request is no *empathy*. Those sentences are empathy fails (ESConv alone has
no such short acknowledgements among its fails, and a model trained on it alone took "Okay."
for empathy). Sentences that apologise or sympathise in their own words ("sorry", "I
understand") are left out of that, since their intent label does not speak to it.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

from qa_pipeline.corpora.core import Corpus, corpus_label, files_under, register
from qa_pipeline.labels import Label

NAME = "multidogo"
INTENTS = {"greeting": "openinggreeting", "thanks": "thankyou"}
# Intents that say the sentence does something other than acknowledge feelings.
NOT_EMPATHY = {"confirmation", "rejection", "contentonly", "openinggreeting", "closinggreeting", "thankyou"}
SYMPATHY = re.compile(r"sorr|apolog|understand|worr|feel|sad|upset|frustrat|pity", re.I)


def read(paths: list[Path]) -> Iterator[Label]:
    """Labels from ``data/paper_splits/splits_annotated_at_sentence_level/*/*.tsv``."""
    seen: set[tuple[str, str]] = set()
    for tsv in files_under(paths, "*.tsv"):
        if "turn_level" in str(tsv):  # the same turns again, annotated whole
            continue
        with tsv.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
                text, intents = (row.get("utterance") or "").strip(), (row.get("intent") or "").strip()
                if not text or not intents:
                    continue
                found = set(intents.split("<div>"))
                dialogue = f"{tsv.parent.name}/{row['conversationId']}"
                if (dialogue, text) in seen:
                    continue
                seen.add((dialogue, text))
                outcomes = {criterion: intent in found for criterion, intent in INTENTS.items()}
                if found <= NOT_EMPATHY and not SYMPATHY.search(text):
                    outcomes["empathy"] = False
                for criterion, passed in outcomes.items():
                    yield corpus_label(
                        NAME,
                        dialogue,
                        text,
                        criterion,
                        passed,
                        language="en",
                        channel="chat",
                        speaker="customer",
                        reason=f"intent: {intents}",
                    )


CORPUS = register(
    Corpus(
        name=NAME,
        repository="awslabs/multi-domain-goal-oriented-dialogues-dataset",
        licence="CDLA-Permissive-1.0",
        commercial_use=True,
        criteria=(*INTENTS, "empathy"),
        languages=("en",),
        description="MultiDoGO customer sentences with their annotated intents (opening greeting, thank you)",
        read=read,
    )
)
