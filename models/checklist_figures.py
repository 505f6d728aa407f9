"""Real-text figures for the audit-checklist criteria that a public corpus labels (run:
``.venv/bin/python models/checklist_figures.py MULTIWOZ [RUSSIAN]``; MULTIWOZ: the folder
``data/multiwoz`` of thu-coai/ConvLab-2, whose ``test.json.zip`` is MultiWOZ 2.1's test split;
RUSSIAN: a checkout of vonCount/Russian-MultiWOZ, whose ``test_dialogues_*`` translate it).
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
"""

from __future__ import annotations

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


def main() -> None:
    every = agent_turns(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None)
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
