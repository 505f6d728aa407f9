"""Agreement statistics of calibration sessions, against published and independent figures."""

from __future__ import annotations

import pytest
from sklearn.metrics import cohen_kappa_score

from qa_pipeline.metrics import cohen_kappa, fleiss_kappa, percent_agreement


def test_fleiss_kappa_matches_the_worked_example():
    # Fleiss (1971) as worked on Wikipedia: 10 subjects, 14 raters, 5 categories: kappa 0.210.
    table = [
        [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ]  # fmt: skip
    ratings = [[str(k) for k, count in enumerate(row) for _ in range(count)] for row in table]
    assert fleiss_kappa(ratings) == pytest.approx(0.210, abs=0.001)


@pytest.mark.parametrize(
    "a, b",
    [
        (["pass", "fail", "pass", "na", "pass", "fail"], ["pass", "pass", "pass", "na", "fail", "fail"]),
        (["pass"] * 8 + ["fail"] * 2, ["pass"] * 7 + ["fail"] * 3),
        (["fail", "pass", "fail", "pass"], ["pass", "fail", "pass", "fail"]),
    ],
)
def test_cohen_kappa_agrees_with_scikit_learn(a, b):
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b), abs=0.001)


def test_two_raters_fleiss_and_percent_agreement():
    ratings = [["pass", "pass"], ["pass", "fail"]]
    assert percent_agreement(ratings) == 50.0
    assert fleiss_kappa(ratings) == pytest.approx(-0.333, abs=0.001)
    assert fleiss_kappa([["pass", "pass"], ["pass", "pass"]]) == 1.0  # always the same one label
    assert fleiss_kappa([]) is None and fleiss_kappa([["pass"]]) is None and cohen_kappa([], []) is None
