import numpy as np
import pytest

from gauntlet.bench.aggregate import iqm, normalized_score, stratified_bootstrap_ci, summarize


def test_iqm_trims_a_quarter_from_each_end():
    values = np.arange(1.0, 9.0)  # 8 values: drop 1,2 and 7,8
    assert iqm(values) == pytest.approx(np.mean([3, 4, 5, 6]))


def test_iqm_uses_all_values_below_four_and_ignores_nan():
    assert iqm(np.array([1.0, 2.0, 6.0])) == pytest.approx(3.0)
    assert iqm(np.array([1.0, np.nan, 3.0])) == pytest.approx(2.0)


def test_bootstrap_ci_brackets_the_iqm_and_is_seeded():
    rng = np.random.default_rng(0)
    scores = rng.normal(10.0, 1.0, size=(5, 20))
    low, high = stratified_bootstrap_ci(scores)
    assert low <= iqm(scores) <= high
    assert (low, high) == stratified_bootstrap_ci(scores)


def test_bootstrap_resamples_within_strata():
    # Each column is constant across runs, so any within-column resample reproduces it exactly.
    scores = np.tile(np.arange(10.0), (4, 1))
    low, high = stratified_bootstrap_ci(scores)
    assert low == pytest.approx(iqm(scores)) and high == pytest.approx(iqm(scores))


def test_summarize_reports_std_over_run_means():
    scores = np.array([[1.0, 3.0], [5.0, 7.0]])
    stats = summarize(scores)
    assert stats["mean"] == pytest.approx(4.0)
    assert stats["std"] == pytest.approx(np.std([2.0, 6.0], ddof=1))
    assert stats["n_runs"] == 2


def test_normalized_score():
    assert normalized_score(-50.0, {"random": -100.0, "best": 0.0}) == pytest.approx(0.5)
    # Lower-is-better metrics normalize the same way: random -> 0, best -> 1.
    assert normalized_score(150.0, {"random": 200.0, "best": 100.0}) == pytest.approx(0.5)
    assert normalized_score(1.0, {}) is None
