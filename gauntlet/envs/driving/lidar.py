"""Analytic 2-D lidar: rays from the ego's centre against the vehicles' oriented boxes (numba).

Beam ``k`` of ``n`` points at ``yaw + 2 pi k / n`` (counter-clockwise from straight ahead) and
returns the distance to the first box it enters, capped at ``max_range``: vehicles, and with the
env's ``pedestrians`` rate positive also pedestrians (``PEDESTRIAN_SIZE`` boxes, :func:`add_boxes`). The road surface and
its edges return nothing (the observation carries the route and the distances to the edges).
Under ``physics="bullet"`` the same beams are cast by PyBullet's ``rayTestBatch`` against the
same boxes (:mod:`gauntlet.envs.driving.bullet`); a test checks that the two agree.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def cast(ox: float, oy: float, yaw: float, n_beams: int, max_range: float, active, x, y, box_yaw, half_l: float,
         half_w: float, out) -> None:
    """Write the ``n_beams`` distances into ``out`` (slab test in each box's frame)."""
    for k in range(n_beams):
        out[k] = max_range
    add_boxes(ox, oy, yaw, n_beams, max_range, active, x, y, box_yaw, half_l, half_w, out)


@njit(cache=True)
def add_boxes(ox: float, oy: float, yaw: float, n_beams: int, max_range: float, active, x, y, box_yaw,
              half_l: float, half_w: float, out) -> None:
    """Shorten the distances in ``out`` to the boxes of another size (pedestrians after vehicles)."""
    for j in range(active.shape[0]):
        if not active[j]:
            continue
        dx, dy = x[j] - ox, y[j] - oy
        if dx * dx + dy * dy > (max_range + half_l + half_w) ** 2:
            continue
        c, s = math.cos(box_yaw[j]), math.sin(box_yaw[j])
        # The origin in the box's frame.
        lx, ly = -dx * c - dy * s, dx * s - dy * c
        for k in range(n_beams):
            ang = yaw + 2.0 * math.pi * k / n_beams - box_yaw[j]
            ux, uy = math.cos(ang), math.sin(ang)
            t_in, t_out = -1e300, 1e300
            hit = True
            for o, u, h in ((lx, ux, half_l), (ly, uy, half_w)):
                if abs(u) < 1e-12:
                    if abs(o) > h:
                        hit = False
                        break
                else:
                    t1, t2 = (-h - o) / u, (h - o) / u
                    if t1 > t2:
                        t1, t2 = t2, t1
                    t_in, t_out = max(t_in, t1), min(t_out, t2)
            if hit and t_in <= t_out and t_out >= 0.0:
                t = max(t_in, 0.0)
                if t < out[k]:
                    out[k] = t


def beam_angles(yaw: float, n_beams: int) -> np.ndarray:
    return yaw + 2.0 * np.pi * np.arange(n_beams) / n_beams
