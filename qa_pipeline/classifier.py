"""The trained turn classifier: one calibrated model per criterion over shared TF-IDF features.

Features are word 1-2-grams and character 3-5-grams (within words), lower-cased and without
diacritics, so one model serves every language and survives inflection, missing accents
and transcription slips. Each criterion gets a logistic regression, calibrated (sigmoid,
3-fold), and a threshold picked on out-of-fold probabilities for a target precision.

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

from qa_pipeline.errors import QAError
from qa_pipeline.labels import ROOT, Label, labels_hash, latest_per_turn
from qa_pipeline.metrics import binary_metrics

MODEL_NAME = "qa-turns"
DEFAULT_MODEL = ROOT / "models" / "turns.skops"
TARGET_PRECISION = 0.9
MIN_THRESHOLD = 0.5  # never pass a turn the model thinks more likely to fail
CARD_FORMAT = 1
# What the card says was trained; part of the version, so change it with the recipe.
FEATURES = "TF-IDF word 1-2-grams + char_wb 3-5-grams (40,000 most frequent), lower-cased, no diacritics"
MODEL = "LogisticRegression(C=10, balanced), sigmoid calibration on 3-fold scores"
# Types an artifact may contain; anything else is refused before it is loaded.
TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.sparse.", "builtins.")


def card_path(artifact: Path) -> Path:
    """Where the model card of ``artifact`` lives: ``turns.skops`` -> ``turns.card.json``."""
    return artifact.with_name(artifact.name.removesuffix(".skops") + ".card.json")


def build_features():
    """The shared text features (unfitted)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    common = {"lowercase": True, "strip_accents": "unicode", "sublinear_tf": True, "dtype": np.float32}
    return FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b", **common),
            ),
            # The 40,000 most frequent character n-grams keep the artifact small (a few MB); 3-5-grams
            # featurise a quarter faster than 2-5-grams, with the same held-out results.
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), max_features=40_000, **common)),
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


@dataclass
class TurnClassifier:
    """Fitted features, one model and one threshold per criterion, and the model card."""

    features: Any
    models: dict[str, Any]
    thresholds: dict[str, float]
    card: dict[str, Any] = field(default_factory=dict)

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
        matrix = self.features.transform(list(unique))
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
        spans = [sentence_spans(t) for t in unique]
        counts = np.array([len(ss) for ss in spans])
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        flat = np.array([sp for ss in spans for sp in ss])
        probability = self.probabilities(
            [t[a:b] for t, ss in zip(unique, spans, strict=True) for a, b in ss], criteria
        )
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


def choose_threshold(truth: np.ndarray, probability: np.ndarray, target: float) -> tuple[float, bool]:
    """The lowest threshold whose precision reaches ``target`` (most recall at that precision).

    Returns (threshold, reached); when no threshold reaches it, the one with the best F1.
    """
    best_f1, best_f1_t = -1.0, 0.5
    for t in sorted(set(np.round(probability, 4)) | {MIN_THRESHOLD}):
        if t < MIN_THRESHOLD:
            continue
        predicted = probability >= t
        if not predicted.any():
            break
        m = binary_metrics(truth.tolist(), predicted.tolist())
        if m["precision"] >= target:
            return float(t), True
        if m["f1"] > best_f1:
            best_f1, best_f1_t = m["f1"], float(t)
    return best_f1_t, False


@dataclass
class TrainingReport:
    """Cross-validated figures per criterion and per language, and what was trained on."""

    labels: int
    by_source: dict[str, int]
    data_sha256: str
    criteria: dict[str, dict[str, Any]]


def train_classifier(
    labels: list[Label], target_precision: float = TARGET_PRECISION, seed: int = 0, folds: int = 5
) -> tuple[TurnClassifier, TrainingReport]:
    """Train on agent-turn labels with text; cross-validate; fit the final models on everything."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import Pipeline

    usable = latest_per_turn(lb for lb in labels if lb.text and lb.speaker == "agent")
    if not usable:
        raise QAError("no usable labels: training needs agent turns with text")
    criteria = sorted({lb.criterion for lb in usable})
    report = TrainingReport(
        labels=len(usable),
        by_source={s: sum(lb.source == s for lb in usable) for s in sorted({lb.source for lb in usable})},
        data_sha256=labels_hash(usable),
        criteria={},
    )
    texts = sorted({lb.text for lb in usable if lb.text})
    features = build_features().fit(texts)
    models, thresholds = {}, {}
    for criterion in criteria:
        rows = [lb for lb in usable if lb.criterion == criterion]
        y = np.array([lb.label == "pass" for lb in rows])
        if min(y.sum(), (~y).sum()) < folds:
            raise QAError(
                f"criterion '{criterion}' needs at least {folds} 'pass' and {folds} 'fail' labels "
                f"(has {int(y.sum())} and {int((~y).sum())})"
            )
        x_text = [lb.text for lb in rows]
        pipeline = Pipeline([("features", build_features()), ("model", build_model(seed))])
        cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
        oof = cross_val_predict(pipeline, x_text, y, cv=cv, method="predict_proba")[:, 1]
        threshold, reached = choose_threshold(y, oof, target_precision)
        predicted = oof >= threshold
        per_language = {}
        for lang in sorted({lb.language or "?" for lb in rows}):
            mask = np.array([(lb.language or "?") == lang for lb in rows])
            per_language[lang] = binary_metrics(y[mask].tolist(), predicted[mask].tolist())
        report.criteria[criterion] = {
            "threshold": round(threshold, 4),
            "target_precision_reached": reached,
            "cross_validated": binary_metrics(y.tolist(), predicted.tolist()),
            "by_language": per_language,
        }
        models[criterion] = build_model(seed).fit(features.transform(x_text), y)
        thresholds[criterion] = threshold
    card = {"name": MODEL_NAME, "target_precision": target_precision, "seed": seed, "folds": folds}
    return TurnClassifier(features, models, thresholds, card), report


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
        FEATURES,
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
        "rubric": rubric,
        "sklearn_version": sklearn.__version__,
        "skops_version": skops.__version__,
        "python": platform.python_version(),
        "features": FEATURES,
        "model": MODEL,
        "target_precision": classifier.card.get("target_precision", TARGET_PRECISION),
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
    if missing:
        raise QAError(
            f"{path} lacks the models its card lists ({', '.join(missing)}); retrain with `qa train`"
        )
    classifier = TurnClassifier(state["features"], state["models"], card["thresholds"], card)
    _LOADED[key] = classifier
    return classifier
