"""TyDiP (Srinivasan & Choi 2022, MIT): requests from Wikipedia talk pages in nine
languages, each rated for politeness by native-speaker annotators (scores roughly -2..2).

*positive language* passes on a request rated polite (score above 0) and fails otherwise;
the rating itself is kept, so ``qa evaluate`` can report how well scores rank politeness
(AUC). Russian is one of our languages; the others (af, es, fr, hi, hu, ko, ta, vi) teach
a multilingual model what politeness looks like beyond English.

The English split is built from the Stanford Politeness Corpus, which is reserved for
independent evaluation: it is never read.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from pathlib import Path

from qa_pipeline.corpora.core import Corpus, corpus_label, files_under, register
from qa_pipeline.labels import Label

NAME = "tydip"
RESERVED_LANGUAGES = {"en"}  # Stanford Politeness Corpus: reserved for independent evaluation


def read(paths: list[Path]) -> Iterator[Label]:
    """Labels from ``data/all/{lang}_test.csv`` (sentence, score) for every language but English."""
    for f in files_under(paths, "*_test.csv"):
        lang = f.name.split("_")[0]
        if lang in RESERVED_LANGUAGES or f.parent.name != "all":
            continue
        with f.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                text, score = (row.get("sentence") or "").strip(), row.get("score")
                if not text or score in (None, ""):
                    continue
                rating = float(score)
                # Each request stands alone: its own "dialogue".
                request = hashlib.sha256(f"{lang}:{text}".encode()).hexdigest()[:16]
                yield corpus_label(
                    NAME,
                    request,
                    text,
                    "positive_language",
                    rating > 0,
                    language=lang,
                    channel="email",
                    speaker="customer",
                    rating=round(rating, 4),
                )


register(
    Corpus(
        name=NAME,
        repository="Genius1237/TyDiP",
        licence="MIT",
        commercial_use=True,
        criteria=("positive_language",),
        languages=("af", "es", "fr", "hi", "hu", "ko", "ru", "ta", "vi"),
        description="TyDiP non-English requests with annotators' politeness scores (English never read)",
        read=read,
    )
)
