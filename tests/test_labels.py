"""The label format and the bundled training / held-out sets."""

from collections import Counter
from pathlib import Path

import pytest

from qa_pipeline.errors import QAError
from qa_pipeline.labels import (
    BUNDLED_HELDOUT,
    BUNDLED_TRAIN,
    Label,
    labels_hash,
    latest_per_turn,
    read_labels,
    rule_labels,
)

LANGS = {"en", "cs", "sl", "lt", "ru"}
CRITERIA = {"greeting", "empathy", "positive_language", "resolution", "thanks"}


def test_csv_labels_with_any_case(data: Path):
    labels = read_labels(data / "labels" / "extra.csv")
    assert [(lb.criterion, lb.label, lb.source, lb.grader) for lb in labels] == [
        ("positive_language", "pass", "grader", "g7"),
        ("positive_language", "fail", "grader", "g7"),
    ]


def test_a_bad_row_names_its_line(data: Path):
    with pytest.raises(QAError, match=r"broken.jsonl:2: label"):
        read_labels(data / "labels" / "broken.jsonl")


def test_a_label_needs_text_or_a_turn():
    with pytest.raises(ValueError, match="needs 'text'"):
        Label(criterion="empathy", label="pass", text="  ")
    assert Label(criterion="empathy", label="pass", interaction_id="chat:x:1", turn=2).turn == 2


@pytest.mark.parametrize("path", [BUNDLED_TRAIN, BUNDLED_HELDOUT], ids=["train", "heldout"])
def test_bundled_sets_cover_every_language_criterion_and_both_labels(path):
    labels = read_labels(path)
    seen = Counter((lb.language, lb.criterion, lb.label) for lb in labels if lb.speaker == "agent")
    for lang in LANGS:
        for criterion in CRITERIA:
            assert seen[(lang, criterion, "pass")] >= 2, (lang, criterion)
            assert seen[(lang, criterion, "fail")] >= 10, (lang, criterion)
    assert {lb.channel for lb in labels} == {"call", "chat", "email"}
    customer_thanks = [lb for lb in labels if lb.speaker == "customer" and lb.criterion == "thanks"]
    assert customer_thanks and all(lb.label == "fail" for lb in customer_thanks)


def test_training_never_sees_the_heldout_turns():
    train = {" ".join(lb.text.lower().split()) for lb in read_labels(BUNDLED_TRAIN)}
    heldout = {" ".join(lb.text.lower().split()) for lb in read_labels(BUNDLED_HELDOUT)}
    assert not train & heldout


def test_later_labels_win_and_the_hash_ignores_order():
    bundled = Label(text="Sorry  about that", criterion="empathy", label="pass")
    grader = Label(text="sorry about that", criterion="empathy", label="fail", source="grader")
    other = Label(text="Hello", criterion="greeting", label="pass")
    assert latest_per_turn([bundled, other, grader]) == [other, grader]
    assert labels_hash([bundled, other]) == labels_hash([other, bundled]) != labels_hash([grader, other])


def test_rule_labels_pass_their_criterion_and_fail_negative_phrases(rubric):
    labels = rule_labels(rubric)
    by_key = {(lb.text, lb.criterion, lb.language): lb.label for lb in labels}
    assert by_key[("i'm sorry", "empathy", "en")] == "pass"
    assert ("i'm sorry", "greeting", "en") not in by_key  # not claimed to fail other criteria
    assert by_key[("calm down", "positive_language", "en")] == "fail"
    assert by_key[("calm down", "empathy", "en")] == "fail"
    assert all(lb.source == "weak-rule" for lb in labels)
