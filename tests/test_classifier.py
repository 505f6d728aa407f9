"""The trained classifier: reproducible from the bundled data, and refused when it does not
match its model card."""

import json
import shutil
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from qa_pipeline.classifier import DEFAULT_MODEL, card_path, load_classifier, save_classifier
from qa_pipeline.errors import QAError
from qa_pipeline.labels import BUNDLED_HELDOUT, read_labels
from qa_pipeline.training import (
    choose_threshold,
    collect_labels,
    hybrid_threshold,
    render_training,
    train_and_save,
)


@pytest.fixture(scope="session")
def shipped():
    return load_classifier(DEFAULT_MODEL)


@pytest.fixture(scope="session")
def retrained(tmp_path_factory, rubric):
    out = tmp_path_factory.mktemp("model") / "turns.skops"
    return train_and_save(collect_labels(rubric), rubric, out)


def test_qa_train_is_deterministic(retrained, tmp_path):
    from typer.testing import CliRunner

    from qa_pipeline.cli import app

    out = tmp_path / "turns.skops"
    result = CliRunner().invoke(app, ["train", "--no-feedback", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output and result.output.count("threshold from") == 5
    again, first = load_classifier(out), load_classifier(retrained.artifact)
    assert again.card["training_data_sha256"] == first.card["training_data_sha256"]
    assert again.name == first.name and again.thresholds == first.thresholds
    texts = sorted({lb.text for lb in read_labels(BUNDLED_HELDOUT)})
    mine, theirs = again.probabilities(texts), first.probabilities(texts)
    for criterion in first.models:
        np.testing.assert_allclose(mine[criterion], theirs[criterion], atol=1e-9)


def test_the_shipped_card_names_every_corpus_with_commit_and_licence(shipped):
    corpora = shipped.card["corpora"]
    assert {c["corpus"] for c in corpora} >= {"multidogo", "esconv", "multiwoz", "tydip"}
    for c in corpora:
        assert len(c["commit"].split()[0]) == 40 and c["licence"] and c["repository"], c
    learnt_from = [c for c in corpora if "learnt from;" in c["used_for"]]
    assert [c["corpus"] for c in learnt_from if not c["commercial_use"]] == ["esconv"]
    # the others only chose thresholds, and say so
    assert all(c["evaluation_only"] or c in learnt_from for c in corpora)
    assert shipped.card["labels_by_source"]["corpus"] > 10 * shipped.card["labels_by_source"]["bundled"]
    # thresholds of criteria with real validation labels come from them, not from our own text
    for criterion in ("greeting", "thanks", "empathy", "positive_language"):
        assert shipped.card["metrics"][criterion]["threshold_from"].startswith("validation split"), criterion


def test_too_few_labels_is_a_clear_error(rubric, data):
    from qa_pipeline.labels import read_labels as read

    with pytest.raises(QAError, match="positive_language' needs at least 5 'pass' and 5 'fail'"):
        train_and_save(read(data / "labels" / "extra.csv"), rubric)


def test_card_records_provenance_and_metrics(shipped, retrained):
    import sklearn

    card = shipped.card
    assert card["sklearn_version"] == sklearn.__version__ and card["artifact"] == DEFAULT_MODEL.name
    assert set(card["labels_by_source"]) == {"bundled", "corpus", "weak-rule"}
    for criterion in card["metrics"]:
        assert 0.5 <= card["thresholds"][criterion] <= 1, criterion
    table = render_training(retrained.report)
    assert table.count("threshold from") == 5 and "empathy" in table
    # without corpora every threshold comes from cross-validation on our own labels
    assert all("cross-validation" in e["threshold_from"] for e in retrained.report.criteria.values())


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "turns.skops"
    shutil.copy(DEFAULT_MODEL, target)
    shutil.copy(card_path(DEFAULT_MODEL), card_path(target))
    return target


def test_a_changed_artifact_is_refused(copy: Path):
    copy.write_bytes(copy.read_bytes() + b"\0")
    with pytest.raises(QAError, match="does not match its model card"):
        load_classifier(copy)


def test_another_scikit_learn_is_refused(copy: Path):
    card = json.loads(card_path(copy).read_text())
    card["sklearn_version"] = "0.24.2"
    card_path(copy).write_text(json.dumps(card))
    with pytest.raises(QAError, match=r"trained with scikit-learn 0\.24\.2.*qa train"):
        load_classifier(copy)


def test_a_missing_card_is_refused(copy: Path):
    card_path(copy).unlink()
    with pytest.raises(QAError, match="no model card"):
        load_classifier(copy)


def test_an_artifact_with_foreign_types_is_refused(copy: Path):
    import hashlib

    import skops.io as sio

    sio.dump({"features": Fraction(1, 3), "models": {}}, copy)
    card = json.loads(card_path(copy).read_text())
    card["artifact_sha256"] = hashlib.sha256(copy.read_bytes()).hexdigest()
    card_path(copy).write_text(json.dumps(card))
    with pytest.raises(QAError, match=r"fractions\.Fraction"):
        load_classifier(copy)


def test_threshold_is_the_lowest_that_reaches_the_target_precision():
    truth = np.array([0, 0, 1, 0, 1, 1, 1], dtype=bool)
    probability = np.array([0.1, 0.55, 0.6, 0.7, 0.8, 0.9, 0.95])
    threshold, reached = choose_threshold(truth, probability, target=0.9)
    assert reached and threshold == 0.8  # 0.6: 4 of 5 passes right, 0.7: 3 of 4, 0.8: all
    threshold, reached = choose_threshold(truth, probability, target=1.01)
    assert not reached and 0.5 <= threshold <= 0.8


def test_hybrid_threshold_only_trusts_the_model_where_it_adds_to_the_rules():
    truth = np.array([1, 1, 1, 0, 0, 0], dtype=bool)
    rule = np.array([1, 0, 0, 0, 0, 0], dtype=bool)
    helpful = np.array([0.9, 0.8, 0.7, 0.6, 0.2, 0.1])
    assert hybrid_threshold(truth, rule, helpful) == 0.7  # all passes, no false pass
    misleading = np.array([0.1, 0.2, 0.3, 0.9, 0.8, 0.95])
    assert hybrid_threshold(truth, rule, misleading) == 1.0  # the rules alone do better
    # 200 passes the rules find all but one of: the model's one extra pass adds about 0.003 of
    # F1 (under MIN_GAIN), not worth what it passes elsewhere
    truth = np.array([1] * 200 + [0] * 2000, dtype=bool)
    rule = truth.copy()
    rule[0] = False
    rule[200:260] = True  # the rules' own false passes
    marginal = np.where(np.arange(2200) == 0, 0.9, 0.1)
    assert hybrid_threshold(truth, rule, marginal) == 1.0
    rule[0:20] = False  # now the model adds 20 passes: well over MIN_GAIN
    marginal = np.where(np.arange(2200) < 20, 0.9, 0.1)
    assert hybrid_threshold(truth, rule, marginal) == 0.5  # the lowest threshold that gains it


def test_hybrid_threshold_never_leaves_one_corpus_below_its_rules():
    # counselling text: 40 passes the rules find half of; the model finds 10 more at p 0.9
    # and the last 10 at p 0.6
    counselling_truth = np.array([1] * 40 + [0] * 60, dtype=bool)
    counselling_rule = np.array([1] * 20 + [0] * 80, dtype=bool)
    counselling_p = np.array([0.2] * 20 + [0.9] * 10 + [0.6] * 10 + [0.1] * 60)
    # casual speech: 6 apologies the rules find; the model also likes 3 opinions at p 0.65
    casual_truth = np.array([1] * 6 + [0] * 994, dtype=bool)
    casual_rule = casual_truth.copy()
    casual_p = np.array([0.2] * 6 + [0.65] * 3 + [0.1] * 991)
    truth = np.concatenate([counselling_truth, casual_truth])
    rule = np.concatenate([counselling_rule, casual_rule])
    p = np.concatenate([counselling_p, casual_p])
    corpus = np.array(["esconv"] * 100 + ["midas"] * 1000)
    # pooled, the counselling gain outweighs the three casual false passes
    assert hybrid_threshold(truth, rule, p) == 0.5
    # per corpus, casual speech keeps its rules' F1: only the model's surest passes count
    assert hybrid_threshold(truth, rule, p, corpus) == 0.9
    # a corpus with fewer than MIN_CORPUS_PASSES passes is too small to veto
    few = casual_truth.copy()
    few[2:6] = False
    assert (
        hybrid_threshold(
            np.concatenate([counselling_truth, few]), np.concatenate([counselling_rule, few]), p, corpus
        )
        == 0.5
    )


def test_one_embedder_serves_several_threads(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from qa_pipeline.embeddings import SentenceEmbedder

    embedder = SentenceEmbedder(cache=tmp_path / "vectors.sqlite")
    texts = [f"Thank you for waiting, order {n} is on its way." for n in range(12)]
    with ThreadPoolExecutor(4) as pool:
        parts = list(pool.map(embedder.embed, [texts[n::4] for n in range(4)]))
    again = embedder.embed(texts)  # from the cache now, in this thread
    for n in range(4):
        np.testing.assert_allclose(parts[n], again[n::4], atol=1e-6)
    assert np.allclose(np.linalg.norm(again, axis=1), 1, atol=1e-3)
    assert not np.allclose(again[0], again[1])  # different texts, different vectors


def test_noisy_copies_add_each_text_as_chats_write_it():
    from qa_pipeline.labels import Label
    from qa_pipeline.training import _noisy_copies

    labels = [
        Label(text="Thank you!", criterion="thanks", label="pass"),
        Label(text="thank you", criterion="thanks", label="pass"),  # already there as written
        Label(text="Děkuji, že jste počkal.", criterion="thanks", label="pass", language="cs"),
        Label(text="Okay.", criterion="thanks", label="fail"),
    ]
    copies = _noisy_copies(labels)
    assert [(c.text, c.criterion, c.label, c.language) for c in copies] == [
        ("dekuji ze jste pockal", "thanks", "pass", "cs"),
        ("okay", "thanks", "fail", None),
    ]


def test_training_with_noisy_copies_says_so_in_the_card(rubric, tmp_path):
    from qa_pipeline.training import train_classifier

    labels = [lb for lb in collect_labels(rubric) if lb.criterion == "thanks"]  # one model: quick
    _, plain = train_classifier(labels, rubric, "tfidf", noisy_copies=False)
    classifier, noisy = train_classifier(labels, rubric, "tfidf")  # copies by default
    assert plain.noisy_copies == 0 and noisy.noisy_copies > 0
    assert noisy.labels == plain.labels and noisy.by_source == plain.by_source  # copies counted apart
    assert noisy.data_sha256 != plain.data_sha256  # another recipe, another model version
    assert f"and {noisy.noisy_copies} noisy copies" in render_training(noisy)
    card = json.loads(save_classifier(classifier, noisy, tmp_path / "m.skops").read_text())
    assert card["noisy_copies"] == noisy.noisy_copies
