"""Real-text figures for the audit-checklist criteria that a public corpus labels (run:
``.venv/bin/python models/checklist_figures.py PATH``, PATH: the MultiWOZ 2.1 test split as
ConvLab-2 ships it, ``data/multiwoz/test.json.zip`` of thu-coai/ConvLab-2). Nothing here
tunes the rubric: the phrases were written before this ran, and the numbers are recorded in
models/checklist_figures.md as they came out.

- closing_question against MultiWOZ's ``general-reqmore`` system act ("Is there anything else
  I can help you with?"): each system turn scored alone.
- alternatives: on system turns whose acts say the request cannot be met (``*-NoBook``,
  ``*-NoOffer``), how often the rubric sees a refusal at all (the criterion applies), and of
  those, how well a pass matches an alternative that MultiWOZ marks by a ``Recommend``,
  ``Select`` or ``Request`` act in the same turn.
"""

from __future__ import annotations

import sys
from pathlib import Path

from qa_pipeline.corpora.multiwoz import detokenize, dialogues
from qa_pipeline.interactions import Interaction, Turn
from qa_pipeline.metrics import binary_metrics
from qa_pipeline.rubric import load_rubric
from qa_pipeline.scoring import score_interactions

ROOT = Path(__file__).resolve().parents[1]


def agent_turns(path: Path) -> list[dict]:
    """The system turns of the dialogues in ``path``, with their act names."""
    return [
        {"text": detokenize(text), "language": "en", "acts": acts}
        for _, turns in dialogues([path])
        for n, (text, acts) in enumerate(turns)
        if n % 2 == 1 and text.strip()
    ]


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
    rows = agent_turns(Path(sys.argv[1]))
    truth = ["general-reqmore" in r["acts"] for r in rows]
    found = [res == "pass" for res in judged(rows, "closing_question")]
    m = binary_metrics(truth, found)
    print(
        f"| closing_question | MultiWOZ 2.1 test, system turns | {len(rows)} ({sum(truth)} reqmore) "
        f"| precision {m['precision']:.2f} | recall {m['recall']:.2f} | F1 {m['f1']:.2f} |"
    )
    refused = [r for r in rows if any(a.endswith(("NoBook", "NoOffer")) for a in r["acts"])]
    results = judged(refused, "alternatives")
    applied = [(r, res) for r, res in zip(refused, results, strict=True) if res != "na"]
    offered = [
        any(a.split("-")[-1] in ("Recommend", "Select", "Request") for a in r["acts"]) for r, _ in applied
    ]
    passed = [res == "pass" for _, res in applied]
    m = binary_metrics(offered, passed)
    print(
        f"| alternatives | MultiWOZ 2.1 test, NoBook/NoOffer system turns | {len(refused)} "
        f"| refusal seen in {len(applied)} ({len(applied) / max(len(refused), 1):.0%}) "
        f"| of those, alternative (Recommend/Select/Request act): precision {m['precision']:.2f}, "
        f"recall {m['recall']:.2f} |"
    )


if __name__ == "__main__":
    sys.exit(main())
