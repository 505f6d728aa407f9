"""Human labels for the classifier: one turn, one criterion, pass or fail.

The format (JSONL, one object per line; or CSV with the same column names)::

    {"text": "sorry to hear that, let's get it sorted", "criterion": "empathy",
     "label": "pass", "language": "en", "channel": "chat", "speaker": "agent",
     "source": "bundled"}

- ``text``, or ``interaction_id`` + ``turn`` (the text is then read from the store);
- ``criterion``: a rubric criterion id; ``label``: ``pass`` | ``fail``;
- ``language`` (ISO 639-1), ``channel`` and ``speaker`` (default ``agent``) are optional;
- ``source``: ``bundled`` (written for this project), ``grader`` (a QA grader's
  correction, see ``qa feedback import``), ``weak-rule`` (a rule's own decision) or
  ``corpus`` (a public corpus's own annotators, see ``qa corpus prepare``);
- ``grader`` and ``reason`` may say who decided and why;
- corpus labels also carry ``corpus``, ``dialogue`` (labels of one dialogue always share
  a split), ``split`` (``train`` | ``valid`` | ``test``) and, where annotators gave a
  graded judgement (politeness), ``rating``.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from qa_pipeline.bundled import bundled
from qa_pipeline.errors import QAError

BUNDLED_TRAIN = bundled("models", "labels/train.jsonl")
BUNDLED_HELDOUT = bundled("models", "labels/heldout.jsonl")


class Label(BaseModel):
    """One labelled turn for one criterion."""

    model_config = {"extra": "ignore"}

    text: str | None = None
    interaction_id: str | None = None
    turn: int | None = Field(default=None, ge=0)
    criterion: str = Field(min_length=1)
    label: Literal["pass", "fail"]
    language: str | None = None
    channel: Literal["call", "chat", "email"] | None = None
    speaker: Literal["agent", "customer", "bot", "unknown"] = "agent"
    source: Literal["bundled", "grader", "weak-rule", "corpus"] = "bundled"
    grader: str | None = None
    reason: str | None = None
    corpus: str | None = None
    dialogue: str | None = None
    split: Literal["train", "valid", "test"] | None = None
    rating: float | None = None

    @model_validator(mode="after")
    def _text_or_turn(self) -> Label:
        if not (self.text and self.text.strip()) and (self.interaction_id is None or self.turn is None):
            raise ValueError("needs 'text', or 'interaction_id' and 'turn'")
        return self


def read_labels(path: Path) -> list[Label]:
    """Labels from a JSONL or CSV file; an invalid row raises QAError naming its line."""
    path = Path(path)
    if not path.exists():
        raise QAError(f"labels file {path} not found")
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows: list[tuple[int, dict]] = [
                (n, {k.strip(): (v.strip() or None) for k, v in row.items() if k})
                for n, row in enumerate(csv.DictReader(handle), start=2)
            ]
    else:
        rows = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append((n, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise QAError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
    labels = []
    for n, row in rows:
        if isinstance(row, dict) and isinstance(row.get("label"), str):
            row["label"] = row["label"].strip().lower()
        try:
            labels.append(Label.model_validate(row))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "row"
            raise QAError(f"{path}:{n}: {where}: {first['msg']}") from None
    return labels


def labels_hash(labels: Iterable[Label]) -> str:
    """SHA-256 over the labels that training uses, independent of their order."""
    lines = sorted(
        json.dumps([lb.text, lb.criterion, lb.label, lb.language, lb.speaker], ensure_ascii=False)
        for lb in labels
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def text_key(text: str | None) -> str:
    """A label's text as compared for sameness: lower case, runs of whitespace as one space."""
    return " ".join((text or "").split()).lower()


def latest_per_turn(labels: Iterable[Label]) -> list[Label]:
    """One label per (text, criterion): a later label (a grader's) replaces an earlier one."""
    kept: dict[tuple[str, str], Label] = {}
    for lb in labels:
        key = (text_key(lb.text), lb.criterion)
        kept.pop(key, None)
        kept[key] = lb
    return list(kept.values())


def rule_labels(rubric) -> list[Label]:
    """Weak labels from a rubric's own phrase packs: each phrase passes its criterion; each
    negative phrase fails every criterion. A phrase is not made a 'fail' for the other
    criteria: "thank you for calling" opens a call and also thanks the caller.
    """
    from qa_pipeline.rubric import Phrase

    def words(items) -> set[str]:
        return {(p.text if isinstance(p, Phrase) else p).lower() for p in items}

    ids = [c.id for c in rubric.criteria]
    labels = []
    for lang in rubric.languages:
        positive = {c.id: words(c.phrases.get(lang, [])) for c in rubric.criteria}
        negative = set().union(*(words(c.negative.get(lang, [])) for c in rubric.criteria))
        for text in sorted(set().union(*positive.values()) | negative):
            for criterion in ids:
                passes = text in positive[criterion] and text not in negative
                if not passes and text not in negative:
                    continue
                labels.append(
                    Label(
                        text=text,
                        criterion=criterion,
                        label="pass" if passes else "fail",
                        language=lang,
                        source="weak-rule",
                    )
                )
    return labels
