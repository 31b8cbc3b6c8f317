"""Multi-objective cooperative navigation: N agents cover N landmarks, spending as little energy as they can.

## Description

``n_agents`` particles move in a square 2-D world ``[-world_size, world_size]^2`` with walls
and must cover ``n_agents`` landmarks together: the team is rewarded for every landmark being
close to *some* agent, and pays for every move. This is the cooperative navigation task of
the Multi-Agent Particle Environments (Lowe et al. 2017, ``simple_spread``) with its reward
split into objectives, the MPE benchmark of MO-MIX (Hu, Zhang, Zhu, Yang, Zhang, Li,
"MO-MIX: Multi-Objective Multi-Agent Cooperative Decision-Making With Deep Reinforcement
Learning", IEEE TPAMI 2023, arXiv 2603.00730). Agents observe locally (their own motion and
relative positions); ``state()`` gives the global state for centralized training (CTDE).

Physics (:mod:`gauntlet.envs.mo_coop.physics`, MPE's): unit masses, ``dt = 0.1``, damping
0.25, control force 5 per unit action, soft contacts between agents (radius 0.15, landmarks
radius 0.05 do not collide), maximum speed 2, walls.

## Action Space

``Discrete(5)`` per agent: 0 no-op, 1 move -x, 2 move +x, 3 move -y, 4 move +y. ``step``
takes a dict with exactly one action per live agent; a missing or unknown agent, a
non-integer or an action outside ``[0, 4]`` raises ``ValueError``.

## Observation Space

``Box(float32, (4 * n_agents + 2,))`` per agent ``i``: its velocity (2), its position (2),
the position of every landmark relative to it (``2 * n_agents``), and the position of every
other agent relative to it (``2 * (n_agents - 1)``, in agent order). Bounded by the maximum
speed and the world size.

``state()``: ``Box(float32, (6 * n_agents + 1,))``: every agent's position, every agent's
velocity, every landmark's position, and the elapsed fraction of the episode ``t / max_cycles``.

## Rewards

A team reward vector, the same for every agent (MOMAland's convention: a float32 array,
``reward_space(agent)`` its Box), one entry per name in ``objectives`` and in that order:

* ``"coverage"``: ``-sum_l min_i ||landmark_l - agent_i||`` after the move (MPE's shared reward).
* ``"energy"``: ``-sum_i ||u_i||^2``: minus the number of agents that moved (each move is a
  unit control).
* ``"collisions"``: minus the number of pairs of agents that overlap after the move.

Every objective is higher-is-better.

## Starting State

Agents and landmarks uniformly in the world, agents at rest.

## Episode End

Truncation after ``max_cycles`` steps (every agent at once); there is no termination.

## Arguments

* ``n_agents`` (int, 3): agents and landmarks, 1 to 64.
* ``world_size`` (float, 1.0): half-width of the square world, 0.5 to 100.
* ``objectives`` (sequence of str, ``("coverage", "energy")``): any of ``"coverage"``,
  ``"energy"``, ``"collisions"``, in the order of the reward vector.
* ``max_cycles`` (int, 25): episode length, MPE's default.
* ``render_mode`` (None or ``"rgb_array"``): the world, landmarks linked to their nearest agent.

## Version History

* v0: initial version.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from numba import njit

from gauntlet.envs.mo_coop import physics
from gauntlet.envs.mo_coop.base import Core, MOCoopParallelEnv, build_core

AGENT_RADIUS = 0.15
LANDMARK_RADIUS = 0.05
ACCEL = 5.0
MAX_SPEED = 2.0
NAVIGATION_OBJECTIVES = ("coverage", "energy", "collisions")


class NavigationCore(Core):
    """``batch`` navigation worlds: ``pos``/``vel`` (batch, n, 2) agents, ``landmarks`` (batch, n, 2)."""

    objectives_allowed = NAVIGATION_OBJECTIVES

    def __init__(self, batch: int, n_agents: int, world_size: float, objectives: tuple[str, ...], max_cycles: int) -> None:
        super().__init__(batch, n_agents, world_size, objectives, max_cycles)
        n, half = n_agents, world_size
        self.pos = np.zeros((batch, n, 2))
        self.vel = np.zeros((batch, n, 2))
        self.landmarks = np.zeros((batch, n, 2))
        self.radius = np.full(n, AGENT_RADIUS)
        self.max_speed = np.full(n, MAX_SPEED)
        self.obs_high = np.concatenate([np.full(2, MAX_SPEED), np.full(2, half), np.full(4 * n - 2, 2 * half)]).astype(np.float32)
        self.obs_low = -self.obs_high
        self.state_high = np.concatenate([np.full(2 * n, half), np.full(2 * n, MAX_SPEED), np.full(2 * n, half), [1.0]]).astype(np.float32)
        self.state_low = np.concatenate([-self.state_high[:-1], [0.0]]).astype(np.float32)
        self.reward_low = np.array([-n * 2 * np.sqrt(2) * half, -n, -n * (n - 1) / 2], dtype=np.float32)
        self.reward_high = np.zeros(3, dtype=np.float32)

    def reset(self, rows: np.ndarray, rngs: Sequence[np.random.Generator]) -> None:
        n, half = self.n_agents, self.half_size
        for row, rng in zip(rows, rngs):
            draw = rng.uniform(-half, half, size=(2 * n, 2))
            self.pos[row], self.landmarks[row] = draw[:n], draw[n:]
        self.vel[rows] = 0.0
        self.t[rows] = 0

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = np.empty((self.batch, 3))
        _step(self.pos, self.vel, self.landmarks, actions, self.radius, self.max_speed, self.half_size, out)
        self.t += 1
        return self.select(out), np.zeros(self.batch, dtype=bool)

    def observe(self) -> np.ndarray:
        obs = np.empty((self.batch, self.n_agents, 4 * self.n_agents + 2), dtype=np.float32)
        _observe(self.pos, self.vel, self.landmarks, obs)
        return obs

    def state(self) -> np.ndarray:
        b = self.batch
        return np.concatenate(
            [self.pos.reshape(b, -1), self.vel.reshape(b, -1), self.landmarks.reshape(b, -1), (self.t / self.max_cycles)[:, None]],
            axis=1,
        ).astype(np.float32)


@njit(cache=True)
def _step(pos, vel, landmarks, actions, radius, max_speed, half_size, out):
    """Move every world's agents; ``out[b]`` = (coverage, energy, collisions) after the move."""
    n = pos.shape[1]
    for b in range(pos.shape[0]):
        physics.move_bodies(pos[b], vel[b], physics.control_forces(actions[b], ACCEL, n), radius, max_speed, half_size)
        coverage = 0.0
        for m in range(n):
            nearest = np.inf
            for i in range(n):
                nearest = min(nearest, physics.distance(landmarks[b, m], pos[b, i]))
            coverage -= nearest
        moves, overlaps = 0, 0
        for i in range(n):
            moves += actions[b, i] != 0
            for j in range(i + 1, n):
                overlaps += physics.distance(pos[b, i], pos[b, j]) < 2 * AGENT_RADIUS
        out[b, 0], out[b, 1], out[b, 2] = coverage, -moves, -overlaps


@njit(cache=True)
def _observe(pos, vel, landmarks, obs):
    """``obs[b, i]`` = [vel_i, pos_i, landmarks - pos_i, other agents - pos_i] (float32)."""
    n = pos.shape[1]
    for b in range(pos.shape[0]):
        for i in range(n):
            o = obs[b, i]
            o[0], o[1], o[2], o[3] = vel[b, i, 0], vel[b, i, 1], pos[b, i, 0], pos[b, i, 1]
            k = 4
            for m in range(n):
                o[k], o[k + 1] = landmarks[b, m, 0] - pos[b, i, 0], landmarks[b, m, 1] - pos[b, i, 1]
                k += 2
            for j in range(n):
                if j != i:
                    o[k], o[k + 1] = pos[b, j, 0] - pos[b, i, 0], pos[b, j, 1] - pos[b, i, 1]
                    k += 2


class MOCoopNavigationEnv(MOCoopParallelEnv):
    __doc__ = __doc__

    metadata = {**MOCoopParallelEnv.metadata, "name": "mo_coop_navigation_v0"}

    def __init__(
        self,
        n_agents: int = 3,
        world_size: float = 1.0,
        objectives: Sequence[str] = ("coverage", "energy"),
        max_cycles: int = 25,
        render_mode: str | None = None,
    ) -> None:
        super().__init__(build_core(NavigationCore, 1, n_agents, world_size, objectives, max_cycles), render_mode)
