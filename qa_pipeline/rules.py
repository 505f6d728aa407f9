"""The rule engine: a rubric compiled once per language into spaCy matchers.

Pipelines are ``spacy.blank(lang)`` plus a sentencizer and a lemmatizer backed by
``simplemma`` (its data ships in the package and covers en, cs, sl, lt and ru;
spacy-lookups-data has no Slovene table and misses capitalised forms). Phrases match
on lemmas and on lower-case forms, so inflected forms match; token patterns use the
spaCy Matcher (LOWER, LEMMA, NORM, ...). A positive hit right after a negation word
("I'm not sorry"), or on a word with a negation prefix the phrase lacks (Czech
"nemrzí"), does not count; phrases may require or forbid words nearby.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import simplemma
import spacy
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span

from qa_pipeline.rubric import Phrase, Rubric

# Words that negate what follows them, per language.
NEGATORS = {
    "en": {"not", "n't", "never", "no", "without", "nor"},
    "cs": {"ne", "nikdy", "bez", "není", "nejsem", "nebylo"},
    "sl": {"ne", "nikoli", "nikdar", "brez", "ni", "nisem"},
    "lt": {"ne", "nė", "niekada", "be", "nėra"},
    "ru": {"не", "нет", "никогда", "без"},
}
# Verbs and adjectives negated by a prefix ("nemrzí"); Russian writes "не" apart.
NEGATION_PREFIX = {"cs": "ne", "sl": "ne", "lt": "ne"}
NEGATION_LOOKBACK = 3  # tokens before a hit that are checked for a negator
FALLBACK_LANGUAGE = "xx"  # multi-language pipeline for languages the rubric lacks
NEGATABLE = {"phrase", "na"}  # negative hits are never excused by a negation


@dataclass(frozen=True)
class Hit:
    """A phrase found in a turn: character offsets of its sentence, and the words matched."""

    criterion: str
    kind: str  # "phrase", "negative" or "na"
    turn: int
    start: int  # sentence start in the turn text
    end: int
    text: str  # the sentence
    match: str  # the matched words


@dataclass
class Rule:
    """What a matcher key stands for."""

    criterion: str
    kind: str
    pattern: Doc | None = None  # the phrase as tokens (phrases only), for the prefix check
    require: frozenset[str] = field(default_factory=frozenset)
    forbid: frozenset[str] = field(default_factory=frozenset)
    within: int = 5


@lru_cache(maxsize=200_000)
def lemma(word: str, lang: str) -> str:
    """simplemma's lower-case lemma of a lower-case word (the word itself if unknown)."""
    if lang == FALLBACK_LANGUAGE:
        return word
    try:
        return simplemma.lemmatize(word, lang=lang).lower()
    except ValueError:  # a language simplemma does not know
        return word


@Language.factory("qa_lemmatizer")
def make_lemmatizer(nlp: Language, name: str) -> QALemmatizer:
    return QALemmatizer(nlp.lang)


class QALemmatizer:
    """Sets ``token.lemma_`` to the lower-case simplemma lemma."""

    def __init__(self, lang: str):
        self.lang = lang

    def __call__(self, doc: Doc) -> Doc:
        for token in doc:
            token.lemma_ = lemma(token.lower_, self.lang)
        return doc


@lru_cache(maxsize=16)
def pipeline(lang: str) -> Language:
    """A blank spaCy pipeline for ``lang`` with sentencizer and lemmatizer, built once."""
    nlp = spacy.blank(lang)
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("qa_lemmatizer")
    return nlp


class CompiledRules:
    """One rubric for one language: PhraseMatchers on LEMMA and LOWER, and a token Matcher."""

    def __init__(self, rubric: Rubric, lang: str):
        self.lang = lang
        self.nlp = pipeline(lang)
        self.lemma_matcher = PhraseMatcher(self.nlp.vocab, attr="LEMMA")
        self.lower_matcher = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.token_matcher = Matcher(self.nlp.vocab)
        self.rules: dict[str, Rule] = {}
        for c in rubric.criteria:
            na_phrases = c.na_when.customer_phrases if c.na_when else {}
            for kind, packs in (("phrase", c.phrases), ("negative", c.negative), ("na", na_phrases)):
                self._add_phrases(c.id, kind, _for_language(packs, lang))
            for kind, packs in (("phrase", c.patterns), ("negative", c.negative_patterns)):
                for n, pattern in enumerate(_for_language(packs, lang)):
                    key = f"{c.id}|{kind}|p{n}"
                    self.rules[key] = Rule(c.id, kind)
                    self.token_matcher.add(key, [pattern])

        # An empty Matcher warns on every call; keep only the ones with patterns.
        self.matchers = [m for m in (self.lemma_matcher, self.lower_matcher, self.token_matcher) if len(m)]

    def _add_phrases(self, criterion: str, kind: str, phrases: list[str | Phrase]) -> None:
        items = [p if isinstance(p, Phrase) else Phrase(text=p) for p in phrases]
        for n, (item, doc) in enumerate(zip(items, self.nlp.pipe(p.text for p in items), strict=True)):
            key = f"{criterion}|{kind}|{n}"
            self.rules[key] = Rule(
                criterion,
                kind,
                doc,
                require=self._lemmas(item.require_near),
                forbid=self._lemmas(item.forbid_near),
                within=item.within,
            )
            self.lemma_matcher.add(key, [doc])
            self.lower_matcher.add(key, [doc])

    def _lemmas(self, words: list[str]) -> frozenset[str]:
        return frozenset(t.lemma_ for w in words for t in self.nlp(w)) | frozenset(w.lower() for w in words)

    def hits(self, doc: Doc, turn: int = 0) -> list[Hit]:
        """Return the hits in one turn's Doc that survive negation and context checks."""
        found: dict[tuple[str, str, int], Hit] = {}
        for matcher in self.matchers:
            for match_id, start, end in matcher(doc):
                rule = self.rules[self.nlp.vocab.strings[match_id]]
                if rule.kind in NEGATABLE and self._negated(doc, start, end, rule.pattern):
                    continue
                if (rule.require or rule.forbid) and not self._context_ok(doc, start, end, rule):
                    continue
                span = doc[start:end]
                found.setdefault(
                    (rule.criterion, rule.kind, span.start_char), _hit(rule, turn, span.sent, span)
                )
        return sorted(found.values(), key=lambda h: (h.turn, h.start, h.criterion))

    def _negated(self, doc: Doc, start: int, end: int, pattern: Doc | None) -> bool:
        negators = NEGATORS.get(self.lang, set())
        window = doc[max(doc[start].sent.start, start - NEGATION_LOOKBACK) : start]
        if any(t.lower_ in negators for t in window):
            return True
        prefix = NEGATION_PREFIX.get(self.lang)
        if prefix and pattern is not None:
            for token, wanted in zip(doc[start:end], pattern, strict=False):
                if token.lower_.startswith(prefix) and not wanted.lower_.startswith(prefix):
                    return True
        return False

    def _context_ok(self, doc: Doc, start: int, end: int, rule: Rule) -> bool:
        sent = doc[start].sent
        near = doc[max(sent.start, start - rule.within) : min(sent.end, end + rule.within)]
        words = {t.lemma_ for t in near} | {t.lower_ for t in near}
        if rule.require and not words & rule.require:
            return False
        return not (rule.forbid and words & rule.forbid)


def _for_language(packs: dict, lang: str) -> list:
    if lang == FALLBACK_LANGUAGE:  # every language's entries, for a language the rubric lacks
        return [item for items in packs.values() for item in items]
    return list(packs.get(lang, []))


def _hit(rule: Rule, turn: int, sentence: Span, span: Span) -> Hit:
    return Hit(
        criterion=rule.criterion,
        kind=rule.kind,
        turn=turn,
        start=sentence.start_char,
        end=sentence.end_char,
        text=sentence.text,
        match=span.text,
    )


class RuleEngine:
    """Finds every criterion's hits in batches of turns; compiles each language once."""

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
        return [rules.hits(doc) for doc in rules.nlp.pipe(texts, batch_size=256)]
