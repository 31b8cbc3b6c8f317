"""The ``rgb_array`` picture of a fair-threshold round.

Left: the two groups' score distributions the next batch is drawn from, the threshold just
chosen and the accepted region. Right: each group's acceptance rate in the last batch next to
its population rate, and the constraint residuals (realized and expected) with the round's
feasibility. Pure function of the values handed in: it never touches an env's generator or state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from gauntlet.envs.canvas import new_figure, to_rgb

WIDTH, HEIGHT = 900, 520
GROUP_COLORS = ("#4e79a7", "#e15759")
_OK, _BAD = "#59a14f", "#e15759"


@dataclass(frozen=True)
class Round:
    """What the picture shows; ``last`` is the env's last step info (None right after reset)."""

    dataset: str
    group_names: tuple[str, str]
    t: int
    horizon: int
    scores: np.ndarray
    """(M,) bin centres."""
    pi: np.ndarray
    """(2, M) score distribution per group (the next batch's)."""
    share: float
    base_share: float
    eps: float
    """Demographic-parity tolerance."""
    last: Mapping[str, Any] | None


def draw(r: Round) -> np.ndarray:
    """The (HEIGHT, WIDTH, 3) uint8 picture of round ``r``."""
    fig = new_figure(WIDTH, HEIGHT)
    grid = fig.add_gridspec(2, 2, width_ratios=(1.75, 1.0), height_ratios=(1.0, 1.0),
                            left=0.07, right=0.975, top=0.83, bottom=0.1, wspace=0.3, hspace=0.8)
    _scores(fig.add_subplot(grid[:, 0]), r)
    _acceptance(fig.add_subplot(grid[0, 1]), r)
    _constraints(fig.add_subplot(grid[1, 1]), r)
    head = f"Fair threshold ({r.dataset}): round {r.t}/{r.horizon}"
    if r.last is not None:
        head += f", threshold {r.last['threshold']:.2f}"
    fig.suptitle(head, x=0.07, y=0.97, ha="left", fontsize=12, fontweight="bold")
    sub = f"protected-group share {r.share:.3f} (base {r.base_share:.3f})"
    if r.last is not None:
        sub += f"   expected reward {r.last['expected_reward']:.3f}"
    fig.text(0.07, 0.91, sub, fontsize=9, color="#444444")
    return to_rgb(fig)


def _scores(ax, r: Round) -> None:
    m = r.scores.size
    edges = np.linspace(0.0, 1.0, m + 1)
    weights = (1.0 - r.share, r.share)
    for g in (0, 1):
        density = r.pi[g] * m
        label = f"{r.group_names[g]} ({weights[g]:.0%} of applicants)"
        ax.stairs(density, edges, color=GROUP_COLORS[g], linewidth=1.8, label=label)
        ax.stairs(density, edges, fill=True, color=GROUP_COLORS[g], alpha=0.12)
    top = float((r.pi * m).max()) * 1.15
    if r.last is not None:
        tau = float(r.last["threshold"])
        ax.axvspan(tau, 1.0, color="#59a14f", alpha=0.1, label="accepted (score >= threshold)")
        ax.axvline(tau, color="black", linewidth=1.6)
        ax.text(tau + (0.01 if tau < 0.75 else -0.01), top * 0.62, f"threshold {tau:.2f}", ha="left" if tau < 0.75 else "right",
                va="center", fontsize=9, bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.5})
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, top)
    ax.set_xlabel("score", fontsize=9)
    ax.set_ylabel("density", fontsize=9)
    ax.tick_params(labelsize=8)
    ax.set_title("score distribution per group", fontsize=10, loc="left")
    ax.legend(fontsize=8, loc="upper left", framealpha=0.9, edgecolor="none")


def _acceptance(ax, r: Round) -> None:
    ax.set_title("acceptance rate per group", fontsize=10, loc="left")
    ax.set_xlim(0.0, 1.0)
    ax.set_yticks([1, 0], r.group_names)
    ax.set_ylim(-0.6, 1.6)
    ax.tick_params(labelsize=8)
    if r.last is None:
        ax.text(0.5, 0.5, "no round played yet", transform=ax.transAxes, ha="center", va="center",
                fontsize=9, color="#666666")
        return
    realized = np.asarray(r.last["acceptance_rate"], dtype=np.float64)
    expected = np.asarray(r.last["expected_acceptance_rate"], dtype=np.float64)
    for g, y in ((0, 1), (1, 0)):
        ax.barh(y, realized[g], height=0.55, color=GROUP_COLORS[g])
        ax.plot([expected[g]] * 2, [y - 0.38, y + 0.38], color="black", linewidth=1.6)
        ax.text(min(max(realized[g], expected[g]), 0.8) + 0.02, y, f"{realized[g]:.2f}", va="center", fontsize=8,
                color="white" if realized[g] > 0.8 else "black")
    gap = abs(realized[0] - realized[1])
    ax.set_xlabel(f"bars: last batch, ticks: population\n|a0 - a1| = {gap:.3f}, tolerance eps = {r.eps:g}", fontsize=8)


def _constraints(ax, r: Round) -> None:
    if r.last is None:
        ax.set_title("constraint residuals (<= 0 is feasible)", fontsize=10, loc="left")
        ax.set_yticks([])
        ax.set_xticks([])
        ax.text(0.5, 0.5, "no round played yet", transform=ax.transAxes, ha="center", va="center",
                fontsize=9, color="#666666")
        return
    realized, expected = r.last["cost"], r.last["expected_cost"]
    names = list(realized)
    y = np.arange(len(names))[::-1].astype(np.float64)
    for yi, name in zip(y, names):
        for offset, value, kind in ((0.18, realized[name], "batch"), (-0.18, expected[name], "population")):
            ax.barh(yi + offset, value, height=0.32, color=_OK if value <= 0 else _BAD,
                    alpha=1.0 if kind == "batch" else 0.55)
            # The label sits on the other side of zero, where there is no bar.
            ax.text(0.0, yi + offset, f" {value:+.3f} {kind} " , va="center", fontsize=7.5,
                    ha="left" if value <= 0 else "right")
    span = max(max(abs(float(v)) for v in (*realized.values(), *expected.values())), 1e-3)
    ax.set_xlim(-span * 1.15, span * 1.15)
    ax.axvline(0.0, color="black", linewidth=0.9)
    ax.set_yticks(y, names)
    ax.set_ylim(-0.7, len(names) - 0.3)
    ax.tick_params(labelsize=8)
    feasible = all(v <= 0 for v in expected.values())
    ax.set_title(f"constraint residuals: {'feasible' if feasible else 'violated'}", fontsize=10, loc="left",
                 color=_OK if feasible else _BAD)
