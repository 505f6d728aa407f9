"""qa evaluate: the figures, and hybrid against rules on the held-out split."""

import json
import random
from pathlib import Path

import pytest
from sklearn.metrics import cohen_kappa_score, f1_score, precision_score, recall_score
from typer.testing import CliRunner

from qa_pipeline.classifier import load_classifier
from qa_pipeline.evaluate import decide, evaluation_report, render_table
from qa_pipeline.labels import BUNDLED_HELDOUT, read_labels
from qa_pipeline.metrics import binary_metrics


@pytest.mark.parametrize("seed", range(5))
def test_metrics_agree_with_scikit_learn(seed):
    rng = random.Random(seed)
    truth = [rng.random() < 0.3 for _ in range(200)]
    predicted = [t if rng.random() < 0.8 else not t for t in truth]
    m = binary_metrics(truth, predicted)
    assert m["precision"] == round(precision_score(truth, predicted), 3)
    assert m["recall"] == round(recall_score(truth, predicted), 3)
    assert m["f1"] == round(f1_score(truth, predicted), 3)
    assert m["kappa"] == round(cohen_kappa_score(truth, predicted), 3)


@pytest.mark.parametrize("seed", range(4))
def test_auc_agrees_with_scikit_learn_ties_included(seed):
    import numpy as np
    from sklearn.metrics import roc_auc_score

    from qa_pipeline.evaluate import auc

    rng = np.random.default_rng(seed)
    truth = rng.random(300) < 0.3
    score = np.round(rng.random(300) + truth * 0.3, 1)  # rounded: many ties
    assert auc(truth, score) == pytest.approx(roc_auc_score(truth, score))
    assert auc(np.ones(3, dtype=bool), np.arange(3.0)) is None


def test_calibration_error_is_small_only_for_calibrated_probabilities():
    import numpy as np

    from qa_pipeline.evaluate import calibration_error

    rng = np.random.default_rng(0)
    p = rng.random(20_000)
    calibrated = rng.random(20_000) < p
    assert calibration_error(calibrated, p) < 0.02
    assert calibration_error(calibrated, np.clip(p + 0.3, 0, 1)) > 0.2


def test_f1_interval_holds_the_estimate_and_narrows_with_more_dialogues():
    import numpy as np

    from qa_pipeline.evaluate import f1_interval

    rng = np.random.default_rng(1)

    def width(dialogues):
        truth = rng.random(dialogues * 5) < 0.3
        predicted = np.where(rng.random(len(truth)) < 0.8, truth, ~truth)
        clusters = np.repeat(np.arange(dialogues), 5)
        low, high = f1_interval(truth, predicted, clusters)
        point = binary_metrics(truth.tolist(), predicted.tolist())["f1"]
        assert low <= point <= high
        return high - low

    assert width(2000) < width(40) / 3


@pytest.fixture(scope="module")
def heldout_report(rubric):
    return evaluation_report(decide(read_labels(BUNDLED_HELDOUT), rubric, load_classifier()))


def test_team_written_regression_row(heldout_report):
    """Our own held-out lines: a regression check, not evidence of accuracy. The model now
    learns from real corpora, so it may disagree with our phrasing of a criterion; it must
    still rank every criterion at least as well as the rules, and not lose F1 where the
    real corpora and our labels mean the same thing."""
    for criterion, by_lang in heldout_report["criteria"].items():
        rules, hybrid = by_lang["all"]["rules"], by_lang["all"]["hybrid"]
        assert hybrid["auc"] >= rules["auc"], criterion
        if criterion != "positive_language":
            # positive language is learnt from politeness ratings (TyDiP), which also reward
            # polite requests our own labels call neutral: F1 on our lines is not its yardstick
            assert hybrid["f1"] >= rules["f1"], criterion


def test_customer_turns_never_earn_agent_criteria(rubric):
    labels = [lb for lb in read_labels(BUNDLED_HELDOUT) if lb.speaker == "customer"]
    decisions = decide(labels, rubric, load_classifier())
    assert labels and not any(any(p) for p in decisions.predicted.values())


def test_table_and_json_report(heldout_report, tmp_path):
    from qa_pipeline.cli import app

    table = render_table(heldout_report)
    assert table.count(" all ") == 5 and "hybrid P" in table and "95% CI" in table and "ECE" in table
    out = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["evaluate", "--json", str(out)])
    assert result.exit_code == 0, result.output
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert saved["criteria"] == json.loads(json.dumps(heldout_report["criteria"]))
    assert saved["model"].startswith("qa-turns@") and "resolution" in result.output


def test_noisy_copy_drops_case_punctuation_and_diacritics_but_not_cyrillic_letters():
    from qa_pipeline.evaluate import noisy

    assert noisy("Děkuji, že jste počkala!") == "dekuji ze jste pockala"
    assert noisy("Извините, всё в порядке: мой счёт.") == "извините все в порядке мой счет"


def test_the_classifier_keeps_its_recall_on_noisy_text(rubric):
    from qa_pipeline.evaluate import noisy_copy

    clean = evaluation_report(decide(read_labels(BUNDLED_HELDOUT), rubric, load_classifier()))
    rough = evaluation_report(decide(noisy_copy(read_labels(BUNDLED_HELDOUT)), rubric, load_classifier()))
    for criterion in clean["criteria"]:
        assert (
            rough["criteria"][criterion]["all"]["hybrid"]["f1"]
            >= clean["criteria"][criterion]["all"]["hybrid"]["f1"] - 0.05
        ), criterion
        if criterion == "positive_language":
            # Its threshold comes from TyDiP's politeness ratings (real requests, where the
            # hybrid reaches F1 0.66 against the rules' 0.01); on this team-written set the
            # rules find every positive turn since v23, so the model can only add false passes
            # near its threshold ("can i have your email address", p 0.51). The real-split
            # test below holds it to the rules.
            continue
        assert (
            rough["criteria"][criterion]["all"]["hybrid"]["f1"]
            >= rough["criteria"][criterion]["all"]["rules"]["f1"]
        ), criterion


REAL_REPORT = Path(__file__).resolve().parent.parent / "models" / "turns.evaluation.json"


@pytest.fixture(scope="module")
def real_report():
    return json.loads(REAL_REPORT.read_text(encoding="utf-8"))


def test_the_recorded_real_evaluation_is_of_the_shipped_model(real_report):
    shipped = load_classifier()
    assert real_report["model"] == shipped.name  # retraining without re-evaluating fails here
    assert real_report["real"]["split"] == "test"
    trained_on = {c["corpus"] for c in shipped.card["corpora"]}
    evaluated = {c["corpus"]: c for c in real_report["real"]["provenance"]}
    assert set(evaluated) == set(real_report["real"]["corpora"]) and trained_on <= set(evaluated)
    # any corpus measured but not trained on is one we may only evaluate on (MIDAS)
    assert all(evaluated[name]["evaluation_only"] for name in set(evaluated) - trained_on)
    for entry in [*evaluated.values(), *real_report["outcomes"]["provenance"]]:
        assert entry["repository"] and entry["licence"] and len(entry["commit"]) >= 40, entry


def test_hybrid_is_not_below_rules_on_the_real_split_for_any_criterion_or_language(real_report):
    for criterion, by_lang in real_report["real"]["criteria"].items():
        for lang, entry in by_lang.items():
            if lang.startswith("["):
                continue  # one corpus alone: reported, not a target (README says where it dips)
            assert entry["hybrid"]["f1"] >= entry["rules"]["f1"], (criterion, lang)
            low, high = entry["hybrid"]["f1_ci"]
            assert low <= entry["hybrid"]["f1"] <= high, (criterion, lang)


@pytest.mark.skipif(
    not (Path("var/corpora") / "esconv.jsonl").exists(),
    reason="needs the prepared corpora (README: Accuracy on real conversations)",
)
def test_the_recorded_real_evaluation_can_be_reproduced(real_report, rubric):
    from qa_pipeline.corpora import manifest_path, read_corpora, sample_split

    files = sorted(Path("var/corpora").glob("*.jsonl"))
    labelled = [f for f in files if json.loads(manifest_path(f).read_text()).get("kind") != "outcomes"]
    labels, _ = read_corpora(labelled)
    again = evaluation_report(decide(sample_split(labels, "test"), rubric, load_classifier()))
    for criterion, by_lang in real_report["real"]["criteria"].items():
        assert again["criteria"][criterion]["all"]["hybrid"]["f1"] == by_lang["all"]["hybrid"]["f1"]


def test_recording_the_real_figures_keeps_the_artifact_loadable(tmp_path, real_report):
    import shutil

    from qa_pipeline.classifier import DEFAULT_MODEL, card_path
    from qa_pipeline.evaluate import record_in_card

    target = tmp_path / "turns.skops"
    shutil.copy(DEFAULT_MODEL, target)
    shutil.copy(card_path(DEFAULT_MODEL), card_path(target))
    written = record_in_card(target, real_report["real"])
    card = json.loads(written.read_text(encoding="utf-8"))
    greeting = card["evaluation"]["criteria"]["greeting"]["all"]
    assert greeting["hybrid"]["f1"] == real_report["real"]["criteria"]["greeting"]["all"]["hybrid"]["f1"]
    assert card["evaluation"]["split"] == "test"
    assert load_classifier(target).thresholds == load_classifier().thresholds
