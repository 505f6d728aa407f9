"""Rubric schema, loading (with ``extends``), validation and routing.

A rubric is YAML in ``rubrics/``. A team rubric may ``extends: default`` and then
override criteria by id, add criteria, or ``remove`` them. Settings route each
interaction to a rubric by team and channel.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from qa_pipeline.errors import RubricError
from qa_pipeline.methods import criterion_methods, method_of
from qa_pipeline.patterns import check_pattern

ALL_CHANNELS: list[Literal["call", "chat", "email"]] = ["call", "chat", "email"]
PACK_FIELDS = ("phrases", "negative", "patterns", "negative_patterns")


class Window(BaseModel):
    """Which of the criterion's turns it reads. Empty: anywhere in the interaction."""

    model_config = {"extra": "forbid"}

    first_turns: int | None = Field(default=None, ge=1)
    last_turns: int | None = Field(default=None, ge=1)
    first_seconds: float | None = Field(default=None, gt=0)
    last_seconds: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_kind(self) -> Window:
        set_fields = [k for k, v in self.model_dump().items() if v is not None]
        if len(set_fields) > 1:
            raise ValueError(
                f"give one of first_turns, last_turns, first_seconds, last_seconds, not {set_fields}"
            )
        return self

    def describe(self, speaker: str) -> str:
        who = {"agent": "the agent's", "customer": "the customer's", "any": "all"}[speaker]
        if self.first_turns:
            return f"{who} first {self.first_turns} turn(s)"
        if self.last_turns:
            return f"{who} last {self.last_turns} turn(s)"
        if self.first_seconds:
            return f"{who} turns in the first {self.first_seconds:g} seconds"
        if self.last_seconds:
            return f"{who} turns in the last {self.last_seconds:g} seconds"
        return f"{who} turns, anywhere"


class Phrase(BaseModel):
    """A phrase with context: it counts only with (or without) certain words nearby."""

    model_config = {"extra": "forbid"}

    text: str = Field(min_length=1)
    require_near: list[str] = Field(default_factory=list)
    forbid_near: list[str] = Field(default_factory=list)
    # One side only, and exact word forms (any case, with or without accents), not lemmas:
    # "thanks" followed by "to" is a cause ("thanks to the storm"), "appreciate" after "'d" a
    # request ("I'd appreciate a call"; the lemma of "'d" is "have"). The look stops at
    # punctuation and conjunctions, so "Thanks, to confirm ..." still thanks.
    forbid_before: list[str] = Field(
        default_factory=list, description="words that veto the phrase when they come before it in its clause"
    )
    forbid_after: list[str] = Field(
        default_factory=list, description="words that veto the phrase when they follow it in its clause"
    )
    within: int = Field(
        default=5,
        ge=1,
        description="words either side, inside the sentence; commas and dashes are not counted",
    )
    # By lemma, a past form also finds the imperative: "poslala" (I sent) finds "pošlete nám
    # fotku" (send us a photo), "отправил" finds "отправьте", "resolved" finds "resolve it".
    exact: bool = Field(
        default=False,
        description="match the words as written (any case, with or without accents), not their lemmas",
    )


PhraseList = list[str | Phrase]
TokenPattern = list[dict[str, Any]]


class NAWhen(BaseModel):
    """When a criterion does not apply: it is then ``na`` and leaves the score."""

    model_config = {"extra": "forbid"}

    customer_words_below: int | None = Field(default=None, ge=1)
    customer_phrases: dict[str, list[str]] = Field(default_factory=dict)


class AppliesWhen(BaseModel):
    """Topic-conditional N/A: the criterion applies only when the conversation raises its topic
    (the customer reports a failure, the agent refuses or puts the customer on hold): one of
    these phrases or patterns said by ``speaker``, or, on a call, a silence of at least
    ``silence_s`` seconds. Otherwise the criterion is N/A, and the reason names the topic."""

    model_config = {"extra": "forbid"}

    topic: str = Field(min_length=1, description='in plain words, for the reason: "a hold or transfer"')
    speaker: Literal["agent", "customer", "any"] = "customer"
    phrases: dict[str, PhraseList] = Field(default_factory=dict)
    patterns: dict[str, list[TokenPattern]] = Field(default_factory=dict)
    silence_s: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _something_raises_it(self) -> AppliesWhen:
        if not any(self.phrases.values()) and not any(self.patterns.values()) and self.silence_s is None:
            raise ValueError("needs phrases, patterns or silence_s: something that raises the topic")
        return self


class Then(BaseModel):
    """A second step a pass needs after the criterion's phrase, by the same speaker in the same
    turn or a later one: ask before a hold, then thank the customer for waiting."""

    model_config = {"extra": "forbid"}

    name: str = Field(min_length=1, description='in plain words, for the reason: "thanks for waiting"')
    phrases: dict[str, PhraseList] = Field(default_factory=dict)


class CustomerOutcome(BaseModel):
    """The customer's own word on the outcome, read in their last turns: "that worked,
    thanks" confirms it, "still not working" or "I'll call back" denies it. The latest of
    the two decides; a denial fails the criterion whatever the agent said."""

    model_config = {"extra": "forbid"}

    last_customer_turns: int = Field(default=2, ge=1)
    confirmed: dict[str, PhraseList] = Field(default_factory=dict)
    denied: dict[str, PhraseList] = Field(default_factory=dict)


class Criterion(BaseModel):
    """One thing the rubric checks, with its phrases and token patterns per language."""

    model_config = {"extra": "forbid"}

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    description: str = ""
    weight: float = Field(gt=0, le=1_000_000, allow_inf_nan=False)
    critical: bool = False
    channels: list[Literal["call", "chat", "email"]] = Field(default_factory=lambda: list(ALL_CHANNELS))
    speaker: Literal["agent", "customer", "any"] = "agent"
    window: Window = Field(default_factory=Window)
    # rule: phrases and patterns only; hybrid: a rule hit, else the classifier's best sentence
    # in the window; model: the classifier alone (qa_pipeline/methods.py; plug-ins may add more).
    method: str = "rule"
    phrases: dict[str, PhraseList] = Field(default_factory=dict)
    patterns: dict[str, list[TokenPattern]] = Field(default_factory=dict)
    negative: dict[str, PhraseList] = Field(default_factory=dict)
    negative_patterns: dict[str, list[TokenPattern]] = Field(default_factory=dict)
    negative_effect: Literal["fail", "deduct"] = "fail"
    deduction: float = Field(
        default=0.5, gt=0, le=1, description="per negative hit, with negative_effect: deduct"
    )
    na_when: NAWhen | None = None
    applies_when: AppliesWhen | None = None
    then: Then | None = None
    customer_outcome: CustomerOutcome | None = None

    @model_validator(mode="after")
    def _something_to_find(self) -> Criterion:
        if not any(self.phrases.values()) and not any(self.patterns.values()):
            raise ValueError("needs at least one phrase or token pattern in at least one language")
        return self

    @field_validator("method")
    @classmethod
    def _known_method(cls, value: str) -> str:
        if value not in criterion_methods.names():
            raise ValueError(f"unknown method {value!r}; known: {', '.join(criterion_methods.names())}")
        return value

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("needs at least one channel")
        return value


class FlagRules(BaseModel):
    """When a scored interaction is flagged for a supervisor, beyond failed criteria."""

    model_config = {"extra": "forbid"}

    score_below: float | None = Field(default=60.0, ge=0, le=100, description="flag a lower score")
    # Customer phrases anywhere: asks for a manager, threatens to cancel, complain or sue.
    escalation: dict[str, list[str]] = Field(default_factory=dict)
    # Customer phrases in their last turns: still unhappy when the interaction ended.
    upset: dict[str, list[str]] = Field(default_factory=dict)
    upset_last_turns: int = Field(default=2, ge=1)
    long_silence_s: float | None = Field(default=30.0, gt=0)
    low_transcription_confidence: float | None = Field(default=0.5, gt=0, lt=1)


class Rubric(BaseModel):
    """A versioned set of criteria."""

    model_config = {"extra": "forbid"}

    id: str
    version: int = Field(ge=1)
    name: str
    description: str = ""
    extends: str | None = None
    languages: list[str] = Field(min_length=1)
    criteria: list[Criterion] = Field(min_length=1)
    flags: FlagRules = Field(default_factory=FlagRules)

    @model_validator(mode="after")
    def _unique_ids(self) -> Rubric:
        ids = [c.id for c in self.criteria]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"criterion ids must be unique; repeated: {', '.join(dupes)}")
        return self

    @property
    def ref(self) -> str:
        """``id@version``, as written into every Score."""
        return f"{self.id}@{self.version}"

    @property
    def total_weight(self) -> float:
        return sum(c.weight for c in self.criteria)

    def with_method(self, method: str, only: str | None = None) -> Rubric:
        """A copy deciding every criterion (or criterion ``only``) by ``method``: "rule" gives
        the rules-only baseline that evaluations and benchmarks compare hybrid against."""
        criteria = [
            c.model_copy(update={"method": method}) if only in (None, c.id) else c for c in self.criteria
        ]
        return self.model_copy(update={"criteria": criteria})


def _describe(error: Mapping[str, Any], data: dict) -> str:
    loc = list(error["loc"])
    where = ""
    if len(loc) >= 2 and loc[0] == "criteria" and isinstance(loc[1], int):
        try:
            cid = data["criteria"][loc[1]].get("id", f"#{loc[1]}")
        except (IndexError, AttributeError, KeyError):
            cid = f"#{loc[1]}"
        where = f"criterion '{cid}', "
        loc = loc[2:]
    # Union branches (str | Phrase) add type names to the location; they mean nothing to a user.
    loc = [p for p in loc if p not in {"str", "Phrase"}]
    field = ".".join(str(p) for p in loc) or "(top level)"
    return f"{where}field '{field}': {error['msg']}"


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RubricError(f"rubric {path} not found; check the path or the 'rubric' setting") from None
    except yaml.YAMLError as exc:
        raise RubricError(f"{path}: not valid YAML ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise RubricError(f"{path}: not UTF-8 (byte {exc.start}); save the rubric as UTF-8") from None
    except RecursionError:
        raise RubricError(f"{path}: nested too deeply to be a rubric") from None
    if not isinstance(data, dict):
        raise RubricError(f"{path}: expected a mapping with id, version, name, languages, criteria")
    return data


def _parent_path(path: Path, name: str) -> Path:
    candidate = Path(name)
    if candidate.suffix not in {".yaml", ".yml"}:
        candidate = candidate.with_suffix(".yaml")
    return candidate if candidate.is_absolute() else path.parent / candidate


def merge_rubrics(base: dict[str, Any], child: dict[str, Any], path: Path) -> dict[str, Any]:
    """The child's top-level fields over the base; criteria merged by id; ``remove`` drops some."""
    merged = {**base, **{k: v for k, v in child.items() if k not in {"criteria", "remove", "flags"}}}
    merged["flags"] = {**(base.get("flags") or {}), **(child.get("flags") or {})}
    criteria = {c["id"]: dict(c) for c in base.get("criteria", []) if isinstance(c, dict) and "id" in c}
    order = list(criteria)
    for change in child.get("criteria", []) or []:
        if not isinstance(change, dict) or "id" not in change:
            raise RubricError(f"{path}: every criterion needs an 'id'")
        cid = change["id"]
        if cid in criteria:
            updated = {**criteria[cid], **change}
            for key in PACK_FIELDS:  # per-language packs: the child's language lists replace the base's
                if key in change:
                    updated[key] = {**criteria[cid].get(key, {}), **change[key]}
            criteria[cid] = updated
        else:
            criteria[cid] = dict(change)
            order.append(cid)
    for cid in child.get("remove", []) or []:
        if cid not in criteria:
            raise RubricError(f"{path}: field 'remove': no criterion '{cid}' in the rubric it extends")
        del criteria[cid]
        order.remove(cid)
    merged["criteria"] = [criteria[cid] for cid in order]
    return merged


def _resolve(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    data = _read_yaml(path)
    parent = data.get("extends")
    if not parent:
        return data
    parent_path = _parent_path(path, str(parent))
    if parent_path.resolve() in seen:
        raise RubricError(f"{path}: field 'extends': circular ({' -> '.join(p.name for p in seen)})")
    base = _resolve(parent_path, (*seen, path.resolve()))
    return merge_rubrics(base, data, path)


def _regexes(value: Any) -> list[str]:
    """Every REGEX predicate in a token pattern (they may sit under TEXT, LOWER, NORM...)."""
    if isinstance(value, dict):
        found = []
        for key, inner in value.items():
            found += [inner] if key == "REGEX" and isinstance(inner, str) else _regexes(inner)
        return found
    if isinstance(value, list):
        return [found for v in value for found in _regexes(v)]
    return []


def _token_pattern_problems(rubric: Rubric) -> list[str]:
    from spacy.lang.xx import MultiLanguage
    from spacy.matcher import Matcher

    matcher = Matcher(MultiLanguage().vocab, validate=True)
    problems = []
    for c in rubric.criteria:
        for field in ("patterns", "negative_patterns"):
            for lang, patterns in getattr(c, field).items():
                for n, pattern in enumerate(patterns):
                    where = f"criterion '{c.id}', field '{field}.{lang}.{n}'"
                    for expression in _regexes(pattern):
                        if problem := check_pattern(expression):
                            problems.append(f"{where}: REGEX {expression!r}: {problem}")
                    try:
                        matcher.add(f"{c.id}-{field}-{lang}-{n}", [pattern])
                    except (ValueError, TypeError, KeyError) as exc:
                        first = str(exc).strip().splitlines()[-1][:200]
                        problems.append(f"{where}: not a spaCy Matcher pattern ({first})")
    return problems


def _known_language(code: str) -> bool:
    from spacy.util import get_lang_class

    try:
        get_lang_class(code)
    except ImportError:
        return False
    return True


def _unknown_languages(rubric: Rubric) -> list[str]:
    """Language codes spaCy does not know: scoring could not read text in them."""
    return [
        f"field 'languages': unknown language code {code!r} (use ISO 639-1: en, cs, sl, lt, ru...)"
        for code in rubric.languages
        if not _known_language(code)
    ]


def coverage_problems(rubric: Rubric) -> list[str]:
    """Packs in languages the rubric does not declare, and declared languages in which a
    criterion has nothing to find (it could never pass there): ``qa rubric validate``."""
    problems = []
    declared = set(rubric.languages)
    for c in rubric.criteria:
        for field in PACK_FIELDS:
            for lang in sorted(set(getattr(c, field)) - declared):
                problems.append(
                    f"criterion '{c.id}', field '{field}.{lang}': {lang!r} is not among the rubric's "
                    f"languages ({', '.join(rubric.languages)})"
                )
        for lang in rubric.languages:
            if not c.phrases.get(lang) and not c.patterns.get(lang):
                problems.append(
                    f"criterion '{c.id}': no phrases or patterns in {lang!r}, a language the rubric "
                    "declares; it could never pass there"
                )
    return problems


def untrained_problems(rubric: Rubric, trained: set[str], model: Path) -> list[str]:
    """Criteria whose method reads the classifier although ``model`` was not trained for them."""
    return [
        f"criterion '{c.id}', field 'method': {c.method!r} needs the classifier, and {model.name} "
        f"was not trained for '{c.id}' (it knows {', '.join(sorted(trained))}); use method: rule, "
        "or train with labels for it"
        for c in rubric.criteria
        if method_of(c).needs_classifier and c.id not in trained
    ]


def rubric_problems(path: Path) -> tuple[Rubric | None, list[str]]:
    """The rubric (None when it does not validate) and every problem that stops it from
    scoring, each naming the criterion and the field; checking goes on past the first."""
    data = _resolve(path)
    try:
        rubric = Rubric.model_validate(data)
    except ValidationError as exc:
        # For "str | Phrase" entries, the Phrase branch's error says more than "not a string":
        # one message per place, the Phrase branch's first.
        errors = sorted(exc.errors(), key=lambda e: "str" in e["loc"])
        messages = dict.fromkeys(
            _describe(e, data) for e in errors if not ("str" in e["loc"] and _twin(e, errors))
        )
        return None, list(messages)
    return rubric, _token_pattern_problems(rubric) + _unknown_languages(rubric)


def _twin(error: Mapping[str, Any], errors: list[Any]) -> bool:
    """Whether the other branch of a ``str | Phrase`` entry also failed at this place."""
    place = [p for p in error["loc"] if p != "str"]
    return any(
        "Phrase" in e["loc"] and [p for p in e["loc"] if p != "Phrase"][: len(place)] == place for e in errors
    )


def listed(problems: list[str]) -> str:
    """One problem as it is; several as a count and a list, one per line."""
    if len(problems) == 1:
        return problems[0]
    return f"{len(problems)} problems:" + "".join(f"\n  - {p}" for p in problems)


def load_rubric(path: Path) -> Rubric:
    """Load (following ``extends``) and validate a rubric.

    RubricError names the file, then every problem with its criterion and field.
    """
    rubric, problems = rubric_problems(path)
    if problems or rubric is None:
        raise RubricError(f"{path}: {listed(problems)}")
    return rubric


def criterion_names(paths: list[Path]) -> dict[str, Any]:
    """Criterion id -> its Criterion, from these rubrics (the first rubric naming an id wins)."""
    found: dict[str, Any] = {}
    for path in paths:
        for criterion in cached_rubric(path).criteria:
            found.setdefault(criterion.id, criterion)
    return found


def rubric_for(key: str, paths: list[Path]) -> Rubric | None:
    """The rubric a stored score names (``default@9``) among these: that version, else the
    configured one of the same id (a score of an older version), else None."""
    rubrics = [cached_rubric(p) for p in paths]
    exact = [r for r in rubrics if r.ref == key]
    same_id = [r for r in rubrics if r.id == key.split("@")[0]]
    return (exact or same_id)[0] if exact or same_id else None


@lru_cache(maxsize=32)
def cached_rubric(path: Path) -> Rubric:
    """load_rubric, once per path per process."""
    return load_rubric(path)


def _examples(packs: dict[str, list], limit: int = 4) -> str:
    parts = []
    for lang, items in packs.items():
        texts = [i.text if isinstance(i, Phrase) else i for i in items]
        if texts:
            more = f" (+{len(texts) - limit} more)" if len(texts) > limit else ""
            parts.append(f"{lang}: " + ", ".join(f'"{t}"' for t in texts[:limit]) + more)
    return "; ".join(parts)


def explain_criterion(c: Criterion, total_weight: float) -> list[str]:
    """Plain-words description of one criterion, one line per fact."""
    lines = [
        f"{c.name} ({c.id}) - weight {c.weight:g} ({100 * c.weight / total_weight:.0f}% of the score)"
        + (", CRITICAL: failing it scores the whole interaction 0" if c.critical else "")
    ]
    if c.description:
        lines.append(f"  {c.description}")
    lines.append(f"  Reads {c.window.describe(c.speaker)} (channels: {', '.join(c.channels)}).")
    lines.append(
        f"  Passes on a phrase such as {_examples(c.phrases)}"
        if any(c.phrases.values())
        else "  Passes on a token pattern only."
    )
    patterns = sum(len(p) for p in c.patterns.values())
    if patterns:
        lines.append(f"  ... or on one of {patterns} token pattern(s) ({', '.join(c.patterns)}).")
    if said := method_of(c).explain(c):
        lines.append(f"  {said}")
    context = [p for items in c.phrases.values() for p in items if isinstance(p, Phrase)]
    for p in context:
        rule = []
        if p.require_near:
            rule.append(f"only with one of {', '.join(p.require_near)} nearby")
        if p.forbid_near:
            rule.append(f"never with {', '.join(p.forbid_near)} nearby")
        if p.forbid_before:
            rule.append(f"never after {', '.join(p.forbid_before)}")
        if p.forbid_after:
            rule.append(f"never followed by {', '.join(p.forbid_after)}")
        written = " as written (no other form of the word)" if p.exact else ""
        near = f" {' and '.join(rule)} (within {p.within} words)" if rule else ""
        lines.append(f'  "{p.text}" counts{written}{near}.')
    if any(c.negative.values()) or any(c.negative_patterns.values()):
        effect = (
            "fails the criterion"
            if c.negative_effect == "fail"
            else f"takes {c.deduction:g} off the criterion per hit"
        )
        lines.append(f"  A negative phrase {effect}: {_examples(c.negative)}.")
    lines.append('  A phrase right after a negation ("not", "ne", "не", ...) in its clause does not count.')
    outcome = c.customer_outcome
    if outcome and (any(outcome.confirmed.values()) or any(outcome.denied.values())):
        lines.append(
            f"  The customer's last {outcome.last_customer_turns} turn(s) decide when they say so: "
            f"{_examples(outcome.confirmed, 2)} passes it, {_examples(outcome.denied, 2)} fails it."
        )
    if c.then and any(c.then.phrases.values()):
        lines.append(
            f"  A pass also needs {c.then.name} after the phrase, in the same turn or a later one: "
            f"{_examples(c.then.phrases, 2)}."
        )
    na = ["when the interaction has no such turns"]
    topic = c.applies_when
    if topic:
        raised = [f"the {topic.speaker}" if topic.speaker != "any" else "anyone"]
        raised[0] += (
            f" says e.g. {_examples(topic.phrases, 2)}" if any(topic.phrases.values()) else " says so"
        )
        if topic.silence_s:
            raised.append(f"a call has a silence of {topic.silence_s:g} s or more")
        na.append(
            f"when there is no {topic.topic} in the conversation (it counts when {' or '.join(raised)})"
        )
    if c.na_when and c.na_when.customer_words_below:
        na.append(f"when the customer wrote fewer than {c.na_when.customer_words_below} words")
    if c.na_when and any(c.na_when.customer_phrases.values()):
        na.append(f"when the customer says e.g. {_examples(c.na_when.customer_phrases, 2)}")
    lines.append("  Not applicable (left out of the score) " + "; ".join(na) + ".")
    return lines


def explain_rubric(rubric: Rubric) -> str:
    """What each criterion of the rubric looks for, in plain words."""
    head = [
        f"{rubric.name} ({rubric.ref})" + (f", extends {rubric.extends}" if rubric.extends else ""),
        rubric.description,
        f"Languages: {', '.join(rubric.languages)}. Score: weighted share of the criteria that apply, 0-100.",
        "",
    ]
    body = [line for c in rubric.criteria for line in [*explain_criterion(c, rubric.total_weight), ""]]
    return "\n".join([h for h in head if h is not None] + body).rstrip() + "\n"
