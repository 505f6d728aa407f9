"""The corpora's shared API (Corpus, register, splits, prepare, read); the package
docstring (``qa_pipeline.corpora``) says how corpora are used and which are reserved."""

from __future__ import annotations

import hashlib
import importlib
import json
import subprocess
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa_pipeline.errors import QAError
from qa_pipeline.labels import Label, read_labels
from qa_pipeline.registrations import BUILTINS

SPLITS = {"train": 70, "valid": 85, "test": 100}  # cumulative percentages of dialogues
# Corpora we may only evaluate on (no licence to learn from them): no training split.
EVALUATION_SPLITS = {"valid": 50, "test": 100}
# Never prepared, never trained on: kept for evaluations by people outside the team.
RESERVED = {
    "swda": "Switchboard / SwDA",
    "switchboard": "Switchboard / SwDA",
    "mrda": "the ICSI Meeting Recorder Dialog Act corpus",
    "politeness": "the Stanford Politeness Corpus",
    "stanford-politeness": "the Stanford Politeness Corpus",
    "empatheticdialogues": "EmpatheticDialogues",
    "empathetic-dialogues": "EmpatheticDialogues",
    "empatheticintents": "EmpatheticIntents",
    "sgd": "Schema-Guided Dialogue",
    "schema-guided-dialogue": "Schema-Guided Dialogue",
    "twcs": "Customer Support on Twitter",
}

Reader = Callable[[list[Path]], Iterable[Label]]  # the checkout(s) a corpus needs


@dataclass(frozen=True)
class Corpus:
    """A public corpus we can learn from, and how to read a checkout of it."""

    name: str
    repository: str  # owner/name on GitHub
    licence: str
    commercial_use: bool  # False: the licence forbids commercial use (say so in cards and README)
    criteria: tuple[str, ...]
    languages: tuple[str, ...]
    description: str
    read: Reader
    # True: whole dialogues with a known outcome (Interaction JSONL, `qa evaluate --outcomes`)
    # instead of labelled sentences; evaluation only, never training.
    outcomes: bool = False
    # True: labels to measure on, never to learn from (its terms do not allow it): split
    # into valid and test only, and `qa train` refuses it.
    evaluation_only: bool = False
    # How many times ``SPLIT_CAPS`` of distinct texts a split of this corpus may hold (a
    # corpus whose weak negatives outnumber its labelled turns keeps all of the latter).
    cap_scale: float = 1.0


CORPORA: dict[str, Corpus] = {}


def register(corpus: Corpus) -> Corpus:
    """Make a corpus known to ``qa corpus prepare``; returns it (usable as a module constant)."""
    CORPORA[corpus.name] = corpus
    return corpus


def split_of(corpus: str, dialogue: str, evaluation_only: bool = False) -> str:
    """The split of one dialogue: a stable hash of corpus and dialogue id, 70/15/15
    (evaluation-only corpora: 50/50 valid and test)."""
    bucket = int(hashlib.sha256(f"{corpus}\0{dialogue}".encode()).hexdigest()[:8], 16) % 100
    splits = EVALUATION_SPLITS if evaluation_only else SPLITS
    return next(name for name, upto in splits.items() if bucket < upto)


def corpus_label(
    corpus: str,
    dialogue: str,
    text: str,
    criterion: str,
    passed: bool,
    family: str = "",
    **extra: Any,
) -> Label:
    """One annotator-derived label, its split decided by its dialogue. Corpora of one
    ``family`` (a corpus and its translations) share splits, so a dialogue and its
    translation never sit on both sides; an evaluation-only corpus's dialogues are split into
    valid and test only."""
    known = CORPORA.get(corpus)
    return Label(
        text=" ".join(text.split()),
        criterion=criterion,
        label="pass" if passed else "fail",
        source="corpus",
        corpus=corpus,
        dialogue=dialogue,
        split=split_of(family or corpus, dialogue, bool(known and known.evaluation_only)),  # type: ignore[arg-type]
        **extra,
    )


def reserved_reason(name: str) -> str | None:
    """Why ``name`` may not be prepared, or None."""
    key = name.lower().replace("_", "-")
    for word, what in RESERVED.items():
        if word in key:
            return f"{what} is reserved for independent evaluation: never train, tune or study errors on it"
    return None


def git_commit(path: Path) -> str | None:
    """The checked-out commit of a git work tree or git directory, if ``path`` is one."""
    for args in (["-C", str(path)], [f"--git-dir={path}"]):
        try:
            out = subprocess.run(
                ["git", *args, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
            )
        except (OSError, subprocess.SubprocessError):
            continue
        commit = out.stdout.strip()
        if len(commit) == 40:
            return commit
    return None


@dataclass
class Prepared:
    """What ``prepare_corpus`` wrote."""

    labels: Path
    manifest: Path
    counts: dict[str, Any]


def prepare_corpus(name: str, paths: list[Path], output: Path, commit: str | None = None) -> Prepared:
    """Read checkouts of corpus ``name`` at ``paths``; write its labels (JSONL) and a manifest.

    The manifest records repository, commit, licence and label counts; training copies it
    into the model card. Returns the paths written and the counts.
    """
    reason = reserved_reason(name)
    if reason:
        raise QAError(f"corpus '{name}': {reason}")
    _load_builtin()
    if name not in CORPORA:
        known = ", ".join(sorted(CORPORA))
        raise QAError(f"unknown corpus '{name}'; known: {known} (`qa corpus list` says where each lives)")
    corpus = CORPORA[name]
    paths = [Path(p) for p in paths]
    for path in paths:
        if not path.exists():
            raise QAError(f"{path} not found: fetch {corpus.repository} and give the folder of its checkout")
    labels = list(corpus.read(paths))
    if not labels:
        where = ", ".join(map(str, paths))
        raise QAError(f"{where}: no labels found; is it a checkout of {corpus.repository}?")
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8") as handle:
        for lb in labels:
            handle.write(lb.model_dump_json(exclude_none=True) + "\n")
    counts = count_outcomes(labels) if corpus.outcomes else count_labels(labels)
    manifest = {
        "corpus": name,
        "repository": corpus.repository,
        "commit": commit or git_commit(paths[0]),
        "licence": corpus.licence,
        "commercial_use": corpus.commercial_use,
        "evaluation_only": corpus.evaluation_only,
        "description": corpus.description,
        "kind": "outcomes" if corpus.outcomes else "labels",
        "labels_file": output.name,
        "labels_sha256": hashlib.sha256(output.read_bytes()).hexdigest(),
        "counts": counts,
    }
    target = manifest_path(output)
    target.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return Prepared(output, target, counts)


def count_labels(labels: Iterable[Label]) -> dict[str, Any]:
    """Labels and dialogues per criterion, split, language and outcome."""
    rows: Counter[str] = Counter()
    dialogues: dict[str, set[str]] = {}
    for lb in labels:
        rows[f"{lb.criterion}/{lb.split}/{lb.language}/{lb.label}"] += 1
        dialogues.setdefault(str(lb.split), set()).add(str(lb.dialogue))
    return {
        "labels": dict(sorted(rows.items())),
        "dialogues": {s: len(d) for s, d in sorted(dialogues.items())},
    }


def count_outcomes(items: Iterable[Any]) -> dict[str, Any]:
    """Dialogues per split and outcome."""
    rows = Counter(
        f"{i.metadata['split']}/{'resolved' if i.metadata['outcome']['resolved'] else 'not_resolved'}"
        for i in items
    )
    return {"dialogues": dict(sorted(rows.items()))}


def read_outcomes(files: Iterable[Path]) -> tuple[list[Any], list[dict[str, Any]]]:
    """Prepared outcome corpora (Interactions with ``metadata.outcome``) and their manifests."""
    from qa_pipeline.interactions import read_interactions

    items, manifests = [], []
    for f in files:
        manifest = _checked_manifest(Path(f))
        if manifest.get("kind") != "outcomes":
            raise QAError(f"{f} holds sentence labels, not dialogues with outcomes: give it to --corpus")
        items += read_interactions(Path(f))
        manifests.append(manifest)
    return items, manifests


def _checked_manifest(f: Path) -> dict[str, Any]:
    """The manifest of a prepared file, once its SHA-256 matches."""
    m = manifest_path(f)
    if not m.exists():
        raise QAError(f"{f} has no manifest ({m.name}): prepare it with `qa corpus prepare`")
    manifest = json.loads(m.read_text(encoding="utf-8"))
    if manifest.get("labels_sha256") != hashlib.sha256(f.read_bytes()).hexdigest():
        raise QAError(f"{f} was changed after `qa corpus prepare` (its manifest's SHA-256 differs)")
    return manifest


def manifest_path(labels_file: Path) -> Path:
    """``var/corpora/esconv.jsonl`` -> ``var/corpora/esconv.manifest.json``."""
    return labels_file.with_name(labels_file.name.removesuffix(".jsonl") + ".manifest.json")


def read_corpora(files: Iterable[Path], training: bool = False) -> tuple[list[Label], list[dict[str, Any]]]:
    """Prepared corpus labels and their manifests; a file without a manifest is refused,
    and so is an evaluation-only corpus when the labels are for ``training``."""
    labels, manifests = [], []
    for f in files:
        f = Path(f)
        manifest = _checked_manifest(f)
        if manifest.get("kind") == "outcomes":
            raise QAError(f"{f} holds dialogues with outcomes, not sentence labels: give it to --outcomes")
        if training and manifest.get("evaluation_only"):
            raise QAError(
                f"{f}: corpus '{manifest.get('corpus')}' is for evaluation only (its terms do not allow "
                "learning from it); give it to `qa evaluate --corpus` or `qa train --threshold-corpus`, "
                "not to `qa train --corpus`"
            )
        labels += read_labels(f)
        manifests.append(manifest)
    return labels, manifests


def describe(manifests: Iterable[dict[str, Any]], used_for: str | None = None) -> list[dict[str, Any]]:
    """What a model card says of each corpus it learnt from (``used_for``: what training did
    with it, when said)."""
    keys = ("corpus", "repository", "commit", "licence", "commercial_use", "evaluation_only", "labels_sha256")
    return [{k: m.get(k) for k in keys} | ({"used_for": used_for} if used_for else {}) for m in manifests]


def _load_builtin() -> None:
    # Importing the reader modules registers them, as an outside package's would be.
    for module in BUILTINS["qa_pipeline.corpora"]:
        importlib.import_module(module)


def known_corpora() -> dict[str, Corpus]:
    """Every registered corpus, built-in ones included."""
    _load_builtin()
    return dict(CORPORA)


def files_under(paths: list[Path], pattern: str) -> Iterator[Path]:
    """Files matching ``pattern`` under each of ``paths`` (a file given itself counts), sorted."""
    for path in paths:
        if path.is_file():
            if path.match(pattern):
                yield path
        else:
            yield from sorted(path.rglob(pattern))


# How many distinct texts of one corpus each split uses at most (whole dialogues, drawn at
# random with a fixed seed): enough for stable figures, and embedding stays in minutes.
SPLIT_CAPS = {"train": 5000, "valid": 2000, "test": 3000}


def sample_split(labels: Iterable[Label], split: str, cap: int | None = None, seed: int = 0) -> list[Label]:
    """The labels of ``split``, per corpus limited to whole dialogues holding at most
    ``cap`` distinct texts (default ``SPLIT_CAPS`` times the corpus's ``cap_scale``).
    Sampling dialogues rather than labels keeps each corpus's natural share of passes, so F1
    is the F1 of real traffic.
    """
    import random

    by_corpus: dict[str, dict[str, list[Label]]] = {}
    for lb in labels:
        if lb.split == split:
            by_corpus.setdefault(str(lb.corpus), {}).setdefault(str(lb.dialogue), []).append(lb)
    chosen: list[Label] = []
    registered = known_corpora()
    for corpus in sorted(by_corpus):
        dialogues = by_corpus[corpus]
        known = registered.get(corpus)
        limit = cap if cap is not None else int(SPLIT_CAPS[split] * (known.cap_scale if known else 1.0))
        order = sorted(dialogues)
        random.Random(f"{seed}:{corpus}:{split}").shuffle(order)
        texts: set[str] = set()
        for d in order:
            new = {lb.text or "" for lb in dialogues[d]} - texts
            if texts and len(texts) + len(new) > limit:
                break
            texts |= new
            chosen += dialogues[d]
    return chosen


def threshold_split(labels: Iterable[Label], seed: int = 0) -> list[Label]:
    """What ``qa train --threshold-corpus`` reads of a corpus: its validation split only
    (evaluation-only corpora too), which chooses thresholds and is never learnt from. Its
    test split never leaves here."""
    return sample_split(labels, "valid", seed=seed)


def training_splits(labels: Iterable[Label], seed: int = 0) -> list[Label]:
    """What ``qa train`` reads of the corpora: the train and validation splits, each capped
    per corpus. The test split never leaves here."""
    labels = list(labels)
    return sample_split(labels, "train", seed=seed) + sample_split(labels, "valid", seed=seed)
