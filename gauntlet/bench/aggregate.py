"""Aggregate scores over runs: mean, std, IQM with a stratified-bootstrap 95% CI, normalized score.

Scores arrive as a matrix of shape (n_runs, n_strata). For a single task the strata are the
evaluation episodes: every run is evaluated on the same official seeds, so episode j is the same
scenario in every run, and the bootstrap resamples runs independently within each episode column
(rliable's stratified bootstrap with episodes in the role of tasks). A run-level score (one
number per run, such as a hypervolume) is the one-column case.
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


def stratified_bootstrap_ci(
    scores: np.ndarray, statistic=iqm, n_boot: int = 2000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile CI of ``statistic`` over bootstrap resamples that draw runs with replacement
    independently in every stratum (column)."""
    scores = np.atleast_2d(np.asarray(scores, dtype=float))
    n_runs, n_strata = scores.shape
    if n_runs < 2:
        value = statistic(scores)
        return value, value
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n_runs, size=(n_boot, n_runs, n_strata))
    resampled = scores[rows, np.arange(n_strata)]
    stats = np.array([statistic(sample) for sample in resampled])
    alpha = (1.0 - confidence) / 2.0
    low, high = np.nanquantile(stats, [alpha, 1.0 - alpha])
    return float(low), float(high)


def shifted_geometric_mean(values: np.ndarray, shift: float) -> float:
    """``exp(mean(log(x + s))) - s`` over the finite values: the solver community's average of
    node counts and times, which neither the few huge trees nor the many tiny ones dominate."""
    flat = np.asarray(values, dtype=float).ravel()
    flat = flat[np.isfinite(flat)]
    if flat.size == 0:
        return float("nan")
    return float(np.exp(np.mean(np.log(flat + shift))) - shift)


def summarize(scores: np.ndarray, shift: float | None = None) -> dict[str, Any]:
    """Mean, std (over runs of the per-run means), IQM and its 95% CI for a (runs, strata) matrix;
    with a ``shift``, also the shifted geometric mean ``sgm`` over every run's episodes."""
    scores = np.atleast_2d(np.asarray(scores, dtype=float))
    with warnings.catch_warnings():
        # An all-NaN metric (e.g. steps to goal when no episode reached it) is reported as None.
        warnings.simplefilter("ignore", RuntimeWarning)
        per_run = np.nanmean(scores, axis=1) if scores.size else np.array([np.nan])
        low, high = stratified_bootstrap_ci(scores)
        out = {
            "mean": _finite_or_none(np.nanmean(per_run)),
            "std": _finite_or_none(np.nanstd(per_run, ddof=1) if per_run.size > 1 else 0.0),
            "iqm": _finite_or_none(iqm(scores)),
            "ci95": [_finite_or_none(low), _finite_or_none(high)],
            "n_runs": int(scores.shape[0]),
        }
    if shift is not None:
        out["sgm"] = _finite_or_none(shifted_geometric_mean(scores, shift))
    return out


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
