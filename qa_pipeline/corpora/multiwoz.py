"""MultiWOZ 2.1 (Budzianowski et al., MIT) and Russian MultiWOZ (Nikitin & Kopachinskaya,
MIT): written tourist-information dialogues between crowd workers, every turn annotated
with dialogue acts.

*thanks* passes on a turn annotated ``general-thank`` and fails on a turn with no
``general-*`` act at all. Turns whose only social act is a goodbye, a welcome or an offer
of more help are left out: annotators often leave the "thank you" inside them
unannotated ("Thank you for using our service. Goodbye.").

The agents' (system) turns also say what *empathy* is not: real agent-side sentences that
inform, book, offer or ask ("Your booking is confirmed, the reference number is ...", "There
are 5 hotels in the north"). Each agent turn that names no apology or sympathy word is an
empathy fail (a weak negative: MultiWOZ has no empathy act, so the apologies in its
"no availability" turns are left out rather than called passes).

``multiwoz`` reads the dialogues with their acts as ConvLab-2 ships them
(``data/multiwoz/{train,val,test}.json.zip``, or the unzipped ``*.json``; MultiWOZ 2.1's
``data.json`` has the same shape). ``russian-multiwoz`` needs that checkout too: the
Russian repository's ``interim/v1/{english,russian}`` files are line-aligned translations
without acts, so each Russian line takes the acts of the English turn it translates. The
translations were made by the corpus authors; a dialogue and its translation share a split.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qa_pipeline.corpora.core import Corpus, corpus_label, files_under, register
from qa_pipeline.labels import Label

NAME, RUSSIAN = "multiwoz", "russian-multiwoz"
AMBIGUOUS = {"general-bye", "general-welcome", "general-reqmore", "general-greet"}
DETOKENIZE = [
    (re.compile(r" ([.,!?;:%)])"), r"\1"),
    (re.compile(r"\( "), "("),
    (re.compile(r" (n't|'s|'re|'m|'ll|'ve|'d)\b", re.I), r"\1"),
    (re.compile(r"\s+"), " "),
]


def detokenize(text: str) -> str:
    """ConvLab's tokenised text back to how it was typed: "I 'm here ." -> "I'm here."."""
    for pattern, repl in DETOKENIZE:
        text = pattern.sub(repl, text)
    return text.strip()


def key(text: str) -> str:
    """A spelling-insensitive key to align one turn across releases: letters and digits only."""
    return re.sub(r"[\W_]+", "", text.replace("[", "").replace("]", "").lower())


# Apology or sympathy words in either language: such agent turns are left out of empathy.
SYMPATHY = re.compile(
    r"sorr|apolog|unfortunat|afraid|understand|regret|pity|shame|извин|прост|сожал|жаль|понима|сочувств"
    r"|неприятн|увы",
    re.I,
)


def empathy_fail(text: str, agent: bool) -> bool:
    """Whether a turn is a weak empathy negative: an agent turn without sympathy words."""
    return agent and not SYMPATHY.search(text)


def thanks_label(acts: set[str]) -> bool | None:
    """The turn's *thanks* outcome from its acts, or None when they leave it open."""
    if "general-thank" in acts:
        return True
    if acts & AMBIGUOUS or not acts:
        return None
    return False


def dialogues(paths: list[Path]) -> Iterator[tuple[str, list[tuple[str, set[str]]]]]:
    """(dialogue id, [(turn text, its act names)]) from ConvLab-2 zips or MultiWOZ JSON."""
    seen: set[str] = set()
    for f in [*files_under(paths, "*.json.zip"), *files_under(paths, "*.json")]:
        if f.suffix == ".zip":
            with zipfile.ZipFile(f) as z:
                inner = [n for n in z.namelist() if n.endswith(".json")]
                data = json.loads(z.read(inner[0])) if inner else {}
        elif f.name in ("data.json", "train.json", "val.json", "test.json"):
            data = json.loads(f.read_text(encoding="utf-8"))
        else:
            continue
        if not isinstance(data, dict):
            continue
        for dialogue_id, dialogue in data.items():
            if dialogue_id in seen or not isinstance(dialogue, dict) or "log" not in dialogue:
                continue
            seen.add(dialogue_id)
            turns = [(t.get("text", ""), set(t.get("dialog_act") or {})) for t in dialogue["log"]]
            yield dialogue_id.removesuffix(".json"), turns


def _turn_labels(
    corpus: str, dialogue: str, text: str, acts: set[str], agent: bool, said: str, **extra: Any
) -> Iterator[Label]:
    """A turn's *thanks* label (from its acts) and, for an agent's turn without apology or
    sympathy words, its *empathy* negative."""
    outcomes = {"thanks": thanks_label(acts), "empathy": False if empathy_fail(text, agent) else None}
    for criterion, outcome in outcomes.items():
        if outcome is not None:
            yield corpus_label(
                corpus,
                dialogue,
                text,
                criterion,
                outcome,
                channel="chat",
                speaker="agent" if agent else "customer",
                reason=said + ",".join(sorted(acts)),
                **extra,
            )


def read(paths: list[Path]) -> Iterator[Label]:
    """English *thanks* labels from MultiWOZ dialogues with acts."""
    for dialogue_id, turns in dialogues(paths):
        for n, (text, acts) in enumerate(turns):
            agent, text = n % 2 == 1, detokenize(text)
            if not text:
                continue
            yield from _turn_labels(NAME, dialogue_id, text, acts, agent, "acts: ", language="en")


def russian_turns(paths: list[Path]) -> Iterator[tuple[str, int, str, set[str], str]]:
    """(dialogue id, turn number from 1, Russian text, acts of the English turn, file stem):
    each translated line with the acts of the English turn it translates.

    The aligned files hold whole dialogues one after another: a line continues the current
    dialogue when it is that dialogue's next English turn, or starts the dialogue whose
    first turn it is; lines of dialogues we have no acts for are skipped.
    """
    by_id = dict(dialogues(paths))
    starts: dict[str, str] = {}
    for dialogue_id, turns in by_id.items():
        if turns:
            starts.setdefault(key(turns[0][0]), dialogue_id)
    for en_file in files_under(paths, "*.txt"):
        ru_file = en_file.parent.parent / "russian" / f"{en_file.stem}_ru.txt"
        if en_file.parent.name != "english" or not ru_file.exists():
            continue
        en_lines = en_file.read_text(encoding="utf-8").splitlines()
        ru_lines = ru_file.read_text(encoding="utf-8").splitlines()
        current: str | None = None
        position = 0
        for en, ru in zip(en_lines, ru_lines, strict=False):
            k = key(en)
            expected = by_id.get(current) if current else None
            if expected and position < len(expected) and key(expected[position][0]) == k:
                position += 1
            elif k in starts:
                current, position = starts[k], 1
            else:
                current = None
                continue
            assert current is not None
            yield current, position, ru, by_id[current][position - 1][1], en_file.stem


def read_russian(paths: list[Path]) -> Iterator[Label]:
    """Russian *thanks* labels: each translated line takes the acts of its English turn."""
    for dialogue_id, position, ru, acts, _ in russian_turns(paths):
        agent, text = position % 2 == 0, ru.replace("[", "").replace("]", "").strip()
        if not text:
            continue
        yield from _turn_labels(
            RUSSIAN, dialogue_id, text, acts, agent, "acts of the English turn: ", family=NAME, language="ru"
        )


register(
    Corpus(
        name=NAME,
        repository="thu-coai/ConvLab-2 (data/multiwoz; MultiWOZ 2.1 from budzianowski/multiwoz)",
        licence="MIT (MultiWOZ); ConvLab-2 code Apache-2.0",
        commercial_use=True,
        criteria=("thanks", "empathy"),
        languages=("en",),
        description="MultiWOZ 2.1 turns with their acts (general-thank); agent turns as empathy fails",
        read=read,
    )
)
register(
    Corpus(
        name=RUSSIAN,
        repository="vonCount/Russian-MultiWOZ (with the MultiWOZ acts from thu-coai/ConvLab-2)",
        licence="MIT",
        commercial_use=True,
        criteria=("thanks", "empathy"),
        languages=("ru",),
        description="Russian MultiWOZ translations with the acts of the English turns they translate",
        read=read_russian,
    )
)
