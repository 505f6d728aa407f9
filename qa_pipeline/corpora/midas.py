"""MIDAS (Yu and Yu, 2019): what people said to an open-domain voice chatbot (Alexa Prize),
as speech recognition wrote it (lower case, no punctuation), each utterance annotated
with its dialogue acts.

``opening`` gives *greeting*, ``thanking`` gives *thanks*, ``apology`` gives *empathy*
(an apology to the other speaker); every other annotated utterance is a fail for all three.
It is small (26 openings, 80 thanks, 29 apologies among 12,900 utterances) but it is
informal, transcribed speech on any topic: the kind of text a model trained on written
customer-service chats has never seen, so it shows how often the classifier passes
ordinary talk.

The data (``da_data/*.txt``) was removed from the repository's newest commit; the reader
takes a checkout of an older commit (the manifest records which) or the files themselves.
The repository's LICENSE is the Apache-2.0 of the BERT code it forks; the data's own
terms are not stated, so it is evaluation only: ``qa train`` refuses it, and its
utterances are split half validation (rules may be checked on it), half test.
A line gives no dialogue id, so each line is its own unit of the split.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from qa_pipeline.corpora.core import Corpus, corpus_label, files_under, register
from qa_pipeline.labels import Label

NAME = "midas"
ACTS = {"greeting": "opening", "thanks": "thanking", "empathy": "apology"}


def utterances(path: Path) -> Iterator[tuple[str, set[str]]]:
    """(user utterance, its acts) per line ``bot : previous > utterance ## act;act;``."""
    for line in path.read_text(encoding="utf-8").splitlines():
        context, sep, acts = line.rpartition(" ## ")
        if not sep:
            continue
        text = context.rpartition(" > ")[2].strip()
        found = {a.strip() for a in acts.split(";") if a.strip()}
        if text and found:
            yield text, found


def read(paths: list[Path]) -> Iterator[Label]:
    """Labels from ``da_data/train.txt`` and ``da_data/dev.txt`` (both: our own split).
    Repeated utterances ("thank you", "yes") stay, one per line, as often as people said them."""
    for path in files_under(paths, "*.txt"):
        if path.parent.name != "da_data" or path.stem not in ("train", "dev"):
            continue
        for n, (text, acts) in enumerate(utterances(path), 1):
            for criterion, act in ACTS.items():
                yield corpus_label(
                    NAME,
                    f"{path.stem}:{n}",
                    text,
                    criterion,
                    act in acts,
                    language="en",
                    channel="call",
                    speaker="customer",
                    reason=f"acts: {';'.join(sorted(acts))}",
                )


CORPUS = register(
    Corpus(
        name=NAME,
        repository="DianDYu/MIDAS_dialog_act",
        licence="data terms not stated (repository LICENSE: Apache-2.0, of the code); evaluation only",
        commercial_use=False,
        criteria=tuple(ACTS),
        languages=("en",),
        description="MIDAS: transcribed user utterances to a voice chatbot with dialogue acts (opening, "
        "thanking, apology)",
        read=read,
        evaluation_only=True,
    )
)
