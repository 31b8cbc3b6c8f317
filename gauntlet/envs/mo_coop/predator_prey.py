"""Multi-objective predator-prey: N predators capture a faster prey, trading the capture against energy and time.

## Description

``n_agents`` predators chase one prey in a square 2-D world ``[-world_size, world_size]^2``
with walls. The prey is faster than any predator (maximum speed 1.3 against 1.0, as in MPE's
``simple_tag``) and flees by a fixed rule, so a lone predator rarely catches it in the open:
predators have to corner it together. The episode ends when a predator touches the prey.
The objectives are the capture reward and the cost of the chase (control energy and,
optionally, time), the second MPE-style task of MO-MIX (Hu et al., "MO-MIX: Multi-Objective
Multi-Agent Cooperative Decision-Making With Deep Reinforcement Learning", IEEE TPAMI 2023,
arXiv 2603.00730; the dynamics are those of MPE's ``simple_tag`` with a scripted prey and no
obstacles). Predators observe locally; ``state()`` is the global state (CTDE).

Physics (:mod:`gauntlet.envs.mo_coop.physics`): unit masses, ``dt = 0.1``, damping 0.25,
predators radius 0.075, control force 3, maximum speed 1.0; prey radius 0.05, force 4,
maximum speed 1.3; soft contacts between all bodies; walls.

The prey's rule: accelerate at full force along ``sum_i (prey - predator_i) / ||prey - predator_i||^2``
(away from the predators, the closest weighing most) plus a push of ``1 / distance`` away
from each wall, so it slides along walls instead of running into them: one predator chasing
it straight catches it in about one episode in eight (at the defaults), a team that
corners it far more often.

## Action Space

``Discrete(5)`` per predator: 0 no-op, 1 move -x, 2 move +x, 3 move -y, 4 move +y. ``step``
takes a dict with exactly one action per live predator; a missing or unknown agent, a
non-integer or an action outside ``[0, 4]`` raises ``ValueError``.

## Observation Space

``Box(float32, (2 * n_agents + 6,))`` per predator ``i``: its velocity (2), its position (2),
the prey's position relative to it (2), the prey's velocity (2), and every other predator's
position relative to it (``2 * (n_agents - 1)``, in agent order).

``state()``: ``Box(float32, (4 * n_agents + 5,))``: every predator's position and velocity,
the prey's position and velocity, and the elapsed fraction ``t / max_cycles``.

## Rewards

A team reward vector, the same for every predator (float32, ``reward_space(agent)``), one
entry per name in ``objectives`` and in that order:

* ``"capture"``: +10 at the step a predator touches the prey (distance below 0.125), else 0.
* ``"energy"``: ``-0.1 * sum_i ||u_i||^2``: -0.1 per predator that moved.
* ``"time"``: -0.1 per step.

Every objective is higher-is-better.

## Starting State

Predators and prey uniformly in the world, at rest.

## Episode End

Termination when the prey is captured; truncation after ``max_cycles`` steps.

## Arguments

* ``n_agents`` (int, 3): predators, 1 to 64.
* ``world_size`` (float, 1.0): half-width of the square world, 0.5 to 100.
* ``objectives`` (sequence of str, ``("capture", "energy")``): any of ``"capture"``,
  ``"energy"``, ``"time"``, in the order of the reward vector.
* ``max_cycles`` (int, 50): episode length limit.
* ``render_mode`` (None or ``"rgb_array"``).

## Version History

* v0: initial version.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from numba import njit

from gauntlet.envs.mo_coop import physics
from gauntlet.envs.mo_coop.base import Core, MOCoopParallelEnv, build_core

PREDATOR_RADIUS, PREY_RADIUS = 0.075, 0.05
PREDATOR_ACCEL, PREY_ACCEL = 3.0, 4.0
PREDATOR_SPEED, PREY_SPEED = 1.0, 1.3
CAPTURE_REWARD = 10.0
ENERGY_PER_MOVE = 0.1
TIME_PER_STEP = 0.1
PREDATOR_PREY_OBJECTIVES = ("capture", "energy", "time")


class PredatorPreyCore(Core):
    """``batch`` worlds; bodies ``pos``/``vel`` (batch, n + 1, 2): the predators, then the prey."""

    agent_prefix = "predator"
    objectives_allowed = PREDATOR_PREY_OBJECTIVES

    def __init__(self, batch: int, n_agents: int, world_size: float, objectives: tuple[str, ...], max_cycles: int) -> None:
        super().__init__(batch, n_agents, world_size, objectives, max_cycles)
        n, half = n_agents, world_size
        self.pos = np.zeros((batch, n + 1, 2))
        self.vel = np.zeros((batch, n + 1, 2))
        self.radius = np.array([PREDATOR_RADIUS] * n + [PREY_RADIUS])
        self.max_speed = np.array([PREDATOR_SPEED] * n + [PREY_SPEED])
        self.obs_high = np.concatenate(
            [np.full(2, PREDATOR_SPEED), np.full(2, half), np.full(2, 2 * half), np.full(2, PREY_SPEED), np.full(2 * n - 2, 2 * half)]
        ).astype(np.float32)
        self.obs_low = -self.obs_high
        self.state_high = np.concatenate(
            [np.full(2 * n, half), np.full(2 * n, PREDATOR_SPEED), np.full(2, half), np.full(2, PREY_SPEED), [1.0]]
        ).astype(np.float32)
        self.state_low = np.concatenate([-self.state_high[:-1], [0.0]]).astype(np.float32)
        self.reward_low = np.array([0.0, -ENERGY_PER_MOVE * n, -TIME_PER_STEP], dtype=np.float32)
        self.reward_high = np.array([CAPTURE_REWARD, 0.0, 0.0], dtype=np.float32)

    def reset(self, rows: np.ndarray, rngs: Sequence[np.random.Generator]) -> None:
        half = self.half_size
        for row, rng in zip(rows, rngs):
            self.pos[row] = rng.uniform(-half, half, size=(self.n_agents + 1, 2))
        self.vel[rows] = 0.0
        self.t[rows] = 0

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = np.empty((self.batch, 3))
        captured = np.empty(self.batch, dtype=np.bool_)
        _step(self.pos, self.vel, actions, self.radius, self.max_speed, self.half_size, out, captured)
        self.t += 1
        return self.select(out), captured

    def observe(self) -> np.ndarray:
        obs = np.empty((self.batch, self.n_agents, 2 * self.n_agents + 6), dtype=np.float32)
        _observe(self.pos, self.vel, obs)
        return obs

    def state(self) -> np.ndarray:
        n, b = self.n_agents, self.batch
        return np.concatenate(
            [self.pos[:, :n].reshape(b, -1), self.vel[:, :n].reshape(b, -1), self.pos[:, n], self.vel[:, n],
             (self.t / self.max_cycles)[:, None]],
            axis=1,
        ).astype(np.float32)


@njit(cache=True)
def _step(pos, vel, actions, radius, max_speed, half_size, out, captured):
    """Move every world's predators and prey; ``out[b]`` = (capture, energy, time), ``captured[b]``."""
    n = actions.shape[1]
    for b in range(pos.shape[0]):
        force = physics.control_forces(actions[b], PREDATOR_ACCEL, n + 1)
        fx, fy = 0.0, 0.0
        for i in range(n):
            dx, dy = pos[b, n, 0] - pos[b, i, 0], pos[b, n, 1] - pos[b, i, 1]
            sq = max(dx * dx + dy * dy, 1e-6)
            fx, fy = fx + dx / sq, fy + dy / sq
        # walls repel like predators at the nearest wall point (as 1 / distance)
        x, y = pos[b, n, 0], pos[b, n, 1]
        fx += 1.0 / max(half_size + x, 1e-3) - 1.0 / max(half_size - x, 1e-3)
        fy += 1.0 / max(half_size + y, 1e-3) - 1.0 / max(half_size - y, 1e-3)
        norm = max(math.sqrt(fx * fx + fy * fy), 1e-12)
        force[n, 0], force[n, 1] = PREY_ACCEL * fx / norm, PREY_ACCEL * fy / norm
        physics.move_bodies(pos[b], vel[b], force, radius, max_speed, half_size)
        caught, moves = False, 0
        for i in range(n):
            caught |= physics.distance(pos[b, i], pos[b, n]) < PREDATOR_RADIUS + PREY_RADIUS
            moves += actions[b, i] != 0
        captured[b] = caught
        out[b, 0], out[b, 1], out[b, 2] = CAPTURE_REWARD * caught, -ENERGY_PER_MOVE * moves, -TIME_PER_STEP


@njit(cache=True)
def _observe(pos, vel, obs):
    """``obs[b, i]`` = [vel_i, pos_i, prey - pos_i, prey velocity, other predators - pos_i] (float32)."""
    n = obs.shape[1]
    for b in range(pos.shape[0]):
        for i in range(n):
            o = obs[b, i]
            o[0], o[1], o[2], o[3] = vel[b, i, 0], vel[b, i, 1], pos[b, i, 0], pos[b, i, 1]
            o[4], o[5] = pos[b, n, 0] - pos[b, i, 0], pos[b, n, 1] - pos[b, i, 1]
            o[6], o[7] = vel[b, n, 0], vel[b, n, 1]
            k = 8
            for j in range(n):
                if j != i:
                    o[k], o[k + 1] = pos[b, j, 0] - pos[b, i, 0], pos[b, j, 1] - pos[b, i, 1]
                    k += 2


class MOPredatorPreyEnv(MOCoopParallelEnv):
    __doc__ = __doc__

    metadata = {**MOCoopParallelEnv.metadata, "name": "mo_predator_prey_v0"}

    def __init__(
        self,
        n_agents: int = 3,
        world_size: float = 1.0,
        objectives: Sequence[str] = ("capture", "energy"),
        max_cycles: int = 50,
        render_mode: str | None = None,
    ) -> None:
        super().__init__(build_core(PredatorPreyCore, 1, n_agents, world_size, objectives, max_cycles), render_mode)
