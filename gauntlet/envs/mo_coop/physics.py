"""MPE-style particle physics, compiled with Numba, looping over the worlds of a batch.

The integration and contact model of the Multi-Agent Particle Environments (Lowe et al. 2017;
PettingZoo's former ``pettingzoo.mpe``, now the ``mpe2`` package, ``core.World``): a body's
velocity is damped, then accelerated by the sum of its control force and the soft contact
forces of every body it overlaps, clipped to its maximum speed, and integrated with a forward
Euler step. Unlike MPE the world is a square ``[-half_size, half_size]^2`` with walls, so
positions and observations stay bounded: a body leaving it is put back on the wall and loses
its outward velocity.

A world of a few bodies is a handful of floats, so numpy's per-call overhead, not arithmetic,
would dominate a step: the kernels loop over bodies in compiled code. The single env runs
them on a batch of one world and the native vector env on all its worlds, so the two agree
bit for bit. Compiled on first use and cached (``numba.njit(cache=True)``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

DT = 0.1
DAMPING = 0.25
CONTACT_FORCE = 1e2
CONTACT_MARGIN = 1e-3

# Discrete(5) movement directions, MPE's layout: no-op, -x, +x, -y, +y.
MOVES = np.array([[0.0, 0.0], [-1.0, 0.0], [1.0, 0.0], [0.0, -1.0], [0.0, 1.0]])


@njit(cache=True)
def _softplus(x: float) -> float:
    """log(1 + exp(x)) without overflow (numpy's logaddexp(0, x))."""
    return x + math.log1p(math.exp(-x)) if x > 0.0 else math.log1p(math.exp(x))


@njit(cache=True)
def move_bodies(pos: np.ndarray, vel: np.ndarray, force: np.ndarray, radius: np.ndarray, max_speed: np.ndarray,
                half_size: float) -> None:
    """One Euler step of one world in place (unit masses). ``pos``, ``vel``, ``force``: (n, 2),
    ``force`` the control forces (the contact forces are added here); ``radius``, ``max_speed``: (n,).

    MPE's soft contact: body ``i`` is pushed away from every overlapping body ``j`` with
    ``CONTACT_FORCE * k * log(1 + exp(-(d - r_i - r_j) / k))`` along ``pos_i - pos_j`` (``k`` the
    contact margin); coincident bodies exert no force."""
    n = pos.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            dx, dy = pos[i, 0] - pos[j, 0], pos[i, 1] - pos[j, 1]
            dist = math.sqrt(dx * dx + dy * dy)
            if dist == 0.0:
                continue
            scale = CONTACT_FORCE * CONTACT_MARGIN * _softplus(-(dist - radius[i] - radius[j]) / CONTACT_MARGIN) / dist
            force[i, 0] += scale * dx
            force[i, 1] += scale * dy
            force[j, 0] -= scale * dx
            force[j, 1] -= scale * dy
    for i in range(n):
        vx = vel[i, 0] * (1.0 - DAMPING) + force[i, 0] * DT
        vy = vel[i, 1] * (1.0 - DAMPING) + force[i, 1] * DT
        speed = math.sqrt(vx * vx + vy * vy)
        if speed > max_speed[i]:
            vx, vy = vx * max_speed[i] / speed, vy * max_speed[i] / speed
        x, y = pos[i, 0] + vx * DT, pos[i, 1] + vy * DT
        if abs(x) > half_size:
            x, vx = math.copysign(half_size, x), 0.0
        if abs(y) > half_size:
            y, vy = math.copysign(half_size, y), 0.0
        pos[i, 0], pos[i, 1], vel[i, 0], vel[i, 1] = x, y, vx, vy


@njit(cache=True)
def control_forces(actions: np.ndarray, accel: float, n_bodies: int) -> np.ndarray:
    """(n_bodies, 2) forces: ``accel`` along the move of each of the first ``len(actions)`` bodies, 0 for the rest."""
    force = np.zeros((n_bodies, 2))
    for i in range(actions.shape[0]):
        force[i, 0] = accel * MOVES[actions[i], 0]
        force[i, 1] = accel * MOVES[actions[i], 1]
    return force


@njit(cache=True)
def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two 2-vectors."""
    dx, dy = a[0] - b[0], a[1] - b[1]
    return math.sqrt(dx * dx + dy * dy)
