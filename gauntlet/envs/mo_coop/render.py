"""The ``rgb_array`` picture of one MOCoop world (one row of a core).

The square world with its walls; agents as disks of their true radius, numbered. Navigation:
landmarks as crosses, each joined by a dashed line to its nearest agent (the distance the
coverage objective counts). Predator-prey: predators in red, the prey in green with an arrow
along its velocity. The title holds the task, the step and the last team reward vector.

Matplotlib is imported here only and draws on its own Agg canvas (``gauntlet.envs.canvas``);
nothing is written to the core and no random number is drawn.
"""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Circle, Rectangle

from gauntlet.envs.canvas import new_figure, to_rgb
from gauntlet.envs.mo_coop.base import Core

SIZE_PX = 600


def draw(core: Core, row: int, last_reward: np.ndarray | None, title: str) -> np.ndarray:
    """The picture of world ``row`` of ``core`` as an (H, W, 3) uint8 array."""
    half = core.half_size
    fig = new_figure(SIZE_PX, SIZE_PX)
    ax = fig.add_axes((0.08, 0.06, 0.88, 0.82))
    ax.set_xlim(-half * 1.05, half * 1.05)
    ax.set_ylim(-half * 1.05, half * 1.05)
    ax.set_aspect("equal")
    ax.add_patch(Rectangle((-half, -half), 2 * half, 2 * half, fill=False, linewidth=2, edgecolor="#444444"))
    n = core.n_agents
    pos = core.pos[row]
    if hasattr(core, "landmarks"):
        landmarks = core.landmarks[row]
        for m in range(n):
            nearest = int(np.argmin(np.hypot(*(pos[:n] - landmarks[m]).T)))
            ax.plot([landmarks[m, 0], pos[nearest, 0]], [landmarks[m, 1], pos[nearest, 1]], "--", color="#888888", linewidth=1)
        ax.scatter(landmarks[:, 0], landmarks[:, 1], marker="x", s=120, color="#333333", linewidths=2.5, zorder=7)
        colors = [f"C{i % 10}" for i in range(n)]
    else:
        colors = ["#d62728"] * n
        prey, prey_vel = pos[n], core.vel[row, n]
        ax.add_patch(Circle(tuple(prey), core.radius[n], color="#2ca02c", zorder=4))
        ax.arrow(prey[0], prey[1], 0.3 * prey_vel[0], 0.3 * prey_vel[1], width=0.01, color="#2ca02c", zorder=4)
    for i in range(n):
        ax.add_patch(Circle(tuple(pos[i]), core.radius[i], color=colors[i], alpha=0.85, zorder=5))
        ax.text(pos[i, 0], pos[i, 1], str(i), ha="center", va="center", color="white", fontsize=9, zorder=6)
    reward = "–" if last_reward is None else ", ".join(f"{o} {r:+.2f}" for o, r in zip(core.objectives, last_reward))
    fig.suptitle(f"{title}   step {int(core.t[row])}\nteam reward: {reward}", fontsize=11)
    return to_rgb(fig)
