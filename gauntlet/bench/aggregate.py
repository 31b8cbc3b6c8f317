"""Aggregate scores over runs: mean, std, IQM and mean with stratified-bootstrap 95% CIs, normalized score.

Scores arrive as a matrix of shape (n_runs, n_strata). For a single task the strata are the
evaluation episodes: every run is evaluated on the same official seeds, so episode j is the same
scenario in every run, and the bootstrap resamples runs independently within each episode column
(rliable's stratified bootstrap with episodes in the role of tasks). A run-level score (one
number per run, such as a hypervolume) is the one-column case.

The spread is over runs: ``std`` is the sample standard deviation (ddof=1) of the per-run
means, and the CIs resample runs. One run has no spread: its std and CIs are ``None``, not 0.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np


def iqm(values: np.ndarray) -> float:
    """Interquartile mean: the mean of the middle 50% of the values (rliable's definition, which
    trims floor(n/4) values from each end, and uses all values when n < 4)."""
    flat = np.sort(np.asarray(values, dtype=float).ravel())
    flat = flat[~np.isnan(flat)]
    if flat.size == 0:
        return float("nan")
    cut = flat.size // 4
    return float(flat[cut : flat.size - cut].mean())


def mean_of_run_means(scores: np.ndarray) -> float:
    """The mean over runs (rows) of each run's mean over its non-NaN episodes: the boards' ``mean``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows and matrices give NaN
        return float(np.nanmean(np.nanmean(np.atleast_2d(scores), axis=1)))


def stratified_bootstrap_ci(
    scores: np.ndarray, statistic=iqm, n_boot: int = 2000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile CI of ``statistic`` over bootstrap resamples that draw runs with replacement
    independently in every stratum (column); NaN bounds for a single run, which has no spread."""
    scores = np.atleast_2d(np.asarray(scores, dtype=float))
    n_runs, n_strata = scores.shape
    if n_runs < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n_runs, size=(n_boot, n_runs, n_strata))
    resampled = scores[rows, np.arange(n_strata)]
    batched = _BATCHED.get(statistic)
    stats = batched(resampled) if batched else np.array([statistic(sample) for sample in resampled])
    alpha = (1.0 - confidence) / 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # every resample NaN: the bounds are NaN
        low, high = np.nanquantile(stats, [alpha, 1.0 - alpha])
    return float(low), float(high)


def _iqm_batched(samples: np.ndarray) -> np.ndarray:
    """:func:`iqm` of every ``samples[b]`` at once (the bootstrap's 2,000 resamples)."""
    flat = np.sort(samples.reshape(len(samples), -1), axis=1)  # NaNs sort last
    valid = (~np.isnan(flat)).sum(axis=1)
    cut = valid // 4
    sums = np.concatenate([np.zeros((len(flat), 1)), np.cumsum(np.nan_to_num(flat), axis=1)], axis=1)
    rows = np.arange(len(flat))
    kept = valid - 2 * cut
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(kept > 0, (sums[rows, valid - cut] - sums[rows, cut]) / kept, np.nan)


def _mean_of_run_means_batched(samples: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(np.nanmean(samples, axis=2), axis=1)


def shifted_geometric_mean(values: np.ndarray, shift: float) -> float:
    """``exp(mean(log(x + s))) - s`` over the finite values: the solver community's average of
    node counts and times, which neither the few huge trees nor the many tiny ones dominate."""
    flat = np.asarray(values, dtype=float).ravel()
    flat = flat[np.isfinite(flat)]
    if flat.size == 0:
        return float("nan")
    return float(np.exp(np.mean(np.log(flat + shift))) - shift)


def summarize(scores: np.ndarray, shift: float | None = None) -> dict[str, Any]:
    """Mean, std (ddof=1, over runs of the per-run means), IQM with its 95% CI (``ci95``) and the
    mean's 95% CI (``mean_ci95``) for a (runs, strata) matrix; with a ``shift``, also the shifted
    geometric mean ``sgm`` over every run's episodes.

    The mean's CI is the one to read for proportions (metrics in unit "fraction", such as a
    success rate): on 0/1 outcomes the IQM drops the top and bottom quarters, so a 25% success
    rate has an IQM of 0, while the mean is the proportion itself.
    """
    scores = np.atleast_2d(np.asarray(scores, dtype=float))
    with warnings.catch_warnings():
        # An all-NaN metric (e.g. steps to goal when no episode reached it) is reported as None.
        warnings.simplefilter("ignore", RuntimeWarning)
        per_run = np.nanmean(scores, axis=1) if scores.size else np.array([np.nan])
        low, high = stratified_bootstrap_ci(scores)
        mean_low, mean_high = stratified_bootstrap_ci(scores, statistic=mean_of_run_means)
        out = {
            "mean": _finite_or_none(mean_of_run_means(scores)),
            "std": _finite_or_none(np.nanstd(per_run, ddof=1) if per_run.size > 1 else np.nan),
            "iqm": _finite_or_none(iqm(scores)),
            "ci95": [_finite_or_none(low), _finite_or_none(high)],
            "mean_ci95": [_finite_or_none(mean_low), _finite_or_none(mean_high)],
            "n_runs": int(scores.shape[0]),
        }
    if shift is not None:
        out["sgm"] = _finite_or_none(shifted_geometric_mean(scores, shift))
    return out


_BATCHED = {iqm: _iqm_batched, mean_of_run_means: _mean_of_run_means_batched}


def normalized_score(value: float, reference_scores: dict[str, float]) -> float | None:
    """0 at the random policy's score and 1 at the best reference's; None when not calibrated."""
    if "random" not in reference_scores or "best" not in reference_scores:
        return None
    span = reference_scores["best"] - reference_scores["random"]
    if span == 0:
        return None
    return float((value - reference_scores["random"]) / span)


def _finite_or_none(x: float) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None
