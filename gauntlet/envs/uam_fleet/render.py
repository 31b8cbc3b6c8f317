"""The ``rgb_array`` map of a UAMFleet day.

Routes are grey lines (closed ones dashed red), vertiports squares sized by their parking
capacity and labelled with the passengers waiting there and the aircraft parked / capacity.
Aircraft in flight are dots at their current position along the route, coloured by state of
charge; the deciding aircraft is circled at its vertiport and its allowed destinations are
outlined. The title holds the clock, the day's profit and passengers served / lost.

Matplotlib is imported here only, and draws on its own Agg canvas (``gauntlet.envs.canvas``).
Everything is read from the env's arrays; nothing is written and no random number is drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib import colormaps

from gauntlet.envs.canvas import new_figure, to_rgb

if TYPE_CHECKING:
    from gauntlet.envs.uam_fleet.env import UAMFleetEnv

WIDTH_PX, HEIGHT_PX = 720, 640
_SOC = colormaps["RdYlGn"]


def draw(env: UAMFleetEnv) -> np.ndarray:
    """The map of ``env``'s current state as an (H, W, 3) uint8 array."""
    pos = env.layout.positions
    t = env.clock
    fig = new_figure(WIDTH_PX, HEIGHT_PX)
    ax = fig.add_axes((0.06, 0.06, 0.78, 0.84))
    closed = env.day.closed[env._bin] if not env.done else np.zeros_like(env.routes)
    for i, j in zip(*np.nonzero(np.triu(env.routes))):
        style = dict(color="#d62728", linestyle="--", linewidth=1.6) if closed[i, j] else dict(color="#bbbbbb", linewidth=1.0)
        ax.plot(pos[[i, j], 0], pos[[i, j], 1], zorder=1, **style)

    mask = env.action_masks()
    deciding = None if env.done else env.deciding
    home = None if deciding is None else int(env.loc[deciding])
    waiting = env.waiting_matrix().sum(axis=1)
    landed = env.arrival_time <= t
    parked = np.bincount(env.loc[landed], minlength=env.n_vertiports)
    for p, (x, y) in enumerate(pos):
        allowed = home is not None and mask[p] and p != home
        ax.scatter([x], [y], marker="s", s=260, color="#4c78a8", edgecolors="#ff7f0e" if allowed else "black",
                   linewidths=3.0 if allowed else 1.0, zorder=3)
        # labels go right unless a vertiport close on the right would sit under them
        dx, dy = pos[:, 0] - x, np.abs(pos[:, 1] - y)
        left = bool(np.any((dx > 0) & (dx < 0.2 * env.square_miles) & (dy < 0.12 * env.square_miles)))
        ax.annotate(f"V{p}\n{waiting[p]} waiting\n{parked[p]}/{env.parking} parked", (x, y),
                    xytext=(-9 if left else 9, -4), textcoords="offset points", fontsize=8, va="top",
                    ha="right" if left else "left", zorder=5)

    flying = ~landed
    fleet = _empty_mappable()
    if flying.any():
        start = np.maximum(t - env.takeoff_time[flying], 0.0)
        frac = np.clip(start / np.maximum(env.arrival_time[flying] - env.takeoff_time[flying], 1e-9), 0.0, 1.0)
        xy = pos[env.origin[flying]] + frac[:, None] * (pos[env.loc[flying]] - pos[env.origin[flying]])
        fleet = ax.scatter(xy[:, 0], xy[:, 1], c=env.soc[flying] / env.battery_kwh, cmap=_SOC, vmin=0, vmax=1, s=40,
                   edgecolors="black", linewidths=0.5, zorder=4)
    if home is not None:
        ax.scatter([pos[home, 0]], [pos[home, 1]], s=700, facecolors="none", edgecolors="#ff7f0e", linewidths=2.0,
                   zorder=4)
        ax.annotate(f"aircraft {deciding} deciding ({env.soc[deciding] / env.battery_kwh:.0%} charged)",
                    (pos[home, 0], pos[home, 1]), xytext=(9, 14), textcoords="offset points", fontsize=8,
                    color="#c85a00", zorder=5)

    side = env.square_miles
    ax.set_xlim(-0.05 * side, 1.15 * side)
    ax.set_ylim(-0.05 * side, 1.05 * side)
    ax.set_xlabel("miles")
    ax.set_aspect("equal")
    hours, minutes = divmod(int(round(t * 60)), 60)
    fig.suptitle(f"{hours:02d}:{minutes:02d}   profit ${env.profit:,.0f}   served {env.passengers_served}, "
                 f"lost {env.passengers_lost}   (closed routes dashed red)", fontsize=10)
    cax = fig.add_axes((0.87, 0.2, 0.025, 0.55))
    bar = fig.colorbar(fleet, cax=cax)
    bar.set_label("aircraft in flight: state of charge on landing")
    return to_rgb(fig)


def _empty_mappable():
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    return ScalarMappable(norm=Normalize(0, 1), cmap=_SOC)
