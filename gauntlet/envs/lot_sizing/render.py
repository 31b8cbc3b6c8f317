"""The ``rgb_array`` picture of a lot-sizing plant after a period.

Three panels: stock per item against the storage limit (what the period started with, what the
machines made, the demand and the stock kept), the machines' setups over the items they can make
(setups changed this period stand out) and the period's cost split. Pure function of the state
handed in: it never touches an env's generator or state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

from gauntlet.envs.canvas import new_figure, to_rgb
from gauntlet.envs.lot_sizing.env import LotSizingInstance, _Tables

WIDTH, HEIGHT = 900, 600
_START, _MADE, _KEPT, _LOST = "#b8c2cc", "#59a14f", "#1f4e79", "#e15759"
_SAME, _CHANGED, _CAN_MAKE = "#4e79a7", "#f28e2b", "#e8ecef"
_COST_COLORS = {"setup": "#f28e2b", "lost_sales": "#e15759", "holding": "#4e79a7", "overflow": "#9c755f"}


@dataclass(frozen=True)
class Period:
    """What happened in the period just played (absent right after a reset)."""

    start_inventory: np.ndarray
    """(I,) stock at the start of the period."""
    made: np.ndarray
    """(I,) units made, setup losses already subtracted."""
    demand: np.ndarray
    """(I,) demand of the period."""
    machine_units: np.ndarray
    """(M,) units each machine made."""
    changed: np.ndarray
    """(M,) bool: the machine paid a setup."""
    cost: Mapping[str, float]


def period_from_transition(
    tables: _Tables, k: np.ndarray, start_inventory: np.ndarray, demand: np.ndarray, cost: Mapping[str, float]
) -> Period:
    """Decode the transition-table entries ``k`` of one env's last step into a :class:`Period`."""
    item_bin = tables.index[0].take(k)
    units = tables.weight[0].take(k)
    made = np.bincount(item_bin, units, minlength=tables.n_items + 1)[1:]
    return Period(np.asarray(start_inventory, dtype=np.float64), made, np.asarray(demand, dtype=np.float64),
                  units, tables.weight[2].take(k) > 0, cost)


def draw(instance: LotSizingInstance, t: int, horizon: int, inventory: np.ndarray, setup: np.ndarray,
         period: Period | None) -> np.ndarray:
    """The (HEIGHT, WIDTH, 3) uint8 picture after ``t`` of ``horizon`` periods."""
    fig = new_figure(WIDTH, HEIGHT)
    grid = fig.add_gridspec(2, 2, width_ratios=(3.2, 1.0), height_ratios=(1.25, 1.0),
                            left=0.07, right=0.985, top=0.84, bottom=0.09, wspace=0.28, hspace=0.42)
    _stock(fig.add_subplot(grid[0, :]), instance, inventory, period)
    _machines(fig.add_subplot(grid[1, 0]), instance, setup, period)
    _costs(fig.add_subplot(grid[1, 1]), period)
    title = f"Lot sizing, {instance.n_items} items x {instance.n_machines} machines: period {t}/{horizon}"
    fig.suptitle(title, x=0.07, y=0.975, ha="left", fontsize=12, fontweight="bold")
    progress = fig.add_axes((0.07, 0.9, 0.915, 0.014), facecolor=_CAN_MAKE)
    progress.barh(0, t / horizon, height=1.0, color=_SAME)
    progress.set_xlim(0, 1)
    progress.set_ylim(-0.5, 0.5)
    progress.set_xticks([])
    progress.set_yticks([])
    return to_rgb(fig)


def _stock(ax, instance: LotSizingInstance, inventory: np.ndarray, period: Period | None) -> None:
    n = instance.n_items
    x = np.arange(n)
    cap = instance.max_inventory
    if period is None:
        ax.bar(x, inventory, width=0.7, color=_KEPT, label="stock")
    else:
        available = period.start_inventory + period.made
        lost = np.maximum(period.demand - available, 0.0)
        ax.bar(x, period.start_inventory, width=0.8, color=_START, label="stock at start")
        ax.bar(x, period.made, width=0.8, bottom=period.start_inventory, color=_MADE, label="made")
        ax.bar(x, lost, width=0.8, bottom=available, color=_LOST, alpha=0.85, label="lost sales")
        ax.bar(x, inventory, width=0.34, color=_KEPT, label="stock kept")
        ax.scatter(x, period.demand, marker="_", s=220, linewidths=2.2, color="black", zorder=3, label="demand")
    ax.step(np.r_[x - 0.5, n - 0.5], np.r_[cap, cap[-1]], where="post", color="#444444", linestyle="--",
            linewidth=1.1, label="storage limit")
    ax.set_xlim(-0.6, n - 0.4)
    top = max(float(cap.max()), float(np.max(inventory, initial=0)))
    if period is not None:
        top = max(top, float((period.start_inventory + period.made).max()), float(period.demand.max()))
    ax.set_ylim(0, top * 1.08)
    ax.set_xticks(x)
    ax.set_xlabel("item", fontsize=9, labelpad=1)
    ax.set_ylabel("units", fontsize=9)
    ax.set_title("stock per item against the storage limit", fontsize=10, loc="left")
    ax.tick_params(labelsize=8)
    ax.legend(fontsize=8, ncol=6, loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False,
              handlelength=1.4, columnspacing=1.0, borderaxespad=0.2)


def _machines(ax, instance: LotSizingInstance, setup: np.ndarray, period: Period | None) -> None:
    n_machines, n_items = instance.production.shape
    # 0 = cannot make, 1 = can make, 2 = set up (kept), 3 = set up (changed this period)
    cells = (instance.production > 0).astype(np.int64)
    busy = np.flatnonzero(setup > 0)
    changed = np.zeros(n_machines, dtype=bool) if period is None else period.changed
    cells[busy, setup[busy] - 1] = np.where(changed[busy], 3, 2)
    ax.imshow(cells, cmap=ListedColormap(["white", _CAN_MAKE, _SAME, _CHANGED]), vmin=0, vmax=3,
              aspect="auto", interpolation="nearest")
    ax.set_xticks(np.arange(n_items) - 0.5, minor=True)
    ax.set_yticks(np.arange(n_machines) - 0.5, minor=True)
    ax.grid(which="minor", color="#cfd5da", linewidth=0.6)
    ax.tick_params(which="minor", length=0)
    ax.set_xticks(np.arange(n_items))
    labels = []
    for m in range(n_machines):
        if setup[m] == 0:
            labels.append(f"m{m} idle")
        else:
            labels.append(f"m{m}")
            if period is not None:
                ax.text(setup[m] - 1, m, f"{period.machine_units[m]:.0f}", ha="center", va="center",
                        color="white", fontsize=7 if n_items > 20 else 8, fontweight="bold")
    ax.set_yticks(np.arange(n_machines), labels)
    ax.tick_params(labelsize=8)
    ax.set_xlabel("item", fontsize=9, labelpad=1)
    n_changed = int(changed.sum())
    ax.set_title(f"machine setups ({n_changed} changed this period; number = units made)" if period is not None
                 else "machine setups", fontsize=10, loc="left")
    handles = [Patch(color=_SAME, label="set up"), Patch(color=_CHANGED, label="new setup"),
               Patch(facecolor=_CAN_MAKE, edgecolor="#cfd5da", label="can make")]
    ax.legend(handles=handles, fontsize=7.5, ncol=3, loc="upper right", bbox_to_anchor=(1.0, -0.16), frameon=False)


def _costs(ax, period: Period | None) -> None:
    names = ("setup", "lost_sales", "holding", "overflow")
    y = np.arange(4)[::-1]
    ax.set_yticks(y, [k.replace("_", " ") for k in names])
    ax.set_ylim(-0.6, 3.6)
    ax.tick_params(labelsize=8)
    ax.set_xticks([])
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    if period is None:
        ax.set_title("period cost", fontsize=10, loc="left")
        ax.text(0.5, 0.5, "no period played yet", transform=ax.transAxes, ha="center", va="center",
                fontsize=9, color="#666666")
        return
    values = [float(period.cost[k]) for k in names]
    ax.barh(y, values, color=[_COST_COLORS[k] for k in names], height=0.65)
    right = max(max(values), 1e-9)
    ax.set_xlim(0, right * 1.45)
    for yi, v in zip(y, values):
        ax.text(v + right * 0.03, yi, f"{v:.1f}", va="center", fontsize=8)
    ax.set_title(f"period cost: {sum(values):.1f}", fontsize=10, loc="left")
