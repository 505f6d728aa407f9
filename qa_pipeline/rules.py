"""The rule engine: rubric phrases compiled once per language into spaCy matchers.

Pipelines are ``spacy.blank(lang)`` plus a sentencizer and a lemmatizer backed by
``simplemma`` (data ships in the package, covers en, cs, sl, lt and ru). Phrases are
matched on lemmas and on lower-case forms, so inflected forms match. A phrase hit
right after a negation word ("I'm not sorry"), or on a word carrying a negation
prefix the phrase lacks (Czech "nemrzí" for "mrzí"), does not count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import simplemma
import spacy
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span

from qa_pipeline.rubric import Rubric

# Words that negate what follows them, per language.
NEGATORS = {
    "en": {"not", "n't", "never", "no", "without", "nor"},
    "cs": {"ne", "nikdy", "bez", "není", "nejsem", "nebylo"},
    "sl": {"ne", "nikoli", "nikdar", "brez", "ni", "nisem"},
    "lt": {"ne", "nė", "niekada", "be", "nėra"},
    "ru": {"не", "нет", "никогда", "без"},
}
# Verbs and adjectives negated by a prefix: "nemrzí", "не" is separate in Russian.
NEGATION_PREFIX = {"cs": "ne", "sl": "ne", "lt": "ne"}
NEGATION_LOOKBACK = 3  # tokens before a hit that are checked for a negator
FALLBACK_LANGUAGE = "xx"  # multi-language pipeline for languages the rubric lacks


@dataclass(frozen=True)
class Hit:
    """A phrase found in a turn: character offsets of the match and of its sentence."""

    criterion: str
    kind: str  # "phrase" or "negative"
    turn: int
    start: int  # sentence start in the turn text
    end: int
    text: str  # the sentence
    match: str  # the matched words


@lru_cache(maxsize=100_000)
def _lemma(word: str, lang: str) -> str:
    try:
        return simplemma.lemmatize(word, lang=lang).lower()
    except ValueError:  # a language simplemma does not know
        return word


@Language.factory("qa_lemmatizer")
def make_lemmatizer(nlp: Language, name: str) -> QALemmatizer:
    return QALemmatizer(nlp.lang)


class QALemmatizer:
    """Sets ``token.lemma_`` to simplemma's lower-case lemma of the lower-cased token."""

    def __init__(self, lang: str):
        self.lang = lang

    def __call__(self, doc: Doc) -> Doc:
        for token in doc:
            token.lemma_ = _lemma(token.lower_, self.lang) if self.lang != FALLBACK_LANGUAGE else token.lower_
        return doc


@lru_cache(maxsize=16)
def pipeline(lang: str) -> Language:
    """A blank spaCy pipeline for ``lang`` with sentencizer and lemmatizer, built once."""
    nlp = spacy.blank(lang)
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("qa_lemmatizer")
    return nlp


class CompiledRules:
    """The rubric's phrases for one language, as PhraseMatchers on LEMMA and LOWER."""

    def __init__(self, rubric: Rubric, lang: str):
        self.lang = lang
        self.nlp = pipeline(lang)
        self.lemma_matcher = PhraseMatcher(self.nlp.vocab, attr="LEMMA")
        self.lower_matcher = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.patterns: dict[str, tuple[str, str, Doc]] = {}
        for criterion in rubric.criteria:
            for kind, packs in (("phrase", criterion.phrases), ("negative", criterion.negative)):
                phrases = _phrases_for(packs, lang)
                for i, doc in enumerate(self.nlp.pipe(phrases)):
                    key = f"{criterion.id}|{kind}|{i}"
                    self.patterns[key] = (criterion.id, kind, doc)
                    self.lemma_matcher.add(key, [doc])
                    self.lower_matcher.add(key, [doc])

    def hits(self, doc: Doc, turn: int) -> list[Hit]:
        """Return the non-negated phrase hits in one turn's Doc."""
        found: dict[tuple[str, int, int], Hit] = {}
        for matcher in (self.lemma_matcher, self.lower_matcher):
            for match_id, start, end in matcher(doc):
                key = self.nlp.vocab.strings[match_id]
                criterion, kind, pattern = self.patterns[key]
                if kind == "phrase" and self._negated(doc, start, end, pattern):
                    continue
                span = doc[start:end]
                sentence = span.sent
                found.setdefault(
                    (criterion, kind, span.start_char),
                    _hit(criterion, kind, turn, sentence, span),
                )
        return sorted(found.values(), key=lambda h: (h.turn, h.start, h.criterion))

    def _negated(self, doc: Doc, start: int, end: int, pattern: Doc) -> bool:
        negators = NEGATORS.get(self.lang, set())
        window = doc[max(doc[start].sent.start, start - NEGATION_LOOKBACK) : start]
        if any(t.lower_ in negators for t in window):
            return True
        prefix = NEGATION_PREFIX.get(self.lang)
        if prefix:
            for token, wanted in zip(doc[start:end], pattern, strict=False):
                if token.lower_.startswith(prefix) and not wanted.lower_.startswith(prefix):
                    return True
        return False


def _phrases_for(packs: dict[str, list[str]], lang: str) -> list[str]:
    if lang == FALLBACK_LANGUAGE:
        return sorted({p for phrases in packs.values() for p in phrases})
    return list(packs.get(lang, []))


def _hit(criterion: str, kind: str, turn: int, sentence: Span, span: Span) -> Hit:
    return Hit(
        criterion=criterion,
        kind=kind,
        turn=turn,
        start=sentence.start_char,
        end=sentence.end_char,
        text=sentence.text,
        match=span.text,
    )


class RuleEngine:
    """Finds every criterion's phrase hits in batches of turns; compiles per language once."""

    def __init__(self, rubric: Rubric):
        self.rubric = rubric
        self._compiled: dict[str, CompiledRules] = {}

    def rules_for(self, lang: str) -> CompiledRules:
        key = lang if lang in self.rubric.languages else FALLBACK_LANGUAGE
        if key not in self._compiled:
            self._compiled[key] = CompiledRules(self.rubric, key)
        return self._compiled[key]

    def find_hits(self, texts: Sequence[str], lang: str) -> list[list[Hit]]:
        """Return the hits for each text (one text = one turn) in language ``lang``."""
        rules = self.rules_for(lang)
        return [rules.hits(doc, turn=0) for doc in rules.nlp.pipe(texts, batch_size=256)]
