"""USS (User Satisfaction Simulation): MultiWOZ dialogues with their users' overall satisfaction.

``dataset/MWOZ.txt`` of ``sunnweiwei/user-satisfaction-simulation`` holds 1,000 MultiWOZ
dialogues; after each one, several annotators rated the whole dialogue (``USER OVERALL``,
1 = very dissatisfied .. 5 = very satisfied). Those ratings are the outcome that the
resolution criterion is evaluated against: on balance dissatisfied (mean below 3) is "not
resolved". It is a proxy (a booked table with a rude agent is resolved but unsatisfying),
and the README says so. The corpus's SGD.txt is Schema-Guided Dialogue, reserved for
independent evaluation: this reader never opens it.

Outcome corpora are prepared into Interaction JSONL (the public contract), each with
``metadata.outcome``, and read by ``qa evaluate --outcomes``; nothing here is trained on.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from qa_pipeline.corpora.core import Corpus, files_under, register, split_of
from qa_pipeline.interactions import Interaction, Turn, content_hash

NAME = "uss-multiwoz"
SPEAKERS = {"USER": "customer", "SYSTEM": "agent"}


def sessions(path: Path) -> Iterator[list[list[str]]]:
    """The file's sessions: lists of tab-separated fields, one list per line."""
    block: list[list[str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if block:
                yield block
            block = []
            continue
        block.append(line.split("\t"))
    if block:
        yield block


def read(paths: list[Path]) -> Iterator[Interaction]:
    """One Interaction per rated dialogue of MWOZ.txt, with its overall ratings."""
    for path in files_under(paths, "MWOZ.txt"):
        for block in sessions(path):
            overall = next((f for f in block if len(f) > 1 and f[1] == "OVERALL"), None)
            turns = [
                Turn(speaker=SPEAKERS[f[0]], text=f[1].strip())  # type: ignore[arg-type]
                for f in block
                if len(f) > 1 and f[0] in SPEAKERS and f[1] != "OVERALL" and f[1].strip()
            ]
            if overall is None or len(overall) < 4 or not turns:
                continue
            ratings = [int(x) for x in overall[3].split(",") if x.strip().isdigit()]
            if not ratings:
                continue
            dialogue = content_hash(*(t.text for t in turns))
            mean = sum(ratings) / len(ratings)
            yield Interaction(
                id=f"chat:{NAME}:{dialogue}",
                channel="chat",
                language="en",
                source=f"{NAME}:{path.name}",
                turns=turns,
                metadata={
                    "corpus": NAME,
                    "dialogue": dialogue,
                    "split": split_of(NAME, dialogue),
                    "outcome": {
                        "ratings": ratings,
                        "mean": round(mean, 3),
                        "resolved": mean >= 3,
                        # the stricter reading: most annotators said dissatisfied (1 or 2)
                        "clearly_unresolved": sum(r <= 2 for r in ratings) * 2 > len(ratings),
                    },
                },
            )


CORPUS = register(
    Corpus(
        name=NAME,
        repository="sunnweiwei/user-satisfaction-simulation",
        licence="no licence file (dialogues from MultiWOZ, MIT); used for evaluation only, no text committed",
        commercial_use=False,
        criteria=("resolution",),
        languages=("en",),
        description="MultiWOZ dialogues with annotators' overall user satisfaction (1-5): the "
        "outcome the resolution criterion is evaluated against",
        read=read,  # type: ignore[arg-type]
        outcomes=True,
    )
)
