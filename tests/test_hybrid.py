"""Hybrid scoring: a rule hit decides with its span; otherwise the classifier's best turn
in the window, above the criterion's threshold, with that turn as evidence."""

import copy

import pytest

from qa_pipeline.classifier import load_classifier
from qa_pipeline.errors import QAError
from qa_pipeline.interactions import Interaction, Turn
from qa_pipeline.scoring import score_interactions


def chat(lang, *agent_lines, customer="My order never arrived and I need it for Friday."):
    turns = [Turn(speaker="customer", text=customer)] + [Turn(speaker="agent", text=t) for t in agent_lines]
    return Interaction(
        id=f"chat:h:{hash(agent_lines) % 10**6}", channel="chat", agent_id="a1", language=lang, turns=turns
    )


# Paraphrases without any of the rubric's phrases. Resolution in Russian and Lithuanian: no
# real training data, the multilingual embeddings carry what the model learnt from English.
# Empathy's threshold is set so that casual speech stays at its rules' F1 (README), so the
# model passes only what it is surest of there.
PARAPHRASES = [
    ("en", "I completely get why you are upset.", "empathy"),
    ("ru", "Курьер заберёт посылку во вторник.", "resolution"),
    ("lt", "Kurjeris paims siuntinį antradienį.", "resolution"),
]


@pytest.mark.parametrize(("lang", "line", "criterion"), PARAPHRASES)
def test_the_classifier_passes_paraphrases_the_rules_miss(rubric, lang, line, criterion):
    item = chat(lang, "Let me check that for you.", line)
    [by_rules] = score_interactions([item], rubric.with_method("rule"))
    assert by_rules.criteria[criterion].result == "fail" and by_rules.model == "rules-only"
    # resolution is rule-only in the default rubric (real outcomes, see README); a team can opt in
    [hybrid] = score_interactions([item], rubric.with_method("hybrid", only=criterion))
    result = hybrid.criteria[criterion]
    classifier = load_classifier()
    assert result.result == "pass" and result.method == "model", result
    assert result.confidence >= classifier.thresholds[criterion]
    [evidence] = result.evidence
    assert evidence.turn == 2 and evidence.text == line and evidence.kind == "model"
    assert hybrid.model == classifier.name


@pytest.mark.parametrize(
    "line",
    [
        "The ending of that film was kind of sad.",
        "My brother finds exams really stressful.",
        "Honestly the weather here is the worst.",
    ],
)
def test_feelings_about_something_else_are_no_empathy(rubric, line):
    # what the model took for empathy before it learnt from help-seekers' own words
    [score] = score_interactions([chat("en", "Let me check that for you.", line)], rubric)
    assert score.criteria["empathy"].result == "fail", score.criteria["empathy"]


def test_a_rule_hit_decides_with_its_span(rubric):
    [score] = score_interactions([chat("en", "I'm so sorry to hear that.")], rubric)
    result = score.criteria["empathy"]
    assert result.method == "rule" and "sorry" in result.evidence[0].match.lower()


def test_a_negative_phrase_still_fails_whatever_the_classifier_thinks(rubric):
    [score] = score_interactions([chat("en", "Absolutely, happy to help! Calm down though.")], rubric)
    result = score.criteria["positive_language"]
    assert result.result == "fail" and result.method == "rule"
    assert any(e.kind == "negative" for e in result.evidence)


def test_the_window_still_applies(rubric):
    greeting = "Morning! This is Priya from the billing team."  # passes by the classifier alone
    early = chat("en", greeting, "Let me check.")
    late = chat("en", "Let me check.", "One moment.", "Still checking.", greeting)
    [first] = score_interactions([early], rubric)
    [last] = score_interactions([late], rubric)
    assert first.criteria["greeting"].result == "pass"
    # the classifier read the first two agent turns only, never the greeting in the fourth
    assert (
        last.criteria["greeting"].result == "fail"
        and "in the 2 turn(s) read" in last.criteria["greeting"].reason
    )
    assert not last.criteria["greeting"].evidence


def test_a_failed_decision_says_what_the_classifier_saw(rubric):
    [score] = score_interactions([chat("en", "Please hold.", "Your reference is 48213.")], rubric)
    result = score.criteria["empathy"]
    assert result.result == "fail" and result.method == "model"
    assert "classifier best turn" in result.reason and 0 <= result.confidence <= 1


def test_model_method_ignores_phrases(rubric):
    only_model = rubric.model_copy(
        update={"criteria": [c.model_copy(update={"method": "model"}) for c in rubric.criteria]}
    )
    [score] = score_interactions([chat("en", "Hello, I'm sorry to hear that. Thanks!")], only_model)
    assert {r.method for r in score.criteria.values() if r.result != "na"} == {"model"}


def test_a_rubric_asking_for_an_untrained_criterion_is_refused(rubric):
    extra = rubric.criteria[0].model_copy(update={"id": "verification", "method": "hybrid"})
    with pytest.raises(QAError, match=r"verification use the classifier.*qa train"):
        score_interactions(
            [chat("en", "Hi")], rubric.model_copy(update={"criteria": [*rubric.criteria, extra]})
        )


def test_a_long_turn_is_read_sentence_by_sentence_and_the_sentence_is_the_evidence(rubric):
    email = (
        "Thank you for your email. I looked into your account this morning and I can see the two "
        "payments from 3 November. I completely get why that upset you. I have asked our "
        "billing team to reverse the second one. Kind regards, Sarah"
    )
    item = chat("en", email)
    [by_rules] = score_interactions([item], rubric.with_method("rule"))
    assert by_rules.criteria["empathy"].result == "fail"
    [hybrid] = score_interactions([item], rubric)
    result = hybrid.criteria["empathy"]
    assert result.result == "pass" and result.method == "model", result
    [evidence] = result.evidence
    assert evidence.text == "I completely get why that upset you."
    assert email[evidence.start : evidence.end] == evidence.text and evidence.turn == 1


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("Hello. How can I help?", ["Hello.", "How can I help?"]),
        ("Dear Ms Smith,\n\nThanks for writing!!! Bye", ["Dear Ms Smith,", "Thanks for writing!!!", "Bye"]),
        ("no punctuation at all", ["no punctuation at all"]),
        ("...", ["..."]),
    ],
)
def test_sentence_spans(text, sentences):
    from qa_pipeline.classifier import sentence_spans

    assert [text[a:b] for a, b in sentence_spans(text)] == sentences


@pytest.mark.parametrize(
    ("line", "criterion"),
    [
        ("Calm down, it's probably your wiring.", "empathy"),  # soothing words, rude turn
        ("Успокойтесь.", "empathy"),
    ],
)
def test_a_turn_with_negative_language_earns_nothing_from_the_classifier(rubric, line, criterion):
    lang = "ru" if line.startswith("У") else "en"
    [score] = score_interactions([chat(lang, "Let me check that.", line)], rubric)
    result = score.criteria[criterion]
    assert result.result == "fail" and not any(e.kind == "model" for e in result.evidence)


@pytest.mark.parametrize("fragment", ["yo", "Tom", "ok", "really", "good night", "let's chat"])
def test_fragments_too_short_to_judge_are_left_to_the_rules(fragment):
    classifier = load_classifier()
    [best] = classifier.best_sentences([fragment], ["resolution"])["resolution"]
    assert best[0] == 0.0
    longer = classifier.best_sentences([f"{fragment}. Your parcel will arrive tomorrow."], ["resolution"])
    assert longer["resolution"][0][0] > 0.0 and longer["resolution"][0][1] > 0  # the real sentence


def test_a_criterion_the_model_is_never_trusted_on_is_decided_by_the_rules_alone(rubric):
    # no rule phrase (since v24 "not the experience we want" is one), so the classifier is asked
    item = chat("en", "Let me check that for you.", "We never meant for any of this to happen to you.")
    classifier = load_classifier()
    [trusted] = score_interactions([item], rubric, classifier=classifier)
    assert trusted.criteria["empathy"].method == "model"  # the classifier was asked
    distrusting = copy.copy(classifier)
    distrusting.thresholds = {**classifier.thresholds, "empathy": 1.0}  # what training writes then
    [score] = score_interactions([item], rubric, classifier=distrusting)
    result = score.criteria["empathy"]
    assert result.result == "fail" and result.method == "rule" and "classifier" not in result.reason
