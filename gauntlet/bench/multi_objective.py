"""Multi-objective benchmark metrics: Pareto front, hypervolume, expected utility, cardinality,
and the shape of a front: sparsity (PGMORL), spacing (Schott) and spread (Deb).

Conventions (those of MO-Gymnasium and morl-baselines): every objective is maximized, a
policy's point is its (discounted) return vector averaged over evaluation episodes, and a
task fixes its hypervolume reference point in its ``BenchmarkSpec`` (``hv_ref_point``) so
hypervolumes are comparable across submissions. Hypervolume is pymoo's exact
``HV`` indicator applied to negated points (pymoo minimizes), which is what
``morl_baselines.common.performance_indicators.hypervolume`` computes too. Points that do
not dominate the reference point contribute nothing.

Sparsity, spacing and spread describe how evenly a front covers its extent (lower is more
even); they say nothing about how good the points are, so they are read next to hypervolume,
never alone.

The runner calls :func:`mo_metrics` once per run with the (W, d) matrix of mean returns,
one row per preference weight of the task's weight set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np


def _as_points(points: Any) -> np.ndarray:
    arr = np.asarray(points, dtype=np.float64)
    if arr.ndim == 1 and arr.size == 0:
        return arr.reshape(0, 0)
    if arr.ndim != 2:
        raise ValueError(f"points must be a 2-D array (n_points, n_objectives), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("points contain NaN or inf")
    return arr


def pareto_mask(points: Any, directions: str | Sequence[str] = "max") -> np.ndarray:
    """Boolean mask of the non-dominated rows (duplicates: only the first is kept).

    ``directions`` is "max" or "min" for all objectives or one entry per objective.
    """
    pts = _as_points(points)
    if pts.size == 0:
        return np.zeros(len(pts), dtype=bool)
    sign = _signs(directions, pts.shape[1])
    p = pts * sign
    geq = np.all(p[:, None, :] >= p[None, :, :], axis=2)
    gt = np.any(p[:, None, :] > p[None, :, :], axis=2)
    dominated = np.any(geq & gt, axis=0)
    equal = np.all(p[:, None, :] == p[None, :, :], axis=2)
    earlier_duplicate = np.any(np.tril(equal, k=-1), axis=1)
    return ~dominated & ~earlier_duplicate


def pareto_front(points: Any, directions: str | Sequence[str] = "max") -> np.ndarray:
    """The non-dominated points, sorted by the first objective."""
    pts = _as_points(points)
    front = pts[pareto_mask(pts, directions)]
    return front[np.lexsort(front.T[::-1])] if len(front) else front


def hypervolume(points: Any, ref_point: Sequence[float]) -> float:
    """Hypervolume dominated by ``points`` (maximization) and bounded by ``ref_point``."""
    from pymoo.indicators.hv import HV

    ref = np.asarray(ref_point, dtype=np.float64)
    pts = _as_points(points)
    if pts.size == 0:
        return 0.0
    if pts.shape[1] != ref.shape[0]:
        raise ValueError(f"points have {pts.shape[1]} objectives but ref_point has {ref.shape[0]}")
    inside = np.all(pts > ref, axis=1)
    if not inside.any():
        return 0.0
    return float(HV(ref_point=-ref)(-pts[inside]))


def expected_utility(returns_per_weight: Any, weights: Any) -> float:
    """Expected utility metric (EUM, Zintgraf et al. 2015): the mean over ``weights`` of the
    best linear utility ``max_p w . p`` over the evaluated points, as morl-baselines defines it."""
    pts = _as_points(returns_per_weight)
    w = _as_points(weights)
    if pts.shape[1] != w.shape[1]:
        raise ValueError(f"points have {pts.shape[1]} objectives but weights have {w.shape[1]}")
    return float((w @ pts.T).max(axis=1).mean())


def cardinality(points: Any) -> int:
    """Number of distinct non-dominated points."""
    return int(pareto_mask(points).sum())


def sparsity(front: Any) -> float:
    """PGMORL's sparsity (Xu et al. 2020, as morl-baselines computes it): for each objective,
    sort the points on it and sum the squared gaps between neighbours; the total over
    objectives divided by ``n - 1``. 0 for fewer than two points."""
    pts = _as_points(front)
    if len(pts) < 2:
        return 0.0
    gaps = np.diff(np.sort(pts, axis=0), axis=0)
    return float((gaps**2).sum() / (len(pts) - 1))


def spacing(front: Any) -> float:
    """Schott's spacing (1995): the sample standard deviation (ddof 1) of each point's L1
    distance to its nearest other point; 0 when they are all equal or there are fewer than two
    points."""
    pts = _as_points(front)
    if len(pts) < 2:
        return 0.0
    dist = np.abs(pts[:, None, :] - pts[None, :, :]).sum(axis=2)
    np.fill_diagonal(dist, np.inf)
    return float(np.std(dist.min(axis=1), ddof=1))


def spread(front: Any, extremes: Any | None = None) -> float:
    """Deb's spread Delta (Deb et al. 2002, NSGA-II) of a 2-objective front:
    ``(d_f + d_l + sum_i |d_i - mean(d)|) / (d_f + d_l + (n - 1) mean(d))`` with ``d_i`` the
    Euclidean gaps between neighbours along the first objective and ``d_f``, ``d_l`` the
    distances from the two end points to ``extremes`` (the ends of a reference front, in the
    same order; without them 0). 0 for evenly spaced points reaching the extremes, larger for
    clustered ones; 1 for a single point."""
    pts = _as_points(front)
    if pts.size and pts.shape[1] != 2:
        raise ValueError(f"spread is Deb's 2-objective Delta; the front has {pts.shape[1]} objectives")
    pts = pts[np.argsort(pts[:, 0], kind="stable")] if len(pts) else pts
    ends = 0.0
    if extremes is not None:
        ext = _as_points(extremes)
        if ext.shape != (2, 2):
            raise ValueError(f"extremes must be the two end points of a reference front, shape (2, 2), got {ext.shape}")
        if len(pts):
            ends = float(np.linalg.norm(pts[0] - ext[0]) + np.linalg.norm(pts[-1] - ext[1]))
    if len(pts) < 2:
        return 1.0
    gaps = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    mean = gaps.mean()
    denominator = ends + (len(pts) - 1) * mean
    return float((ends + np.abs(gaps - mean).sum()) / denominator) if denominator > 0 else 1.0


def mo_metrics(mean_returns_per_weight: Any, weights: Any, ref_point: Sequence[float]) -> dict[str, Any]:
    """Hypervolume, EUM, cardinality, sparsity, spacing, spread (2 objectives) and the front
    (list of lists) of one evaluated policy set.

    ``mean_returns_per_weight``: (W, d) mean return vector for each preference weight;
    ``weights``: (W, d); ``ref_point``: the task's fixed reference point.
    """
    pts = _as_points(mean_returns_per_weight)
    w = _as_points(weights)
    if pts.shape != w.shape:
        raise ValueError(f"returns {pts.shape} and weights {w.shape} must have the same shape (W, d)")
    front = pareto_front(pts)
    out = {
        "hypervolume": hypervolume(front, ref_point),
        "eum": expected_utility(pts, w),
        "cardinality": len(front),
        "sparsity": sparsity(front),
        "spacing": spacing(front),
        "front": front.tolist(),
    }
    if pts.shape[1] == 2:
        out["spread"] = spread(front)
    return out


def plot_front(
    fronts: dict[str, Any],
    path: str | Path,
    *,
    ref_point: Sequence[float] | None = None,
    objective_names: Sequence[str] = ("objective 1", "objective 2"),
    title: str = "",
    all_points: dict[str, Any] | None = None,
) -> Path:
    """Write a PNG of 2-D fronts, one labelled series per agent (``{name: points}``);
    ``all_points`` adds the dominated points faintly; ``ref_point`` is marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.8))
    for i, (name, pts) in enumerate(fronts.items()):
        color = f"C{i % 10}"
        front = pareto_front(pts)
        if len(front) and front.shape[1] != 2:
            raise ValueError(f"plot_front draws 2-D fronts; {name!r} has {front.shape[1]} objectives")
        if all_points is not None and name in all_points:
            extra = _as_points(all_points[name])
            ax.scatter(extra[:, 0], extra[:, 1], s=10, color=color, alpha=0.25)
        if len(front):
            ax.step(front[:, 0], front[:, 1], where="post", color=color, alpha=0.6)
            ax.scatter(front[:, 0], front[:, 1], s=24, color=color, label=f"{name} ({len(front)})")
    if ref_point is not None:
        ax.scatter([ref_point[0]], [ref_point[1]], marker="x", color="black", label="reference point")
    ax.set_xlabel(objective_names[0])
    ax.set_ylabel(objective_names[1])
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def _signs(directions: str | Sequence[str], d: int) -> np.ndarray:
    dirs = [directions] * d if isinstance(directions, str) else list(directions)
    if len(dirs) != d or any(x not in ("max", "min") for x in dirs):
        raise ValueError(f"directions must be 'max'/'min' or a sequence of {d} of them, got {directions!r}")
    return np.array([1.0 if x == "max" else -1.0 for x in dirs])
