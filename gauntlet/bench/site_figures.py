"""The leaderboard site's figures (matplotlib, Agg, PNG): the primary metric with its CIs per
policy, the learning curves of entries whose runs record them, and the Pareto fronts of
multi-objective entries."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)
import numpy as np  # noqa: E402

from gauntlet.bench.ranking import bounds, interval, interval_label, is_constrained, ranked, violation  # noqa: E402


def primary_chart(board: dict[str, Any], path: Path) -> Path:
    """The ranked policies' primary metric (IQM, or mean for proportions) with its 95% CI, best
    on top; entries outside a constraint budget are grey, and a bound reporting the primary
    metric is a dashed line beside them, not a point."""
    primary = next(m for m in board["protocol"]["metrics"] if m["name"] == board["protocol"]["primary_metric"])
    entries = ranked(board)
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(entries) + 1.4))
    for row, entry in enumerate(entries):
        value, ci = interval(entry["results"].get(primary["name"], {}), primary)
        if value is None:
            continue
        color = "C0" if violation(board, entry) == 0 else "0.6"
        ax.plot(value, row, "o", color=color)
        if ci and None not in ci:
            ax.plot(ci, [row, row], "-", color=color, linewidth=2)
    for i, entry in enumerate(bounds(board)):
        mean = entry["results"].get(primary["name"], {}).get("mean")
        if mean is not None:
            ax.axvline(mean, linestyle="--", color=f"C{i + 1}", label=f"bound: {entry['agent']}")
    if is_constrained(board):
        ax.plot([], [], "o", color="0.6", label="outside a constraint budget")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best", fontsize=8)
    ax.set_yticks(range(len(entries)), [f"{e['agent']} ({e['submitter']})" if e["submitter"] != "gauntlet" else e["agent"]
                                        for e in entries], fontsize=8)
    ax.invert_yaxis()
    better = "higher" if primary["direction"] == "max" else "lower"
    unit = f" [{primary['unit']}]" if primary.get("unit") else ""
    ax.set_xlabel(f"{primary['name']}{unit}, {interval_label(primary)} ({better} is better)")
    ax.set_title(board["task"], fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def pareto_chart(board: dict[str, Any], path: Path) -> Path:
    """Each entry's combined front (the non-dominated returns over its runs) in the plane of
    the first two objectives, joined in objective-1 order."""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for i, entry in enumerate(e for e in board["entries"] if e.get("front")):
        front = np.asarray(entry["front"], dtype=float)
        order = np.argsort(front[:, 0])
        ax.plot(front[order, 0], front[order, 1], "o-", color=f"C{i % 10}", markersize=4, linewidth=1,
                label=entry["agent"])
    n_objectives = len(next(e["front"] for e in board["entries"] if e.get("front"))[0])
    extra = f" (first 2 of {n_objectives} objectives)" if n_objectives > 2 else ""
    ax.set_xlabel("return, objective 1")
    ax.set_ylabel("return, objective 2")
    ax.set_title(f"{board['task']}: Pareto fronts{extra}", fontsize=10)
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    return _save(fig, path)


CURVE_GRID_POINTS = 200
"""The common timesteps an entry's curves are interpolated at."""


def mean_curve(curves: Sequence[Sequence[Sequence[float]]]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
    """The runs' ``[timestep, return]`` curves interpolated at common timesteps (from the latest
    first point to the earliest last one): ``(x, mean, sample std (ddof=1) or None for one run)``;
    ``None`` when the runs share no span of timesteps. Episodes of one run ending at the same
    timestep (env copies stepped in lockstep) count as their mean."""
    runs = [r for r in map(_per_timestep, curves) if len(r[0]) >= 2]
    if not runs:
        return None
    lo, hi = max(x[0] for x, _ in runs), min(x[-1] for x, _ in runs)
    if hi <= lo:
        return None
    grid = np.linspace(lo, hi, CURVE_GRID_POINTS)
    ys = np.stack([np.interp(grid, x, y) for x, y in runs])
    return grid, ys.mean(axis=0), ys.std(axis=0, ddof=1) if len(runs) > 1 else None


def _per_timestep(curve: Sequence[Sequence[float]]) -> tuple[np.ndarray, np.ndarray]:
    points = np.asarray(curve, dtype=float).reshape(-1, 2)
    steps, index = np.unique(points[:, 0], return_inverse=True)
    return steps, np.bincount(index, weights=points[:, 1]) / np.bincount(index)


def has_curves(entry: dict[str, Any]) -> bool:
    return any(run.get("learning_curve") for run in entry["runs"])


def curves_chart(board: dict[str, Any], path: Path) -> Path:
    """Per entry with curves, the mean training-episode return over its runs that have one, at
    common timesteps, with a band of ± the sample std where there are several runs."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, entry in enumerate(e for e in board["entries"] if has_curves(e)):
        curves = [run["learning_curve"] for run in entry["runs"] if run.get("learning_curve")]
        curve = mean_curve(curves)
        if curve is None:
            continue
        x, mean, std = curve
        name = entry["agent"] if entry["submitter"] == "gauntlet" else f"{entry['agent']} ({entry['submitter']})"
        band = f"mean ± std of {len(curves)} runs" if std is not None else "1 run"
        ax.plot(x, mean, color=f"C{i % 10}", label=f"{name} ({band})")
        if std is not None:
            ax.fill_between(x, mean - std, mean + std, color=f"C{i % 10}", alpha=0.2, linewidth=0)
    ax.set_xlabel("training timesteps")
    ax.set_ylabel("training episode return")
    ax.set_title(f"{board['task']}: learning curves", fontsize=10)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
