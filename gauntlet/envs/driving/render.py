"""Top-down picture of the driving env (``render_mode="rgb_array"``), drawn with matplotlib.

An 80 m window centred on the ego: the road (grey) with lane lines, the route ahead (green),
crosswalks (white stripes) and pedestrians (orange squares) when they are on, NPCs (blue boxes),
the ego (red), the lidar beams when the observation is the lidar, and a title
with the step, speed, route completion and the last reward vector.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.patches import Circle, Polygon

from gauntlet.envs.canvas import new_figure, to_rgb
from gauntlet.envs.driving import traffic as tr
from gauntlet.envs.driving.road import SIDEWALK

if TYPE_CHECKING:
    from gauntlet.envs.driving.env import MODrivingEnv

HALF_WINDOW = 40.0
ROAD, LINE, ROUTE, NPC, EGO, GRASS = "#55585c", "#e8e8e8", "#3cb44b", "#2f6fd6", "#d62f2f", "#a9c99a"
PEDESTRIAN = "#f58231"
CROSSWALK_WIDTH = 3.0


def _box(x: float, y: float, yaw: float, length: float = tr.LENGTH, width: float = tr.WIDTH) -> np.ndarray:
    c, s = math.cos(yaw), math.sin(yaw)
    corners = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]]) * [length / 2, width / 2]
    return corners @ np.array([[c, s], [-s, c]]) + [x, y]


def _offset(env: "MODrivingEnv", p: int, d: float) -> np.ndarray:
    scene = env.scene
    n = int(scene.lengths[p]) + 1
    xy, h = scene.paths[p, :n], scene.headings[p, :n]
    return xy + d * np.stack([-np.sin(h), np.cos(h)], axis=1)


def draw(env: "MODrivingEnv", beams: np.ndarray | None = None, width: int = 480, height: int = 480) -> np.ndarray:
    scene, ego = env.scene, env.ego
    fig = new_figure(width, height)
    ax = fig.add_axes((0, 0, 1, 0.92))
    ax.set_facecolor(GRASS)
    ex, ey = ego[tr.EX], ego[tr.EY]
    w = scene.lane_width
    if scene.junction is None:
        # One carriageway polygon per road; lane lines between the route path's lanes.
        right = _offset(env, scene.route, scene.right_edge)
        left = _offset(env, scene.route, scene.left_edge)
        ax.add_patch(Polygon(np.concatenate([right, left[::-1]]), color=ROAD, lw=0))
        lines = scene.lane_offsets[0][:-1] + w / 2 if scene.name == "highway" else [w / 2]
        for d in lines:
            ax.plot(*_offset(env, scene.route, d).T, color=LINE, lw=1, ls=(0, (4, 6)))
    else:
        cx, cy, r = scene.junction
        ax.add_patch(Circle((cx, cy), r, color=ROAD, lw=0))
        for x0, y0, h, length, half in scene.arms:
            c, s = math.cos(h), math.sin(h)
            corners = np.array([[0, -half], [length, -half], [length, half], [0, half]])
            ax.add_patch(Polygon(corners @ np.array([[c, s], [-s, c]]) + [x0, y0], color=ROAD, lw=0))
            inner = np.array([x0, y0]) + (r - np.hypot(x0, y0)) * np.array([c, s])
            ax.plot([inner[0], x0 + length * c], [inner[1], y0 + length * s], color=LINE, lw=1, ls=(0, (4, 6)))
    route = _offset(env, scene.route, scene.route_lane)[int(max(ego[tr.ES], 0)): int(scene.route_end)]
    ax.plot(*route.T, color=ROUTE, lw=2, alpha=0.8)
    if beams is not None:
        ang = ego[tr.EYAW] + 2 * np.pi * np.arange(len(beams)) / len(beams)
        hx, hy = ex + beams * np.cos(ang), ey + beams * np.sin(ang)
        for x1, y1 in zip(hx, hy):
            ax.plot([ex, x1], [ey, y1], color="#f5d142", lw=0.4, alpha=0.35)
        hit = beams < beams.max(initial=0.0) - 1e-9
        ax.scatter(hx[hit], hy[hit], s=6, color="#f5a142", zorder=4)
    for x0, y0, ux, uy, length in env.crosswalks:
        # Zebra stripes every metre of the carriageway, each along the traffic.
        along = math.atan2(uy, ux) + math.pi / 2
        for t in np.arange(SIDEWALK + 0.5, length - SIDEWALK, 1.0):
            stripe = _box(x0 + ux * t, y0 + uy * t, along, CROSSWALK_WIDTH, 0.5)
            ax.add_patch(Polygon(stripe, color=LINE, lw=0, alpha=0.8, zorder=2))
    for k in np.flatnonzero(env.ped_active):
        size = tr.PEDESTRIAN_SIZE
        ax.add_patch(Polygon(_box(env.ped_x[k], env.ped_y[k], env.ped_yaw[k], size, size), color=PEDESTRIAN, lw=0,
                             zorder=3))
    for k in np.flatnonzero(env.active):
        ax.add_patch(Polygon(_box(env.x[k], env.y[k], env.yaw[k]), color=NPC, lw=0, zorder=3))
    ax.add_patch(Polygon(_box(ex, ey, ego[tr.EYAW]), color=EGO, lw=0, zorder=3))
    ax.set_xlim(ex - HALF_WINDOW, ex + HALF_WINDOW)
    ax.set_ylim(ey - HALF_WINDOW, ey + HALF_WINDOW)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    r = env._last_reward
    fig.suptitle(f"{scene.name}  t={env.t * 0.1:.1f} s  v={ego[tr.EV]:.1f} m/s  route {env.route_completion():.0f}%\n"
                 f"reward [safety {r[0]:.2f}, efficiency {r[1]:.3f}, comfort {r[2]:.3f}]", fontsize=9, y=0.995)
    return to_rgb(fig)
