"""qa corpus prepare: public corpora in their own formats become labels with provenance.

The fixtures under tests/data/corpora are team-written lines in each corpus's file format
(no corpus text is committed); they check the readers, not accuracy.
"""

import json
from collections import defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa_pipeline.cli import app
from qa_pipeline.corpora import (
    manifest_path,
    prepare_corpus,
    read_corpora,
    reserved_reason,
    sample_split,
    split_of,
)
from qa_pipeline.errors import QAError


@pytest.fixture
def corpora(data: Path) -> Path:
    return data / "corpora"


def labels_of(name: str, paths: list[Path], tmp_path: Path):
    prepared = prepare_corpus(name, paths, tmp_path / f"{name}.jsonl", commit="0" * 40)
    return read_corpora([prepared.labels])[0]


def test_multidogo_intents_become_greeting_and_thanks(corpora, tmp_path):
    labels = labels_of("multidogo", [corpora / "multidogo"], tmp_path)
    passed = {(lb.criterion, lb.text) for lb in labels if lb.label == "pass"}
    assert passed == {
        ("greeting", "hello there"),
        ("greeting", "hey good morning"),
        ("thanks", "ok thanks a lot"),
        ("thanks", "thanks, and can you book a window seat"),  # one of two intents
    }
    assert ("thanks", "bye") in {(lb.criterion, lb.text) for lb in labels if lb.label == "fail"}
    assert "no" not in {lb.text for lb in labels}  # no intent annotated: not a label
    assert {lb.speaker for lb in labels} == {"customer"} and {lb.source for lb in labels} == {"corpus"}


def test_esconv_strategies_decide_empathy_and_ambiguous_ones_are_left_out(corpora, tmp_path):
    labels = labels_of("esconv", [corpora / "esconv"], tmp_path)
    outcome = {lb.text: lb.label for lb in labels}
    assert outcome["That sounds really worrying, losing it twice."] == "pass"
    assert outcome["You did everything right, we will find it."] == "pass"
    assert outcome["When did you order it?"] == "fail"
    assert outcome["Try a walk before bed."] == "fail" and outcome["Vets open at eight."] == "fail"
    assert "I once lost a parcel too." not in outcome  # self-disclosure: not guessed
    # the window repeats "You feel exhausted..." on the next line: one label, one dialogue
    assert sum(lb.text == "You feel exhausted by all of this." for lb in labels) == 1
    tsv = {
        lb.dialogue
        for lb in labels
        if lb.text in ("Try a walk before bed.", "You feel exhausted by all of this.")
    }
    assert len(tsv) == 1 and tsv != {lb.dialogue for lb in labels if lb.text == "Vets open at eight."}


def test_esconv_seekers_own_feelings_are_weak_empathy_negatives(corpora, tmp_path):
    labels = labels_of("esconv", [corpora / "esconv"], tmp_path)
    seeker = {lb.text: lb for lb in labels if lb.speaker == "customer"}
    worried = seeker["My parcel has been lost twice and I am worried."]
    assert worried.label == "fail" and "weak negative" in (worried.reason or "")
    assert seeker["My cat is ill."].label == "fail"  # from the strategy TSV too
    # a seeker who apologises or sympathises with the supporter is left out, not labelled
    assert "Sorry, I know you must be busy too." not in {lb.text for lb in labels}
    by_dialogue = {lb.text: lb.dialogue for lb in labels}
    assert by_dialogue["My cat is ill."] == by_dialogue["Vets open at eight."]


def test_multiwoz_acts_give_thanks_and_leave_unannotated_goodbyes_out(corpora, tmp_path):
    labels = labels_of("multiwoz", [corpora / "convlab"], tmp_path)
    outcome = {lb.text: lb.label for lb in labels if lb.criterion == "thanks"}
    assert outcome == {
        "I need a train to Ely.": "fail",
        "What day would you like to travel?": "fail",
        "Thank you, that's all.": "pass",  # detokenised
        "Is there a cheap hotel?": "fail",
        "Yes, I don't have many though.": "fail",
    }
    # the agents' turns without sympathy words are empathy fails; no customer turn is
    empathy = {lb.text: (lb.label, lb.speaker) for lb in labels if lb.criterion == "empathy"}
    assert empathy == {
        "What day would you like to travel?": ("fail", "agent"),
        "Yes, I don't have many though.": ("fail", "agent"),
        "Thank you for using our service. Goodbye!": ("fail", "agent"),
    }


def test_russian_lines_take_the_acts_of_the_english_turn_they_translate(corpora, tmp_path):
    labels = labels_of("russian-multiwoz", [corpora / "russian", corpora / "convlab"], tmp_path)
    outcome = {lb.text: (lb.label, lb.dialogue) for lb in labels if lb.criterion == "thanks"}
    assert outcome["Спасибо, это всё."] == ("pass", "MUL0001")
    assert outcome["Мне нужен поезд до Эли."] == ("fail", "MUL0001")
    assert outcome["Да, но их немного."] == ("fail", "SNG0002")
    assert "Строка диалога без разметки." not in outcome
    assert {lb.language for lb in labels} == {"ru"}
    # a translation shares its English dialogue's split
    english = labels_of("multiwoz", [corpora / "convlab"], tmp_path)
    assert {(lb.dialogue, lb.split) for lb in labels} <= {(lb.dialogue, lb.split) for lb in english}


def test_tydip_keeps_ratings_and_never_reads_english(corpora, tmp_path):
    labels = labels_of("tydip", [corpora / "tydip"], tmp_path)
    assert {lb.language for lb in labels} == {"ru"}
    rated = {lb.label: lb.rating for lb in labels}
    assert rated == {"pass": 1.2, "fail": -0.9}


@pytest.mark.parametrize(
    "name", ["swda", "stanford-politeness", "EmpatheticDialogues", "sgd", "twcs", "mrda"]
)
def test_reserved_corpora_are_refused(name, tmp_path):
    assert reserved_reason(name)
    with pytest.raises(QAError, match="reserved for independent evaluation"):
        prepare_corpus(name, [tmp_path], tmp_path / "x.jsonl")


def test_splits_are_stable_per_dialogue_and_roughly_70_15_15():
    splits = [split_of("c", str(n)) for n in range(3000)]
    share = {s: splits.count(s) / len(splits) for s in ("train", "valid", "test")}
    assert abs(share["train"] - 0.70) < 0.03 and abs(share["test"] - 0.15) < 0.03
    assert splits == [split_of("c", str(n)) for n in range(3000)]


def test_a_corpus_cap_scale_lets_its_split_hold_more_texts(monkeypatch):
    from dataclasses import replace

    from qa_pipeline.corpora import CORPORA, SPLIT_CAPS, corpus_label, known_corpora

    known_corpora()
    labels = [
        corpus_label("esconv", f"d{n}", f"turn {n}", "empathy", False, language="en") for n in range(6000)
    ]
    for lb in labels:
        lb.split = "train"
    assert len(sample_split(labels, "train")) == 6000  # ESConv: 2.5 x 5000
    monkeypatch.setitem(CORPORA, "esconv", replace(CORPORA["esconv"], cap_scale=1.0))
    assert len(sample_split(labels, "train")) == SPLIT_CAPS["train"]


def test_sampling_takes_whole_dialogues_of_one_split(corpora, tmp_path):
    labels = labels_of("multidogo", [corpora / "multidogo"], tmp_path)
    for split in ("train", "valid", "test"):
        chosen = sample_split(labels, split, cap=10_000)
        assert {lb.split for lb in chosen} <= {split}
        by_dialogue = defaultdict(int)
        for lb in labels:
            if lb.split == split:
                by_dialogue[lb.dialogue] += 1
        assert len(chosen) == sum(by_dialogue.values())
    assert len(sample_split(labels, labels[0].split, cap=1)) < len(labels)


def test_manifest_records_provenance_and_a_changed_file_is_refused(corpora, tmp_path):
    prepared = prepare_corpus("esconv", [corpora / "esconv"], tmp_path / "e.jsonl", commit="a" * 40)
    manifest = json.loads(manifest_path(prepared.labels).read_text())
    assert manifest["repository"] == "thu-coai/Emotional-Support-Conversation"
    assert manifest["commit"] == "a" * 40 and manifest["commercial_use"] is False
    assert "NC" in manifest["licence"]
    prepared.labels.write_text(prepared.labels.read_text() + "\n")
    with pytest.raises(QAError, match="changed after"):
        read_corpora([prepared.labels])


def test_cli_prepare_and_list(corpora, tmp_path):
    out = tmp_path / "m.jsonl"
    result = CliRunner().invoke(
        app, ["corpus", "prepare", "multidogo", str(corpora / "multidogo"), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and out.exists()
    into_folder = CliRunner().invoke(
        app, ["corpus", "prepare", "multidogo", str(corpora / "multidogo"), "-o", str(tmp_path)]
    )
    assert into_folder.exit_code == 0, into_folder.output
    assert (tmp_path / "multidogo.jsonl").exists()
    listing = CliRunner().invoke(app, ["corpus", "list"])
    assert "NON-COMMERCIAL" in listing.output and "Switchboard" in listing.output
    unknown = CliRunner().invoke(app, ["corpus", "prepare", "nope", str(tmp_path)])
    assert unknown.exit_code == 2 and "unknown corpus" in unknown.output


def test_uss_dialogues_keep_their_overall_ratings_and_sgd_is_never_read(corpora, tmp_path):
    from qa_pipeline.corpora import read_outcomes

    prepared = prepare_corpus("uss-multiwoz", [corpora / "uss"], tmp_path / "uss.jsonl", commit="b" * 40)
    items, [manifest] = read_outcomes([prepared.labels])
    assert manifest["kind"] == "outcomes" and manifest["commercial_use"] is False
    assert len(items) == 3  # the session without an OVERALL line is left out; SGD.txt never opened
    assert not any("Schema-Guided" in t.text for i in items for t in i.turns)
    taxi, hotel, museum = items
    assert [t.speaker for t in taxi.turns] == ["customer", "agent", "customer"]
    assert taxi.metadata["outcome"] == {
        "ratings": [4, 4, 3],
        "mean": 3.667,
        "resolved": True,
        "clearly_unresolved": False,
    }
    assert hotel.metadata["outcome"]["resolved"] is False and hotel.metadata["outcome"]["clearly_unresolved"]
    assert museum.metadata["outcome"]["resolved"] is False  # mean 2.33, though only two rate it low
    with pytest.raises(QAError, match="--outcomes"):
        read_corpora([prepared.labels])  # dialogues are not sentence labels


def test_outcome_report_counts_a_failed_resolution_as_finding_the_unresolved(corpora, tmp_path, rubric):
    from qa_pipeline.classifier import load_classifier
    from qa_pipeline.corpora import read_outcomes
    from qa_pipeline.evaluate import outcome_report

    prepared = prepare_corpus("uss-multiwoz", [corpora / "uss"], tmp_path / "uss.jsonl", commit="b" * 40)
    items, _ = read_outcomes([prepared.labels])
    report = outcome_report(items, rubric, load_classifier())
    row = report["rows"]["not resolved (mean rating < 3)"]
    assert row["positives"] == 2
    # the taxi was booked (resolution passes); the hotel customer says it still doesn't work
    rules = row["rules"]
    assert rules["precision"] == 1.0 and rules["recall"] >= 0.5  # the hotel found, the taxi not flagged
    assert rules["f1_ci"][0] <= rules["f1"] <= rules["f1_ci"][1]


def test_midas_acts_become_labels_for_evaluation_only(corpora, tmp_path):
    labels = labels_of("midas", [corpora / "midas"], tmp_path)
    passed = {(lb.criterion, lb.text) for lb in labels if lb.label == "pass"}
    assert passed == {
        ("greeting", "hello there"),
        ("thanks", "thank you for asking"),
        ("thanks", "thank you"),
        ("thanks", "thanks bye"),  # thanking and closing at once
        ("empathy", "sorry i mumbled"),
    }
    # the utterance after " > " is the label's text; a line without acts is no label
    assert ("greeting", "my name is petra") in {
        (lb.criterion, lb.text) for lb in labels if lb.label == "fail"
    }
    assert not any("no acts" in (lb.text or "") for lb in labels)
    # repeated utterances stay as often as they were said, each line its own unit
    thanks = [lb for lb in labels if lb.criterion == "thanks" and lb.text == "thank you"]
    assert len(thanks) == 2 and len({lb.dialogue for lb in thanks}) == 2
    assert {lb.split for lb in labels} <= {"valid", "test"}  # no training split


def test_epitome_rationales_become_sentence_labels_and_understanding_stays_out(corpora, tmp_path):
    labels = labels_of("epitome", [corpora / "epitome"], tmp_path)
    outcome = {lb.text: lb.label for lb in labels}
    # the sentences holding a rationale of a rated reply pass; its other sentences are not guessed
    assert outcome["Ugh, that sounds exhausting."] == "pass" and outcome["Sending good vibes."] == "pass"
    assert outcome["You will pass next time."] == "pass"
    assert "Have you tried the other cable?" not in outcome and "My brother took four tries." not in outcome
    # every sentence of a reply rated 0 fails ...
    assert outcome["Routers usually last five years."] == "fail" and outcome["Check the warranty."] == "fail"
    # ... except the understanding its interpretations rating marked, which is left out
    assert "I understand how that feels." not in outcome
    assert outcome["The examiners are strict in winter."] == "fail"
    # a rating whose marked words cannot be found in the reply gives no label at all
    assert not any("elsewhere" in lb.text or "Rated" in lb.text for lb in labels)
    assert {lb.criterion for lb in labels} == {"empathy"} and {lb.speaker for lb in labels} == {"agent"}
    # replies to one post share its split; there is no training split
    by_post = defaultdict(set)
    for lb in labels:
        by_post[lb.dialogue].add(lb.split)
    assert all(len(splits) == 1 for splits in by_post.values()) and set(by_post) == {"p1", "p2"}
    assert {lb.split for lb in labels} <= {"valid", "test"}


def test_an_evaluation_only_corpus_is_refused_for_training_but_read_for_evaluation(corpora, tmp_path):
    prepared = prepare_corpus("midas", [corpora / "midas"], tmp_path / "midas.jsonl", commit="c" * 40)
    manifest = json.loads(manifest_path(prepared.labels).read_text())
    assert manifest["evaluation_only"] is True and manifest["commercial_use"] is False
    with pytest.raises(QAError, match="evaluation only"):
        read_corpora([prepared.labels], training=True)
    assert read_corpora([prepared.labels])[0]  # qa evaluate reads it
    result = CliRunner().invoke(
        app, ["train", "--no-feedback", "--corpus", str(prepared.labels), "-o", str(tmp_path / "m.skops")]
    )
    assert result.exit_code != 0 and "evaluation only" in result.output
    assert not (tmp_path / "m.skops").exists()


def test_evaluation_only_splits_are_half_validation_half_test():
    splits = [split_of("c", str(n), evaluation_only=True) for n in range(3000)]
    assert set(splits) == {"valid", "test"}
    assert abs(splits.count("test") / len(splits) - 0.5) < 0.03


def test_topical_chat_gives_only_weak_negatives_and_never_on_sympathy_or_greeting_words(corpora, tmp_path):
    labels = labels_of("topical-chat", [corpora / "topical"], tmp_path)
    assert {lb.label for lb in labels} == {"fail"}  # no annotation says what passes
    empathy = {lb.text for lb in labels if lb.criterion == "empathy"}
    greeting = {lb.text for lb in labels if lb.criterion == "greeting"}
    assert "That's crazy, I watch every game!" in empathy & greeting
    assert "Oh no, I'm sorry your team lost." not in empathy  # names sympathy: left out
    assert "Oh no, I'm sorry your team lost." in greeting
    assert "Hello again, let's talk about music." not in greeting  # names a greeting: left out
    assert "Hey, not much, I prefer films." not in greeting  # the first two messages may greet
    assert all(lb.reason.startswith("weak negative") for lb in labels)
    assert {lb.dialogue for lb in labels} == {"t_team_1"}


def test_agent_turns_that_apologise_are_never_empathy_negatives():
    from qa_pipeline.corpora.multiwoz import empathy_fail

    assert empathy_fail("The train leaves at 9:15, shall I book it?", agent=True)
    assert not empathy_fail("I'm sorry, there are no trains at that time.", agent=True)
    assert not empathy_fail("К сожалению, свободных мест нет.", agent=True)
    assert not empathy_fail("I need a train to Ely.", agent=False)  # a customer turn


def test_an_evaluation_only_corpus_may_choose_thresholds_but_is_never_learnt_from(corpora, tmp_path):
    prepared = prepare_corpus("midas", [corpora / "midas"], tmp_path / "midas.jsonl", commit="c" * 40)
    common = ["train", "--no-feedback", "--features", "tfidf"]
    checked = CliRunner().invoke(
        app, [*common, "--threshold-corpus", str(prepared.labels), "-o", str(tmp_path / "m.skops")]
    )
    assert checked.exit_code == 0, checked.output
    card = json.loads((tmp_path / "m.card.json").read_text())
    (midas,) = card["corpora"]
    assert midas["corpus"] == "midas" and "never learnt from" in midas["used_for"]
    assert "corpus" not in card["labels_by_source"]  # nothing of it was learnt from
    both = CliRunner().invoke(
        app,
        [*common, "--corpus", str(tmp_path / "m.jsonl"), "--threshold-corpus", str(prepared.labels)],
    )
    assert both.exit_code != 0
