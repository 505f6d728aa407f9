"""Real-text figures for the audit-checklist criteria that a public corpus labels (run:
``.venv/bin/python models/checklist_figures.py MULTIWOZ [RUSSIAN] [--czech CS_RESTAURANT]``, or
``--czech-misses CS_RESTAURANT``;
MULTIWOZ: the folder ``data/multiwoz`` of thu-coai/ConvLab-2, whose ``test.json.zip`` is
MultiWOZ 2.1's test split; RUSSIAN: a checkout of vonCount/Russian-MultiWOZ, whose
``test_dialogues_*`` translate it; CS_RESTAURANT: a checkout of UFAL-DSG/cs_restaurant_dataset,
Czech system utterances with their dialogue acts).
Nothing here tunes the rubric: the phrases were written before this ran, and the numbers
are recorded in models/checklist_figures.md as they came out.

- closing_question against MultiWOZ's ``general-reqmore`` system act ("Is there anything else
  I can help you with?"): each system turn scored alone; in Russian, each translated system
  turn with the acts of the English turn it translates.
- alternatives: on system turns whose acts say the request cannot be met (``*-NoBook``,
  ``*-NoOffer``), how often the rubric sees a refusal at all (the criterion applies), and of
  those, how well a pass matches an alternative that MultiWOZ marks by a ``Recommend``,
  ``Select`` or ``Request`` act in the same turn; and how often it sees a refusal in the
  other system turns (where none was annotated).

Czech (the restaurant dataset: each distinct utterance once, from train, devel and test alike,
since the authors put every ``reqmore`` in train; split in two halves by a hash of the text:
``--czech-misses`` prints the misses of the study half, the only ones ever read to extend
phrases, and the figures are of the report half):
- closing_question against the ``reqmore`` act ("Mohu pro vás ještě něco udělat?");
- problem_confirmation's phrases against the ``confirm`` act, the system checking a search
  parameter with the customer ("Takže si přejete něco levného?"). Only the phrases are
  looked for: an utterance alone has no customer turn, so the criterion itself would be N/A;
- alternatives: how often a refusal is seen in ``inform_no_match`` utterances ("V Dejvicích
  nejsou žádné restaurace ...") and in the others.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

from qa_pipeline.corpora.multiwoz import detokenize, dialogues, russian_turns
from qa_pipeline.interactions import Interaction, Turn
from qa_pipeline.metrics import binary_metrics
from qa_pipeline.rubric import load_rubric
from qa_pipeline.scoring import score_interactions

ROOT = Path(__file__).resolve().parents[1]


def agent_turns(multiwoz: Path, russian: Path | None) -> list[dict]:
    """The test split's system turns with their act names: English, then Russian if given."""
    rows = [
        {"text": detokenize(text), "language": "en", "acts": acts}
        for _, turns in dialogues([multiwoz / "test.json.zip"])
        for n, (text, acts) in enumerate(turns)
        if n % 2 == 1 and text.strip()
    ]
    if russian is not None:
        rows += [
            {"text": ru.replace("[", "").replace("]", ""), "language": "ru", "acts": acts}
            for _, position, ru, acts, stem in russian_turns([multiwoz, russian])
            if stem.startswith("test") and position % 2 == 0 and ru.strip()
        ]
    return rows


def judged(rows: list[dict], criterion: str) -> list[str]:
    rubric = load_rubric(ROOT / "rubrics" / "audit-checklist.yaml")
    items = [
        Interaction(
            id=f"chat:fig:{n}",
            channel="chat",
            agent_id="a",
            language=r["language"],
            turns=[Turn(speaker="agent", text=r["text"])],
        )
        for n, r in enumerate(rows)
    ]
    return [s.criteria[criterion].result for s in score_interactions(items, rubric)]


def czech_turns(checkout: Path) -> list[dict]:
    """Each distinct Czech system utterance of the restaurant dataset with its act types."""
    rows: dict[str, set[str]] = {}
    for name in ("train.json", "devel.json", "test.json"):
        for item in json.loads((checkout / name).read_text(encoding="utf-8")):
            # "?confirm(price_range=cheap)&inform(...)"; a value may hold "&" too, hence the regex
            acts = set(re.findall(r"(?:^|&)\??([a-z_]+)\(", item["da"]))
            text = re.sub(r" ([.,!?])", r"\1", item["text"])  # the corpus spaces punctuation off
            rows.setdefault(text, set()).update(acts)
    return [{"text": t, "language": "cs", "acts": a} for t, a in rows.items()]


def phrase_found(rows: list[dict], criterion: str) -> list[bool]:
    """Whether the audit checklist's phrases for ``criterion`` are found in each row's text."""
    from qa_pipeline.rules import RuleEngine

    engine = RuleEngine(load_rubric(ROOT / "rubrics" / "audit-checklist.yaml"))
    hits = engine.find_hits([r["text"] for r in rows], "cs")
    return [any(h.criterion == criterion and h.kind == "phrase" for h in found) for found in hits]


def czech_half(text: str) -> str:
    """The half an utterance belongs to: a stable hash of its text."""
    return "study" if hashlib.sha256(text.encode("utf-8")).digest()[0] % 2 == 0 else "report"


def czech_misses(checkout: Path) -> None:
    """The study half's utterances whose act a criterion's phrases missed (or found wrongly)."""
    rows = [r for r in czech_turns(checkout) if czech_half(r["text"]) == "study"]
    for criterion, act in (("closing_question", "reqmore"), ("problem_confirmation", "confirm")):
        for r, found in zip(rows, phrase_found(rows, criterion), strict=True):
            if found != (act in r["acts"]):
                print(f"{criterion}\t{'missed' if not found else 'false'}\t{r['text']}")
    refused = [r for r in rows if "inform_no_match" in r["acts"]]
    for r, res in zip(refused, judged(refused, "alternatives"), strict=True):
        if res == "na":
            print(f"alternatives\tmissed refusal\t{r['text']}")


def czech(checkout: Path) -> None:
    rows = [r for r in czech_turns(checkout) if czech_half(r["text"]) == "report"]
    name = "Czech restaurant dataset, report half"
    for criterion, act in (("closing_question", "reqmore"), ("problem_confirmation", "confirm")):
        truth = [act in r["acts"] for r in rows]
        if criterion == "closing_question":
            found = [res == "pass" for res in judged(rows, criterion)]
        else:
            found = phrase_found(rows, criterion)
        m = binary_metrics(truth, found)
        print(
            f"| {criterion} vs `{act}` | {name} | {len(rows)} ({sum(truth)} {act}) "
            f"| precision {m['precision']:.2f} | recall {m['recall']:.2f} | F1 {m['f1']:.2f} |"
        )
    refused = [r for r in rows if "inform_no_match" in r["acts"]]
    seen = sum(res != "na" for res in judged(refused, "alternatives"))
    others = [r for r in rows if "inform_no_match" not in r["acts"]]
    false_topic = sum(res != "na" for res in judged(others, "alternatives"))
    print(
        f"| alternatives: refusal seen | {name}, `inform_no_match` utterances | {len(refused)} "
        f"| {seen} ({seen / max(len(refused), 1):.0%}) | other utterances: {false_topic} of "
        f"{len(others)} ({false_topic / max(len(others), 1):.1%}) | |"
    )


def main() -> None:
    args = sys.argv[1:]
    if "--czech-misses" in args:
        czech_misses(Path(args[args.index("--czech-misses") + 1]))
        return
    if "--czech" in args:
        at = args.index("--czech")
        czech(Path(args[at + 1]))
        del args[at : at + 2]
    if not args:
        return
    every = agent_turns(Path(args[0]), Path(args[1]) if len(args) > 1 else None)
    for lang, name in (("en", "MultiWOZ 2.1"), ("ru", "Russian MultiWOZ")):
        rows = [r for r in every if r["language"] == lang]
        if not rows:
            continue
        truth = ["general-reqmore" in r["acts"] for r in rows]
        found = [res == "pass" for res in judged(rows, "closing_question")]
        m = binary_metrics(truth, found)
        print(
            f"| closing_question | {name} test, system turns | {len(rows)} ({sum(truth)} reqmore) "
            f"| precision {m['precision']:.2f} | recall {m['recall']:.2f} | F1 {m['f1']:.2f} |"
        )
        refused = [r for r in rows if any(a.endswith(("NoBook", "NoOffer")) for a in r["acts"])]
        results = judged(refused, "alternatives")
        applied = [(r, res) for r, res in zip(refused, results, strict=True) if res != "na"]
        offered = [
            any(a.split("-")[-1] in ("Recommend", "Select", "Request") for a in r["acts"]) for r, _ in applied
        ]
        m = binary_metrics(offered, [res == "pass" for _, res in applied])
        others = [r for r in rows if not any(a.endswith(("NoBook", "NoOffer")) for a in r["acts"])]
        false_topic = sum(res != "na" for res in judged(others, "alternatives"))
        print(
            f"| alternatives | {name} test, NoBook/NoOffer system turns | {len(refused)} "
            f"| refusal seen in {len(applied)} ({len(applied) / max(len(refused), 1):.0%}) "
            f"| of those, alternative (Recommend/Select/Request act): precision {m['precision']:.2f}, "
            f"recall {m['recall']:.2f} |"
        )
        print(
            f"| alternatives | {name} test, the other system turns | {len(others)} "
            f"| refusal seen in {false_topic} ({false_topic / max(len(others), 1):.1%}) | | |"
        )


if __name__ == "__main__":
    sys.exit(main())
