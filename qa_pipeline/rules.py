"""The rule engine: a rubric compiled once per language into spaCy matchers.

Pipelines are ``spacy.blank(lang)`` whose tokens carry a ``simplemma`` lemma in NORM
(simplemma's data ships in the package and covers en, cs, sl, lt and ru;
spacy-lookups-data has no Slovene table and misses capitalised forms). Phrases match
on those lemmas, so inflected forms match; token patterns use the spaCy Matcher
(LOWER, ORTH, LEMMA, ...; LEMMA means our lemma). A positive hit right after a negation word
("I'm not sorry"), or on a word with a negation prefix the phrase lacks (Czech
"nemrzí"), does not count; phrases may require or forbid words nearby. Commas and dashes
inside a sentence do not break a phrase nor count as words near it: speech-to-text writes
"Oh, dear." and "чем то" where the rubric says "oh dear" and "чем-то".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice, pairwise
from typing import NamedTuple, cast

import simplemma
import spacy
from simplemma.strategies.dictionaries.dictionary_factory import DEFAULT_DICTIONARY_FACTORY
from spacy.attrs import IDX, IS_SPACE, LENGTH, LOWER, NORM, ORTH
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc, Token

from qa_pipeline.language import fold_diacritics, fold_text
from qa_pipeline.methods import VETOED  # a phrase found but negated or out of context
from qa_pipeline.rubric import Phrase, Rubric

# Words that negate what follows them, per language.
_NEGATOR_WORDS = {
    "en": {"not", "n't", "never", "no", "without", "nor"},
    "cs": {"ne", "nikdy", "bez", "není", "nejsem", "nejsme", "nejsou", "nebylo", "nemám", "nemáme"},
    "sl": {"ne", "nikoli", "nikdar", "brez", "ni", "nisem", "nismo", "niste", "niso", "nimam", "nimamo"},
    "lt": {"ne", "nė", "niekada", "be", "nėra"},
    "ru": {"не", "нет", "никогда", "без"},
}


def _with_folded(words_by_lang: dict[str, set[str]]) -> dict[str, frozenset[str]]:
    """Each language's words, also as typed without accents ("neni", "nėra", "dobre")."""
    return {
        lang: frozenset(words | {fold_diacritics(w) for w in words}) for lang, words in words_by_lang.items()
    }


NEGATORS = _with_folded(_NEGATOR_WORDS)  # typed without accents too ("neni", "nėra")
# Verbs and adjectives negated by a prefix ("nemrzí"); Russian writes "не" apart.
NEGATION_PREFIX = {"cs": "ne", "sl": "ne", "lt": "ne"}
NEGATION_LOOKBACK = 3  # tokens before a hit that are checked for a negator
# Negators that only negate the word right after them ("no refund", "без проблем"); further
# away they are the interjection: "нет, это всё, спасибо" typed without commas still thanks.
NEAR_ONLY = {"en": {"no", "without"}, "ru": {"нет", "без"}, "cs": {"bez"}, "sl": {"brez"}, "lt": {"be"}}
# A negation does not reach past a clause boundary: "No problem, thanks!" thanks, "Není zač,
# děkuji!" too. Punctuation and coordinating conjunctions close a clause.
CLAUSE_BREAKS = frozenset({",", ";", ":", "-", "–", "—", "(", ")", '"', "/"})
CONJUNCTIONS = {
    "en": {"and", "but", "or", "so", "because", "though", "although"},
    "cs": {"a", "ale", "nebo", "ani", "však", "protože", "takže"},
    "sl": {"in", "ampak", "ali", "pa", "vendar", "ker", "zato"},
    "lt": {"ir", "bet", "o", "ar", "nes", "todėl"},
    "ru": {"и", "но", "а", "или", "потому", "поэтому", "зато"},
}
# Words a negation most often attaches to when it stands before them: a negation does not
# reach past one to a phrase, so chats typed without commas ("to ni dobro res se
# opravičujem", "thats not good sorry about that") still apologise.
NEGATED_PREDICATES = _with_folded(
    {
        "en": {
            "good",
            "great",
            "ideal",
            "ok",
            "okay",
            "right",
            "fair",
            "acceptable",
            "nice",
            "fun",
            "normal",
            "cool",
        },
        "cs": {"dobré", "dobrý", "dobře", "ideální", "pořádku", "fér", "normální", "příjemné", "ok", "hezké"},
        "sl": {"dobro", "idealno", "redu", "prav", "ok", "lepo", "normalno", "prijetno", "fer"},
        "lt": {"gerai", "idealu", "gera", "normalu", "smagu", "tvarkoje", "malonu", "ok"},
        "ru": {"хорошо", "идеально", "нормально", "приятно", "здорово", "порядке", "ок", "честно"},
    }
)
# Punctuation that phrases and ``within`` windows look through (sentence ends still stop them).
SKIPPED = frozenset({",", ";", ":", "-", "–", "—", "‒"})
_HAS_SKIPPED = re.compile("[" + re.escape("".join(SKIPPED)) + "]")
FALLBACK_LANGUAGE = "xx"  # multi-language pipeline for languages the rubric lacks
# Common words of phrases that say nothing on their own: never anchors of a negated look-alike.
ANCHOR_STOPWORDS = frozenset(
    [
        "that",
        "this",
        "have",
        "will",
        "your",
        "with",
        "what",
        "there",
        "here",
        "been",
        "would",
        "could",
        "should",
        "just",
        "about",
        "from",
        "them",
        "they",
        "their",
        "does",
        "make",
        "take",
        "know",
        "help",
        "hear",
        "thank",
        "thanks",
        "contacting",
        "calling",
    ]
)
NEGATABLE = {
    "phrase",
    "na",
    "cue",
    "confirmed",
    "topic",
    "then",
}  # negative hits are never excused by a negation
ESCALATION, UPSET = "_escalation", "_upset"  # pseudo-criteria for the flag cues


class Hit(NamedTuple):
    """A phrase found in a turn: character offsets of its sentence, and the words matched."""

    criterion: str
    kind: str  # "phrase", "negative", "na", "cue", "confirmed", "denied", "topic", "then" or "vetoed"
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
    # Phrases only: which of the phrase's own words carry the negation prefix (cs, sl, lt).
    prefixed: tuple[bool, ...] | None = None
    require: frozenset[int] = field(default_factory=frozenset)  # lemma and lower-form hashes
    # Required words the rubric writes with the negation prefix ("nepříjemné"): their lemmas,
    # met only by words that carry the prefix too (cs, sl, lt).
    require_negated: frozenset[int] = field(default_factory=frozenset)
    forbid: frozenset[int] = field(default_factory=frozenset)
    before: frozenset[int] = field(default_factory=frozenset)  # lower-form hashes, one side only
    after: frozenset[int] = field(default_factory=frozenset)
    within: int = 5


@lru_cache(maxsize=200_000)
def lemma(word: str, lang: str) -> str:
    """simplemma's lower-case lemma of a lower-case word (the word itself if unknown).

    A word typed without its accents that simplemma does not know gets the lemma of the
    accented form it spells ("vdecni" -> "vděčný", "omlouvame" -> "omlouvat"), so phrases
    find inflected forms without accents too.
    """
    if lang == FALLBACK_LANGUAGE:
        return word
    try:
        if not simplemma.is_known(word, lang=lang):
            restored = accented_lemmas(lang).get(word)
            if restored is not None:
                return restored
        return simplemma.lemmatize(word, lang=lang).lower()
    except ValueError:  # a language simplemma does not know
        return word


ACCENT_CHUNK = 50_000  # dictionary words folded at a time
_LETTERS = tuple(map(chr, [*range(0xC0, 0x530), *range(0x1E00, 0x1F00)]))  # Latin, Greek, Cyrillic
# One line (a dictionary word) holding a letter with an accent.
_ACCENTED_LINE = re.compile(
    "^.*[" + "".join(re.escape(c) for c in _LETTERS if fold_text(c) != c) + "].*$",
    re.MULTILINE,
)


@lru_cache(maxsize=16)
def accented_lemmas(lang: str) -> dict[str, str]:
    """The lemma of each accented word form of ``lang``'s dictionary, keyed by the form
    without accents, where that spelling is not a word of its own and all forms spelled so
    share one lemma ("zal" is Czech "žal" of "žnout" and Slovene "žal": per language)."""
    words = DEFAULT_DICTIONARY_FACTORY.get_dictionary(lang)  # the dictionary simplemma uses
    out: dict[str, str | None] = {}
    lemmas: dict[str, str] = {}  # one string per lemma, shared by its forms
    # found and folded many words at a time (per word, Russian alone took seconds), in
    # slices, so the joined text stays small
    keys = iter(words)
    while chunk := list(islice(keys, ACCENT_CHUNK)):
        forms = _ACCENTED_LINE.findall("\n".join(chunk))
        for form, plain in zip(forms, fold_text("\n".join(forms)).split("\n"), strict=True):
            if plain in words:
                continue
            lemma_ = words[form].lower()
            lemma_ = lemmas.setdefault(lemma_, lemma_)
            out[plain] = lemma_ if out.get(plain, lemma_) == lemma_ else None
    return {plain: lemma_ for plain, lemma_ in out.items() if lemma_ is not None}


@lru_cache(maxsize=16)
def pipeline(lang: str) -> Language:
    """A blank spaCy pipeline for ``lang`` whose tokens carry their lemma in NORM, built once.

    The lemma is computed once per vocabulary entry (spaCy's lexeme attribute getter),
    not once per token: this keeps rule scoring close to bare tokenisation speed.
    """
    nlp = spacy.blank(lang)
    tokenizer = cast(Tokenizer, nlp.tokenizer)  # what spacy.blank builds
    tokenizer.rules = {
        key: value for key, value in tokenizer.rules.items() if not _word_with_period(key, lang)
    }

    def norm(text: str) -> str:
        return lemma(text.lower(), lang)

    nlp.vocab.lex_attr_getters[NORM] = norm  # type: ignore[attr-defined]  # real, but not in spaCy's stubs
    for lexeme in nlp.vocab:  # entries created before the getter was set
        lexeme.norm_ = norm(lexeme.orth_)
    return nlp


def _word_with_period(case: str, lang: str) -> bool:
    """Whether a tokenizer exception is a word of the language with its full stop.

    spaCy's Slovene abbreviations include words ("je.", "dan.", "so.", "ste."; Russian "им."),
    so "Žal mi je." and "Dober dan." lost their last word into one token "je." / "dan.",
    and no phrase ending there matched. Abbreviations that are not words ("npr.", "itd.")
    and capitalised titles ("Dr.", "Mag.") stay exceptions.
    """
    word = case[:-1]
    if not (case.endswith(".") and len(word) > 1 and word.isalpha() and word.islower()):
        return False
    try:
        return bool(simplemma.is_known(word, lang=lang))
    except ValueError:  # a language simplemma does not know
        return False


def _drops_prefix(lower: str, lemma_: str, prefix: str | None) -> bool:
    """Whether a word carries the negation prefix that its lemma drops ("nepřijde" -> "přijít").

    The lemma is read without accents: "neco" is "něco" typed without them, not a negation.
    """
    if not prefix:
        return False
    return _typed_with_prefix(lower, lemma_, prefix) and not lemma_.startswith(prefix)


def _typed_with_prefix(lower: str, lemma_: str, prefix: str) -> bool:
    """Whether a word starts with the negation prefix as written, unless those letters are
    the start of its lemma typed without accents ("neco" is "něco", "nejak" is "nějak")."""
    unaccented = not lemma_.startswith(prefix) and fold_diacritics(lemma_).startswith(prefix)
    return lower.startswith(prefix) and not unaccented


def _exact_pattern(doc: Doc, folded: Doc) -> list[dict]:
    """A token pattern for a phrase's words as written or without accents, with any commas
    and dashes between them, as phrases match."""
    pattern: list[dict] = []
    for n, (word, plain) in enumerate(zip(doc, folded, strict=True)):
        if n:
            pattern.append({"ORTH": {"IN": sorted(SKIPPED)}, "OP": "*"})
        pattern.append({"LOWER": {"IN": sorted({word.lower_, plain.lower_})}})
    return pattern


def _lemma_patterns(pattern: list[dict]) -> list[dict]:
    """Rubric token patterns say LEMMA; our lemma lives in NORM (see ``pipeline``)."""
    return [{("NORM" if key == "LEMMA" else key): value for key, value in token.items()} for token in pattern]


# Phones and word processors type ’ where rubrics say ': spaCy splits "That’s" into "That" +
# "’s", which a token pattern written with "'s" does not match. One character for one, so
# the offsets of the evidence, cut from the text as written, still hold.
APOSTROPHES = str.maketrans(dict.fromkeys("\u2019\u2018\u02bc", "'"))

SENTENCE_END = (".", "!", "?", "…", "...", "?!", "!?")


class TokenView:
    """A Doc's lower forms, lemmas and offsets as lists of ints, built only for docs with hits.

    Reading attributes through ``doc[i]`` creates a Token object each time, and string
    look-ups cost more than comparing hashes; the checks below touch the same few tokens
    many times.
    """

    def __init__(self, doc: Doc, text: str, sentence_ends: frozenset[int], skipped: frozenset[int]):
        columns = doc.to_array([LOWER, NORM, IDX, LENGTH, IS_SPACE]).T.tolist()
        self.lower, self.norm, self.idx, self.length, self.space = columns
        self.doc = doc
        self.text = text  # Doc.text would rebuild it token by token
        self.ends = [
            h in sentence_ends or (sp and "\n" in doc[i].text) if sp else h in sentence_ends
            for i, (h, sp) in enumerate(zip(self.lower, self.space, strict=True))
        ]
        self.skip = [h in skipped for h in self.lower]
        self.size = len(self.lower)

    def words(self, start: int, end: int) -> list[int]:
        """Indices of tokens ``start:end`` that are words, not skipped punctuation."""
        return [i for i in range(start, end) if not self.skip[i]]

    def window(self, start: int, end: int, first: int, last: int, words: int) -> tuple[int, int]:
        """Token bounds reaching ``words`` words either side of ``start:end``, inside the
        sentence ``first:last``; skipped punctuation is not counted."""
        lo, count = start, 0
        while lo > first and count < words:
            lo -= 1
            count += not self.skip[lo]
        hi, count = end, 0
        while hi < last and count < words:
            count += not self.skip[hi]
            hi += 1
        return lo, hi

    def chars(self, start: int, end: int) -> tuple[int, int]:
        """Character offsets of tokens ``start:end``."""
        return self.idx[start], self.idx[end - 1] + self.length[end - 1]

    def sentence(self, start: int, end: int) -> tuple[int, int]:
        """Token bounds of the sentence holding tokens ``start:end``."""
        first = start
        while first > 0 and not self.ends[first - 1]:
            first -= 1
        last = max(end, first + 1)
        while last < self.size and not self.ends[last - 1]:
            last += 1
        while first < last - 1 and self.space[first]:
            first += 1
        return first, last


class CompiledRules:
    """One rubric for one language: a PhraseMatcher on lemmas (NORM) and a token Matcher."""

    def __init__(self, rubric: Rubric, lang: str):
        self.lang = lang
        self.nlp = pipeline(lang)
        self.phrase_matcher = PhraseMatcher(self.nlp.vocab, attr="NORM")
        self.token_matcher = Matcher(self.nlp.vocab)
        self.rules: dict[str, Rule] = {}
        self.single_words: dict[str, set[str]] = {}  # one-word phrases' lemmas -> criteria
        # Content words of phrases (lemma hash -> criteria): negated, they mark a look-alike
        # ("I'm not sorry", "не понимаю") that the classifier must not be offered.
        self.anchors: dict[int, set[str]] = {}
        self.joins_left: set[int] = set()  # lemma hashes followed by another word in a phrase
        self.joins_right: set[int] = set()  # ... and preceded by one
        for c in rubric.criteria:
            na_phrases = c.na_when.customer_phrases if c.na_when else {}
            outcome = c.customer_outcome
            for kind, packs in (
                ("phrase", c.phrases),
                ("negative", c.negative),
                ("na", na_phrases),
                ("confirmed", outcome.confirmed if outcome else {}),
                ("denied", outcome.denied if outcome else {}),
                ("topic", c.applies_when.phrases if c.applies_when else {}),
                ("then", c.then.phrases if c.then else {}),
            ):
                self._add_phrases(c.id, kind, _for_language(packs, lang))
            for kind, token_packs in (
                ("phrase", c.patterns),
                ("negative", c.negative_patterns),
                ("topic", c.applies_when.patterns if c.applies_when else {}),
            ):
                for n, pattern in enumerate(_for_language(token_packs, lang)):
                    key = f"{c.id}|{kind}|p{n}"
                    self.rules[key] = Rule(c.id, kind)
                    self.token_matcher.add(key, [_lemma_patterns(pattern)])
        # Supervisor cues (escalation, still upset) are phrases like any other, keyed apart.
        self._add_phrases(ESCALATION, "cue", _for_language(rubric.flags.escalation, lang))
        self._add_phrases(UPSET, "cue", _for_language(rubric.flags.upset, lang))
        strings = self.nlp.vocab.strings
        self.negators = frozenset(strings.add(w) for w in NEGATORS.get(lang, ()))
        self.near_only = frozenset(strings.add(w) for w in NEAR_ONLY.get(lang, ()))
        conjunctions = CONJUNCTIONS.get(lang, set().union(*CONJUNCTIONS.values()))
        self.clause_breaks = frozenset(strings.add(w) for w in CLAUSE_BREAKS | conjunctions)
        self.predicates = frozenset(strings.add(w) for w in NEGATED_PREDICATES.get(lang, ()))
        self.sentence_ends = frozenset(strings.add(w) for w in SENTENCE_END)
        self.skipped = frozenset(strings.add(w) for w in SKIPPED)
        self.prefix = NEGATION_PREFIX.get(lang)
        self._prefix_negated: dict[int, tuple[str, ...]] = {}  # lower-form hash -> criteria

    def _add_phrases(self, criterion: str, kind: str, phrases: list[str | Phrase]) -> None:
        items = [p if isinstance(p, Phrase) else Phrase(text=p) for p in phrases]
        for n, item in enumerate(items):
            text = item.text.translate(APOSTROPHES)  # as find_hits reads the turns
            doc = self._words_only(self.nlp(text))
            key = f"{criterion}|{kind}|{n}"
            prefix = NEGATION_PREFIX.get(self.lang)
            self.rules[key] = Rule(
                criterion,
                kind,
                tuple(prefix is not None and t.lower_.startswith(prefix) for t in doc),
                require=self._lemmas([w for w in item.require_near if not self._prefixed(w)]),
                require_negated=self._lemmas([w for w in item.require_near if self._prefixed(w)]),
                forbid=self._lemmas(item.forbid_near),
                before=self._forms(item.forbid_before),
                after=self._forms(item.forbid_after),
                within=item.within,
            )
            # Chats and transcripts often come without accents ("dekuji", "aciu"): the phrase's
            # folded words match too. Folded words rarely have a lemma, so the folded phrase is
            # matched as written (inflections need the accents).
            folded = fold_diacritics(text)
            variants = [doc, self._words_only(self.nlp(folded))] if folded != text else [doc]
            if item.exact:  # word forms as written: a token pattern, looking through commas too
                self.token_matcher.add(key, [_exact_pattern(doc, variants[-1])])
            else:
                self.phrase_matcher.add(key, variants)
                for variant in variants:  # neighbouring words of a phrase: see _phrase_matches
                    self.joins_left.update(t.norm for t in variant[:-1])
                    self.joins_right.update(t.norm for t in variant[1:])
            if kind == "phrase" and len(doc) == 1 and not (self.rules[key].prefixed or (False,))[0]:
                self.single_words.setdefault(doc[0].norm_, set()).add(criterion)
            if kind == "phrase":
                for t in doc:
                    if t.is_alpha and len(t.norm_) >= 4 and t.norm_ not in ANCHOR_STOPWORDS:
                        self.anchors.setdefault(t.norm, set()).add(criterion)

    def _words_only(self, doc: Doc) -> Doc:
        """``doc`` without the punctuation phrases look through (the same Doc if it has none,
        or nothing else)."""
        words = [t.text for t in doc if t.text not in SKIPPED]
        return Doc(self.nlp.vocab, words=words) if 0 < len(words) < len(doc) else doc

    def _phrase_matches(self, doc: Doc, text: str) -> list[tuple[int, int, int]]:
        """Phrase matches in ``doc``, looking through commas and dashes ("Oh, dear" is "oh
        dear"); offsets are ``doc``'s own. The words-only copy is built only where skipped
        punctuation stands between two words that follow each other in some phrase."""
        if not _HAS_SKIPPED.search(text):  # most turns: no need to look at tokens
            return list(self.phrase_matcher(doc))
        orths, norms = doc.to_array([ORTH, NORM]).T.tolist()
        kept = [i for i, h in enumerate(orths) if h not in self.skipped]
        if not any(
            norms[a] in self.joins_left and norms[b] in self.joins_right
            for a, b in pairwise(kept)
            if b > a + 1
        ):
            return list(self.phrase_matcher(doc))
        strings = self.nlp.vocab.strings
        words = Doc(self.nlp.vocab, words=[strings[orths[i]] for i in kept])
        return [(key, kept[start], kept[end - 1] + 1) for key, start, end in self.phrase_matcher(words)]

    def _tokens(self, words: list[str]) -> list[Token]:
        """The tokens of ``words`` and of their accent-free spellings."""
        plain = [w.translate(APOSTROPHES) for w in words]  # as find_hits reads the turns
        return [t for w in {*plain, *map(fold_diacritics, plain)} for t in self.nlp(w)]

    def _lemmas(self, words: list[str]) -> frozenset[int]:
        tokens = self._tokens(words)
        return frozenset(t.norm for t in tokens) | frozenset(t.lower for t in tokens)

    def _prefixed(self, word: str) -> bool:
        """Whether ``word`` carries the language's negation prefix that its lemma drops."""
        lower = word.lower()
        return _drops_prefix(lower, lemma(lower, self.lang), NEGATION_PREFIX.get(self.lang))

    def _forms(self, words: list[str]) -> frozenset[int]:
        """Lower-form hashes of ``words`` and their accent-free spellings (no lemmas)."""
        return frozenset(t.lower for t in self._tokens(words))

    def hits(self, doc: Doc, turn: int = 0, text: str | None = None) -> list[Hit]:
        """Return the hits in one turn's Doc (of ``text``) that survive negation and context checks."""
        text = doc.text if text is None else text
        # An empty Matcher warns on every call: only matchers with patterns run.
        matches = self._phrase_matches(doc, text) if len(self.phrase_matcher) else []
        if len(self.token_matcher):
            matches += self.token_matcher(doc)
        negated_words = self._negated_words(doc) if self.prefix else []
        negated_words += self._negated_anchors(doc)
        if not matches and not negated_words:
            return []
        view = TokenView(doc, text, self.sentence_ends, self.skipped)
        found: dict[tuple[str, str, int], Hit] = {}
        for i, criteria in negated_words:
            for criterion in criteria:
                found[(criterion, VETOED, view.idx[i])] = _hit(view, criterion, VETOED, turn, i, i + 1)
        for match_id, start, end in matches:
            rule = self.rules[self.nlp.vocab.strings[match_id]]
            first, last = view.sentence(start, end)
            kind = rule.kind
            if (
                self._polarity_differs(view, start, end, rule.prefixed)
                or (kind in NEGATABLE and self._negated(view, start, first))
                or (
                    (rule.require or rule.require_negated or rule.forbid)
                    and not self._context_ok(view, start, end, first, last, rule)
                )
                or (
                    (rule.before or rule.after)
                    and self._forbidden_beside(view, start, end, first, last, rule)
                )
            ):
                if kind != "phrase":
                    continue
                # Kept as "vetoed": a negated or out-of-context phrase earns nothing, and it
                # stops the classifier from passing the same turn on its look-alike words.
                kind = VETOED
            key = (rule.criterion, kind, view.idx[start])
            if key not in found:
                found[key] = _hit(view, rule.criterion, kind, turn, start, end)
        return sorted(found.values(), key=lambda h: (h.turn, h.start, h.criterion))

    def _negated_words(self, doc: Doc) -> list[tuple[int, tuple[str, ...]]]:
        """Tokens that are a one-word phrase negated by prefix ("nezrušila" for "zrušila"):
        their lemma is not the phrase's, so the matchers never see them.
        """
        out = []
        strings = self.nlp.vocab.strings
        prefix = self.prefix or ""
        for i, h in enumerate(doc.to_array([LOWER]).tolist()):
            criteria = self._prefix_negated.get(h)
            if criteria is None:
                word = strings[h]
                criteria = ()
                if prefix and word.startswith(prefix) and len(word) > len(prefix) + 2:
                    criteria = tuple(sorted(self.single_words.get(lemma(word[len(prefix) :], self.lang), ())))
                self._prefix_negated[h] = criteria
            if criteria:
                out.append((i, criteria))
        return out

    def _negated_anchors(self, doc: Doc) -> list[tuple[int, tuple[str, ...]]]:
        """Phrase content words right after a negation in their clause ("I'm not sorry",
        "I don't understand"): no phrase matched them, but they are look-alikes."""
        rows = doc.to_array([LOWER, NORM]).tolist()
        if not any(lower in self.negators for lower, _ in rows):
            return []
        lowers = [lower for lower, _ in rows]
        out = []
        for i, (_, norm) in enumerate(rows):
            criteria = self.anchors.get(norm)
            if criteria and self._negator_before(lowers, i, 0):
                out.append((i, tuple(sorted(criteria))))
        return out

    def _negated(self, view: TokenView, start: int, first: int) -> bool:
        """A negation word just before the hit, in the same clause ("I'm not sorry"; but not
        "No problem, thanks")."""
        return self._negator_before(view.lower, start, first)

    def _negator_before(self, lowers: list[int], start: int, first: int) -> bool:
        """Whether a negator stands among the few tokens before ``start`` (not before
        ``first``), inside the clause; "no"-like negators only right before it."""
        for i in range(start - 1, max(first, start - NEGATION_LOOKBACK) - 1, -1):
            if (
                lowers[i] in self.clause_breaks
                or lowers[i] in self.sentence_ends
                or lowers[i] in self.predicates
            ):
                return False
            if lowers[i] in self.negators and (i == start - 1 or lowers[i] not in self.near_only):
                return True
        return False

    def _polarity_differs(
        self, view: TokenView, start: int, end: int, prefixed: tuple[bool, ...] | None
    ) -> bool:
        """A word negated by prefix on one side only ("nechápu" for "chápu", "jsem" for "nejsem").

        Lemmas drop the prefix, so lemma matching alone would equate the two. "něco" typed
        "neco" is no negation: it still finds "něco".
        """
        if not self.prefix or prefixed is None:
            return False
        strings = self.nlp.vocab.strings
        return any(
            _typed_with_prefix(strings[view.lower[i]], strings[view.norm[i]], self.prefix) != has_prefix
            for i, has_prefix in zip(view.words(start, end), prefixed, strict=False)
        )

    def _forbidden_beside(
        self, view: TokenView, start: int, end: int, first: int, last: int, rule: Rule
    ) -> bool:
        """A ``forbid_before`` word among the ``within`` words before the hit, or a
        ``forbid_after`` word among those after it, looking only inside the clause: any
        punctuation, a conjunction or the sentence's end stops the look."""
        for forms, steps in ((rule.before, range(start - 1, first - 1, -1)), (rule.after, range(end, last))):
            for i in steps[: rule.within] if forms else ():
                if view.lower[i] in forms:
                    return True
                if view.lower[i] in self.clause_breaks or view.skip[i] or view.ends[i]:
                    break
        return False

    def _context_ok(self, view: TokenView, start: int, end: int, first: int, last: int, rule: Rule) -> bool:
        lo, hi = view.window(start, end, first, last, rule.within)
        words = set(view.norm[lo:hi]) | set(view.lower[lo:hi])
        if rule.forbid and words & rule.forbid:
            return False
        if not (rule.require or rule.require_negated):
            return True
        # A required word counts only with the same polarity: "nepřijde" shares the lemma of
        # "přijde", and "příjemné" that of a required "nepříjemné".
        strings = self.nlp.vocab.strings
        for i in range(lo, hi):
            negated = _drops_prefix(strings[view.lower[i]], strings[view.norm[i]], self.prefix)
            if negated and view.norm[i] in rule.require_negated:
                return True
            if not negated and (view.norm[i] in rule.require or view.lower[i] in rule.require):
                return True
        return False


def _hit(view: TokenView, criterion: str, kind: str, turn: int, start: int, end: int) -> Hit:
    """A hit on tokens ``start:end``, with the sentence around them."""
    s_start, s_end = view.chars(*view.sentence(start, end))
    m_start, m_end = view.chars(start, end)
    return Hit(criterion, kind, turn, s_start, s_end, view.text[s_start:s_end], view.text[m_start:m_end])


def _for_language(packs: dict, lang: str) -> list:
    if lang == FALLBACK_LANGUAGE:  # every language's entries, for a language the rubric lacks
        return [item for items in packs.values() for item in items]
    return list(packs.get(lang, []))


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

    def find_hits(
        self, texts: Sequence[str], lang: str, turns: Sequence[int] | None = None
    ) -> list[list[Hit]]:
        """Return the hits for each text (one text = one turn, numbered by ``turns``) in ``lang``."""
        rules = self.rules_for(lang)
        numbers = turns if turns is not None else [0] * len(texts)
        docs = rules.nlp.pipe((text.translate(APOSTROPHES) for text in texts), batch_size=256)
        return [rules.hits(doc, n, text) for doc, n, text in zip(docs, numbers, texts, strict=True)]
