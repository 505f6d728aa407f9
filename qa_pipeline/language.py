"""Language identification with py3langid (its model ships in the package)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

MIN_CHARS = 12  # below this, identification is a guess; fall back to the default
# Identification time grows with length; a few sentences are enough to tell these languages apart.
MAX_CHARS = 300


@lru_cache(maxsize=8)
def _identifier(candidates: tuple[str, ...]) -> LanguageIdentifier:
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(candidates))
    return identifier


def detect_language(text: str, candidates: tuple[str, ...], default: str = "en") -> tuple[str, float]:
    """Return (language code, probability) of ``text`` among ``candidates``.

    Texts too short to judge return ``(default, 0.0)``.
    """
    if len(text.strip()) < MIN_CHARS:
        return default, 0.0
    lang, prob = _identifier(tuple(sorted(candidates))).classify(text[:MAX_CHARS])
    return lang, round(float(prob), 3)


BREVE = "\u0306"  # kept: Russian й is a letter of its own, not и with an accent


# The combining marks an accent decomposes into (BMP), all but the breve.
_MARKS = re.compile(
    "["
    + "".join(
        re.escape(m) for m in map(chr, range(0x300, 0x10000)) if unicodedata.combining(m) and m != BREVE
    )
    + "]"
)


def fold_text(text: str) -> str:
    """``text`` without accents; uncached, for long texts (a whole dictionary at once)."""
    return unicodedata.normalize("NFC", _MARKS.sub("", unicodedata.normalize("NFD", text)))


@lru_cache(maxsize=100_000)
def fold_diacritics(text: str) -> str:
    """``text`` without accents ("děkuji" -> "dekuji", "ačiū" -> "aciu", "ещё" -> "еще"),
    as people type on phones and as transcripts often come; Russian й stays й."""
    return fold_text(text)
