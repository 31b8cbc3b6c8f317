"""The ``rgb_array`` picture of one MEC system (one row of a :class:`~gauntlet.envs.mec_offloading.env.MECCore`).

Left: one bar per server slot (cloud on top, then edges 1..max_edges). A present server's bar
stacks the remaining work of its executing tasks (largest first) and then, hatched, the
tasks still uploading to it; the label gives its CPU frequency, and the text after the bar
its running tasks and the seconds of work queued (remaining bits over ``f / eta``). Absent
edges are greyed out as masked actions. Right: the uplink rate of the current task's user to
every present server (log scale). The title line holds the step, the preference and the task
being placed; the last decision's server is outlined and its delay and energy are printed.

Matplotlib is imported here only, and draws on its own Agg canvas (``gauntlet.envs.canvas``).
Everything is read from the core's arrays; nothing is written and no random number is drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.ticker import NullLocator

from gauntlet.envs.canvas import new_figure, to_rgb

if TYPE_CHECKING:
    from gauntlet.envs.mec_offloading.env import LastDecision, MECCore

WIDTH_PX, HEIGHT_PX = 900, 520
_RUNNING = ("#4c78a8", "#72a0cf")  # alternate shades so adjacent tasks stay distinguishable
_UPLOADING = "#f2a541"
_MASKED = "#d9d9d9"
_CHOSEN = "#d62728"


def server_name(s: int) -> str:
    return "cloud" if s == 0 else f"edge {s}"


def draw(core: MECCore, weights: np.ndarray, last: LastDecision | None, row: int = 0) -> np.ndarray:
    """The picture of system ``row`` of ``core`` with preference ``weights`` and its last
    step ``last`` (``None`` right after a reset), as an (H, W, 3) uint8 array."""
    n_servers = core.n_servers
    present = core.present[row]
    phase, server, remaining = core.phase[row], core.server[row], core.remaining[row]
    executing, uploading = phase == 2, phase == 1
    head_size, head_user = float(core.head_size[row]), int(core.head_user[row])
    rates = core.rate[row, :, head_user]
    freq, capacity = core.freq[row], core.capacity[row]

    fig = new_figure(WIDTH_PX, HEIGHT_PX)
    grid = fig.add_gridspec(1, 2, width_ratios=(3.0, 1.2), left=0.13, right=0.98, top=0.83, bottom=0.1, wspace=0.08)
    ax, ax_rate = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
    y = np.arange(n_servers)
    chosen = last.action if last is not None else None

    # One bar segment per task: (server, left end, width) of the executing ones, then the uploading ones.
    run_bars: list[tuple[int, float, float]] = []
    upload_bars: list[tuple[int, float, float]] = []
    longest = 0.0
    for s in range(n_servers):
        if not present[s]:
            ax.axhspan(s - 0.45, s + 0.45, color=_MASKED, zorder=0)
            ax.text(0.0, s, "  absent (masked)", va="center", fontsize=8, color="#7f7f7f")
            continue
        running = np.sort(remaining[executing & (server == s)])[::-1] / 1e6
        pending = remaining[uploading & (server == s)] / 1e6
        ends = np.cumsum(np.concatenate([running, pending]))
        starts = ends - np.concatenate([running, pending])
        run_bars += [(s, a, w) for a, w in zip(starts[: len(running)], running)]
        upload_bars += [(s, a, w) for a, w in zip(starts[len(running):], pending)]
        left = float(ends[-1]) if len(ends) else 0.0
        longest = max(longest, left)
        queued_s = running.sum() * 1e6 / capacity[s]
        ax.text(left, s, f"  {len(running)} running, {queued_s:.1f} s of work, {len(pending)} uploading",
                va="center", fontsize=8)
    if run_bars:
        ys, lefts, widths = zip(*run_bars)
        ax.barh(ys, widths, left=lefts, height=0.7, edgecolor="white", linewidth=0.5,
                color=[_RUNNING[k % 2] for k in range(len(ys))])
    if upload_bars:
        ys, lefts, widths = zip(*upload_bars)
        ax.barh(ys, widths, left=lefts, height=0.7, color=_UPLOADING, hatch="//", edgecolor="white", linewidth=0.5)
    ax.set_xlim(0.0, max(longest * 1.9, 10.0))
    ax.set_ylim(n_servers - 0.5, -0.5)
    ax.set_yticks(y)
    ax.set_yticklabels([f"{server_name(s)}  {freq[s] / 1e9:.2f} GHz" if present[s] else server_name(s)
                        for s in range(n_servers)], fontsize=8)
    for s, label in enumerate(ax.get_yticklabels()):
        if not present[s]:
            label.set_color("#9f9f9f")
    ax.set_xlabel("remaining work per task on the server (Mbit; hatched: still uploading)", fontsize=8)
    ax.tick_params(axis="x", labelsize=8)

    shown = present & (rates > 0)
    ax_rate.barh(y[shown], rates[shown] / 1e6, height=0.7, color="#54a24b")
    ax_rate.set_xscale("log")
    # Log axes draw many minor ticks, the slowest part of the picture.
    ax_rate.xaxis.set_minor_locator(NullLocator())
    ax_rate.set_ylim(n_servers - 0.5, -0.5)
    ax_rate.set_yticks([])
    for s in np.flatnonzero(~present):
        ax_rate.axhspan(s - 0.45, s + 0.45, color=_MASKED, zorder=0)
    ax_rate.set_xlabel(f"uplink of user {head_user} (Mbit/s)", fontsize=8)
    ax_rate.tick_params(axis="x", labelsize=8)

    if chosen is not None:
        for a in (ax, ax_rate):
            a.axhspan(chosen - 0.5, chosen + 0.5, fill=False, edgecolor=_CHOSEN, linewidth=2.0, zorder=3)

    task = (f"task to place: {head_size / 1e6:.2f} Mbit from user {head_user}" if head_size > 0
            else "no task waiting (a zero-size dummy task, reward 0)")
    fig.text(0.01, 0.955, f"MEC offloading   step {int(core.t[row])}/{core.episode_steps}   E = {int(core.edges[row])} edges"
             f"   preference w = ({weights[0]:.2f} delay, {weights[1]:.2f} energy)", fontsize=10, weight="bold")
    fig.text(0.01, 0.91, task, fontsize=9)
    if last is None:
        decision = "last decision: none yet (just reset)"
    elif last.size_bits > 0:
        decision = (f"last decision: {last.size_bits / 1e6:.2f} Mbit of user {last.user} to {server_name(last.action)}: "
                    f"delay {last.delay_s:.2f} s, energy {last.energy_j:.4g} J, "
                    f"reward ({last.reward[0]:.3g}, {last.reward[1]:.3g})")
    else:
        decision = f"last decision: dummy task to {server_name(last.action)} (no cost)"
    fig.text(0.01, 0.87, decision, fontsize=9, color=_CHOSEN if last is not None else "black")
    return to_rgb(fig)
