"""Rules and the classifier -> InteractionScore, per the public Score contract."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from qa_pipeline.contracts import (
    CriterionResult,
    Evidence,
    Flag,
    Interaction,
    InteractionScore,
)
from qa_pipeline.language import detect_language
from qa_pipeline.overrides import score_flag, total_score
from qa_pipeline.rubric import Criterion, Rubric
from qa_pipeline.rules import ESCALATION, UPSET, Hit, RuleEngine
from qa_pipeline.windows import turn_offsets, window_turns  # noqa: F401  (turn_offsets re-exported)

if TYPE_CHECKING:
    from qa_pipeline.classifier import TurnClassifier

# A rule fail by absence of any phrase is weaker evidence than a phrase that was found.
CONFIDENCE_FOUND = 1.0
CONFIDENCE_ABSENT = 0.7


def resolve_language(interaction: Interaction, rubric: Rubric) -> str:
    """The interaction's language, else detected from its text among the rubric's languages."""
    if interaction.language:
        return interaction.language.lower()
    lang, _ = detect_language(interaction.text(), tuple(rubric.languages), default=rubric.languages[0])
    return lang


def not_applicable(criterion: Criterion, interaction: Interaction, hits: list[Hit]) -> CriterionResult | None:
    """An ``na`` result when the criterion does not apply to this interaction, else None."""
    if interaction.channel not in criterion.channels:
        return CriterionResult.model_construct(
            result="na", score=None, confidence=1.0, reason=f"not scored on {interaction.channel}"
        )
    rule = criterion.na_when
    if rule is None:
        return None
    customer = [i for i, t in enumerate(interaction.turns) if t.speaker == "customer"]
    words = sum(len(interaction.turns[i].text.split()) for i in customer)
    if rule.customer_words_below and words < rule.customer_words_below:
        return CriterionResult.model_construct(
            result="na",
            score=None,
            confidence=1.0,
            reason=f"customer wrote {words} word(s): nothing to {criterion.name.lower()}",
        )
    said = [
        _evidence(h) for h in hits if h.criterion == criterion.id and h.kind == "na" and h.turn in customer
    ]
    if said:
        return CriterionResult.model_construct(
            result="na",
            score=None,
            confidence=1.0,
            evidence=said,
            reason="customer: " + quoted(said),
        )
    return None


def raised(
    criterion: Criterion, interaction: Interaction, hits: list[Hit]
) -> tuple[list[Evidence], str] | None:
    """For a topic-conditional criterion (``applies_when``): the sentences that raised its
    topic, and the reason in words ("the customer: “it still doesn't work”", "a 42 s
    silence on the call"); None when nothing did. Not topic-conditional: ([], "")."""
    rule = criterion.applies_when
    if rule is None:
        return [], ""
    by = {i for i, t in enumerate(interaction.turns) if rule.speaker in ("any", t.speaker)}
    said = [_evidence(h) for h in hits if h.criterion == criterion.id and h.kind == "topic" and h.turn in by]
    if said:
        return said, f"{'the ' + rule.speaker if rule.speaker != 'any' else 'said'}: {quoted(said[:2])}"
    silence = (interaction.metadata.get("metrics") or {}).get("longest_silence_s")
    if rule.silence_s and interaction.channel == "call" and silence is not None and silence >= rule.silence_s:
        return [], f"a {silence:.0f} s silence on the call"
    return None


def judge(criterion: Criterion, interaction: Interaction, hits: list[Hit]) -> CriterionResult:
    """Decide one criterion from the hits in the interaction's turns."""
    na = not_applicable(criterion, interaction, hits)
    if na is not None:
        return na
    topic = raised(criterion, interaction, hits)
    if topic is None:
        subject = criterion.applies_when.topic if criterion.applies_when else "topic"
        return CriterionResult.model_construct(
            result="na", score=None, confidence=1.0, reason=f"no {subject} in the conversation"
        )
    context, why = topic
    turns = set(window_turns(interaction, criterion))
    if not turns:
        return CriterionResult.model_construct(
            result="na", score=None, confidence=1.0, reason=f"no {criterion.speaker} turns"
        )
    outcome = customer_outcome(criterion, interaction, hits)
    if outcome is not None and outcome[0] == "denied":
        evidence = [outcome[1]]
        return CriterionResult.model_construct(
            result="fail",
            score=0.0,
            confidence=CONFIDENCE_FOUND,
            evidence=evidence,
            reason="the customer says it is not resolved: " + quoted(evidence),
        )
    mine = [h for h in hits if h.turn in turns]  # hits holds this criterion's hits (or more)
    mine = [h for h in mine if h.criterion == criterion.id]
    negative = [_evidence(h) for h in mine if h.kind == "negative"]
    positive = [_evidence(h) for h in mine if h.kind == "phrase"]
    offending = "negative phrase: " + quoted(negative)
    if negative and criterion.negative_effect == "fail":
        return CriterionResult.model_construct(
            result="fail", score=0.0, confidence=CONFIDENCE_FOUND, evidence=negative, reason=offending
        )
    if outcome is not None:  # the customer confirms: that earns it too
        positive.append(outcome[1])
    if not positive:
        missing = f"no {criterion.name.lower()} phrase in the {len(turns)} turn(s) read"
        return CriterionResult.model_construct(
            result="fail",
            score=0.0,
            confidence=CONFIDENCE_ABSENT if not negative else 1.0,
            evidence=context + negative,
            reason=offending if negative else f"{why}; {missing}" if why else missing,
        )
    if criterion.then is not None:
        first = min((e.turn, e.start) for e in positive)
        after = [
            _evidence(h).model_copy(update={"kind": "phrase"})
            for h in mine
            if h.kind == "then" and (h.turn, h.start) >= first
        ]
        if not after:
            return CriterionResult.model_construct(
                result="fail",
                score=0.0,
                confidence=CONFIDENCE_ABSENT,
                evidence=context + positive + negative,
                reason=f"{quoted(positive[:1])}, but no {criterion.then.name} after it",
            )
        positive += after
    score = max(0.0, 1.0 - criterion.deduction * len(negative))
    return CriterionResult.model_construct(
        result="pass" if score > 0 else "fail",
        score=score,
        confidence=CONFIDENCE_FOUND,
        evidence=context + positive + negative,
        reason=offending if negative else why or None,
    )


def customer_outcome(
    criterion: Criterion, interaction: Interaction, hits: list[Hit]
) -> tuple[str, Evidence] | None:
    """("confirmed" | "denied", the customer's sentence) from the latest of the customer's last
    turns that says either, or None."""
    rule = criterion.customer_outcome
    if rule is None:
        return None
    customer = [i for i, t in enumerate(interaction.turns) if t.speaker == "customer"]
    last = set(customer[-rule.last_customer_turns :])
    said = [
        h
        for h in hits
        if h.criterion == criterion.id and h.kind in ("confirmed", "denied") and h.turn in last
    ]
    if not said:
        return None
    # the latest turn decides; inside one turn a denial outweighs a confirmation
    latest = max(said, key=lambda h: (h.turn, h.kind == "denied"))
    return latest.kind, _evidence(latest).model_copy(update={"kind": "customer"})


def _evidence(hit: Hit) -> Evidence:
    return Evidence.model_construct(
        turn=hit.turn, start=hit.start, end=hit.end, text=hit.text, match=hit.match, kind=hit.kind
    )


def flags_for(
    rubric: Rubric,
    interaction: Interaction,
    results: dict[str, CriterionResult],
    cues: dict[str, list[Hit]] | None = None,
) -> list[Flag]:
    """The flags a supervisor should see for this interaction, each with its reason and evidence."""
    rules, cues = rubric.flags, cues or {}
    flags = []
    for c in rubric.criteria:
        r = results[c.id]
        if c.critical and r.result == "fail":
            flags.append(
                Flag.model_construct(
                    code="critical_fail",
                    criterion=c.id,
                    reason=f"{c.name} failed: {r.reason}",
                    evidence=r.evidence,
                )
            )
        negative = [e for e in r.evidence if e.kind == "negative"]
        if negative:
            flags.append(
                Flag.model_construct(
                    code="negative_language", criterion=c.id, reason=r.reason or "", evidence=negative
                )
            )
    customer = [i for i, t in enumerate(interaction.turns) if t.speaker == "customer"]
    flags += cue_flag("escalation", "customer", cues.get(ESCALATION, []), set(customer))
    last = set(customer[-rules.upset_last_turns :])
    flags += cue_flag("customer_upset_at_end", "customer at the end", cues.get(UPSET, []), last)
    if not interaction.agent_turns():
        flags.append(
            Flag.model_construct(
                code="no_agent_turns", reason="no turn by the agent: unanswered or speakers unknown"
            )
        )
    confidence = interaction.metadata.get("transcription_confidence")
    if (
        rules.low_transcription_confidence
        and confidence is not None
        and confidence < rules.low_transcription_confidence
    ):
        flags.append(
            Flag.model_construct(
                code="low_transcription_confidence",
                reason=f"mean word confidence {confidence:.2f}; check the recording",
            )
        )
    silence = (interaction.metadata.get("metrics") or {}).get("longest_silence_s")
    if rules.long_silence_s and silence is not None and silence >= rules.long_silence_s:
        flags.append(
            Flag.model_construct(code="long_silence", reason=f"{silence:.0f} s without speech (hold?)")
        )
    return flags


def quoted(evidence: list[Evidence]) -> str:
    """The matched words of each piece of evidence, quoted: '"calm down"; "not my department"'."""
    return "; ".join(f'"{e.match}"' for e in evidence)


def cue_flag(code: str, who: str, hits: list[Hit], turns: set[int]) -> list[Flag]:
    """A flag for supervisor cue phrases found in ``turns``, or none."""
    evidence = [_evidence(h) for h in hits if h.turn in turns]
    if not evidence:
        return []
    return [Flag.model_construct(code=code, reason=f"{who}: {quoted(evidence)}", evidence=evidence)]


def score_interactions(
    interactions: list[Interaction],
    rubric: Rubric,
    engine: RuleEngine | None = None,
    classifier: TurnClassifier | None = None,
) -> list[InteractionScore]:
    """Score a batch: turns are matched per language in one ``nlp.pipe`` pass each; criteria
    whose method is ``model`` or ``hybrid`` then ask the classifier (the bundled one unless
    ``classifier`` is given) about the turns the rules did not settle.
    """
    from qa_pipeline import hybrid

    engine = engine or RuleEngine(rubric)
    if hybrid.uses_classifier(rubric):
        if classifier is None:
            from qa_pipeline.classifier import load_classifier

            classifier = load_classifier()
        hybrid.check_classifier(rubric, classifier)
    else:
        classifier = None
    languages = [resolve_language(i, rubric) for i in interactions]
    hits: list[list[Hit]] = [[] for _ in interactions]
    # Per language: which interaction each turn belongs to, its text, and its turn number.
    by_lang: dict[str, tuple[list[int], list[str], list[int]]] = defaultdict(lambda: ([], [], []))
    for n, (interaction, lang) in enumerate(zip(interactions, languages, strict=True)):
        owners, texts, numbers = by_lang[lang]
        for t, turn in enumerate(interaction.turns):
            owners.append(n)
            texts.append(turn.text)
            numbers.append(t)
    for lang, (owners, texts, numbers) in by_lang.items():
        for n, found in zip(owners, engine.find_hits(texts, lang, numbers), strict=True):
            if found:
                hits[n] += found
    grouped: list[dict[str, list[Hit]]] = []
    for found in hits:
        by_criterion: dict[str, list[Hit]] = defaultdict(list)
        for hit in found:
            by_criterion[hit.criterion].append(hit)
        grouped.append(by_criterion)
    all_results = [
        {c.id: judge(c, interaction, by_criterion[c.id]) for c in rubric.criteria}
        for interaction, by_criterion in zip(interactions, grouped, strict=True)
    ]
    if classifier is not None:
        hybrid.apply_classifier(rubric, interactions, all_results, grouped, classifier)
    model = classifier.name if classifier is not None else "rules-only"
    scores = []
    for interaction, lang, by_criterion, results in zip(
        interactions, languages, grouped, all_results, strict=True
    ):
        score = total_score(rubric, results)
        scores.append(
            InteractionScore.model_construct(
                interaction_id=interaction.id,
                agent_id=interaction.agent_id,
                channel=interaction.channel,
                rubric=rubric.ref,
                model=model,
                language=lang,
                score=score,
                criteria=results,
                flags=flags_for(rubric, interaction, results, by_criterion)
                + score_flag(rubric, score, results),
            )
        )
    return scores
