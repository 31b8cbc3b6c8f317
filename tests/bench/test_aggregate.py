import numpy as np
import pytest

from gauntlet.bench.aggregate import iqm, mean_of_run_means, normalized_score, stratified_bootstrap_ci, summarize


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


def test_one_run_has_no_spread():
    stats = summarize(np.array([[1.0, 3.0, 5.0]]))
    assert stats["mean"] == pytest.approx(3.0)
    assert stats["std"] is None and stats["ci95"] == [None, None] and stats["mean_ci95"] == [None, None]
    assert stratified_bootstrap_ci(np.array([[1.0, 2.0]]))[0] != stratified_bootstrap_ci(np.array([[1.0, 2.0]]))[0]  # NaN


def test_binary_outcomes_have_an_iqm_of_zero_but_a_mean_ci_around_the_proportion():
    # One success in four episodes, in every run: the IQM trims it away, the mean is 0.25.
    scores = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    stats = summarize(scores)
    assert stats["iqm"] == 0.0 and stats["mean"] == pytest.approx(0.25)
    low, high = stats["mean_ci95"]
    assert low <= 0.25 <= high and high > 0.0


def test_mean_ci_is_of_the_mean_of_run_means_and_ignores_nan():
    scores = np.array([[1.0, np.nan], [3.0, 5.0]])
    assert summarize(scores)["mean"] == pytest.approx((1.0 + 4.0) / 2)
    assert stratified_bootstrap_ci(scores, statistic=mean_of_run_means) == stratified_bootstrap_ci(scores, statistic=mean_of_run_means)


def test_batched_bootstrap_statistics_equal_the_plain_ones():
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(4, 9))
    scores[1, 2] = np.nan
    for statistic in (iqm, mean_of_run_means):
        plain = stratified_bootstrap_ci(scores, statistic=lambda s, f=statistic: f(s))
        assert stratified_bootstrap_ci(scores, statistic=statistic) == pytest.approx(plain, rel=1e-12)
