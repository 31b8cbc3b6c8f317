"""The ``rgb_array`` picture of an ESG portfolio episode.

Left: the wealth curve of the episode so far. Right: what the portfolio holds now, one bar per
asset coloured by whether its ESG score is above the universe mean, and the portfolio's ESG
score against that mean (above it earns the grant, below it pays the tax under regulation).
Pure function of the values handed in: it never touches an env's generator or state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

from gauntlet.envs.canvas import new_figure, to_rgb

WIDTH, HEIGHT = 900, 480
_ABOVE, _BELOW, _NEUTRAL = "#59a14f", "#f28e2b", "#9d9d9d"


@dataclass(frozen=True)
class Snapshot:
    """What the picture shows."""

    period: str
    regulation: str
    dates: np.ndarray
    """(k + 1,) datetime64[D] closes valuing the portfolio, from the episode's first day to now."""
    wealth: np.ndarray
    """(k + 1,) wealth at those closes (1 at the start)."""
    labels: Sequence[str]
    """Asset names, cash last when held."""
    weights: np.ndarray
    """(len(labels),) current (drifted) weights."""
    esg: np.ndarray
    """(len(labels),) ESG scores (cash at the universe mean)."""
    esg_mean: float


def draw(s: Snapshot) -> np.ndarray:
    """The (HEIGHT, WIDTH, 3) uint8 picture of snapshot ``s``."""
    fig = new_figure(WIDTH, HEIGHT)
    grid = fig.add_gridspec(1, 2, width_ratios=(1.7, 1.0), left=0.075, right=0.975, top=0.83, bottom=0.12, wspace=0.28)
    _wealth(fig.add_subplot(grid[0, 0]), s)
    _holdings(fig.add_subplot(grid[0, 1]), s)
    regime = "ESG grant/tax regulation" if s.regulation == "esg" else "no regulation"
    fig.suptitle(f"ESG portfolio, {s.period} period, {regime}: day {len(s.wealth) - 1}, wealth {s.wealth[-1]:.3f}",
                 x=0.075, y=0.965, ha="left", fontsize=12, fontweight="bold")
    esg_p = float(s.weights @ s.esg)
    side = "above" if esg_p > s.esg_mean else "below" if esg_p < s.esg_mean else "at"
    fig.text(0.075, 0.895, f"portfolio ESG {esg_p:.1f}, {side} the universe mean {s.esg_mean:.1f}", fontsize=9,
             color="#444444")
    return to_rgb(fig)


def _wealth(ax, s: Snapshot) -> None:
    ax.plot(s.dates, s.wealth, color=_ABOVE if s.regulation == "esg" else "#4e79a7", linewidth=1.6)
    ax.axhline(1.0, color="#888888", linewidth=0.8, linestyle="--")
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.tick_params(labelsize=8)
    ax.set_ylabel("wealth (start = 1)", fontsize=9)
    ax.set_title("wealth", fontsize=10, loc="left")


def _holdings(ax, s: Snapshot) -> None:
    n = len(s.labels)
    y = np.arange(n)[::-1]
    colors = np.where(s.esg > s.esg_mean, _ABOVE, np.where(s.esg < s.esg_mean, _BELOW, _NEUTRAL))
    ax.barh(y, s.weights, color=colors, height=0.7)
    ax.set_yticks(y, s.labels)
    ax.tick_params(labelsize=7 if n > 15 else 8)
    right = max(float(s.weights.max()), 1e-6)
    ax.set_xlim(0.0, right * 1.3)
    ax.set_ylim(-0.6, n - 0.4)
    for yi, w, e in zip(y, s.weights, s.esg):
        ax.text(w + right * 0.02, yi, f"{e:.0f}", va="center", fontsize=6.5 if n > 15 else 7.5, color="#555555")
    ax.set_xlabel("weight (number: the asset's ESG score)", fontsize=9)
    ax.set_title("holdings (green: ESG above mean)", fontsize=10, loc="left")
