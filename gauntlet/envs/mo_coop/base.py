"""The PettingZoo ``ParallelEnv`` shared by the MOCoop tasks, around a batched world core.

A task is a *core*: the arrays of ``B`` worlds (positions, velocities, ...) and the
vectorized reset, step, observation and state of all of them at once. The single env below
runs a core of one world and the native vector env (:mod:`gauntlet.envs.mo_coop.vector`) a
core of many, so the two agree bit for bit. This module holds what both tasks share: the
agents' dict interface, action checks, objective selection, seeding and rendering.
"""

from __future__ import annotations

import operator
from typing import Any, Mapping, Sequence

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from pettingzoo import ParallelEnv

from gauntlet.envs.validation import check_choice, check_int, check_range

N_ACTIONS = 5


def check_objectives(objectives: Sequence[str], allowed: Sequence[str]) -> tuple[str, ...]:
    """A non-empty sequence of distinct objective names, each one of ``allowed``."""
    if isinstance(objectives, str) or not isinstance(objectives, Sequence) or len(objectives) == 0:
        raise ValueError(f"objectives={objectives!r} is not a non-empty sequence of names; allowed names: {', '.join(allowed)}")
    for name in objectives:
        check_choice("objectives", name, allowed)
    if len(set(objectives)) != len(objectives):
        raise ValueError(f"objectives={objectives!r} names an objective twice; allowed names: {', '.join(allowed)}")
    return tuple(objectives)


class Core:
    """The batched state of ``batch`` worlds of one task (subclasses fill in the physics).

    After ``reset(rows, rngs)`` and each ``step(actions)``, ``observe()`` returns the
    (batch, n_agents, obs_dim) float32 observations and ``state()`` the (batch, state_dim)
    float32 global states. ``step`` returns the (batch, reward_dim) team rewards (float64)
    and which worlds terminated; ``t`` counts each world's steps since its reset."""

    agent_prefix = "agent"
    objectives_allowed: tuple[str, ...] = ()

    def __init__(self, batch: int, n_agents: int, world_size: float, objectives: tuple[str, ...], max_cycles: int) -> None:
        self.batch, self.n_agents, self.half_size, self.max_cycles = batch, n_agents, world_size, max_cycles
        self.objectives = objectives
        self.columns = np.array([self.objectives_allowed.index(o) for o in objectives])
        self.t = np.zeros(batch, dtype=np.int64)

    # Subclasses set obs_low/obs_high (obs_dim,), state_low/state_high, reward_low/reward_high
    # over objectives_allowed, and implement the methods below.
    def reset(self, rows: np.ndarray, rngs: Sequence[np.random.Generator]) -> None:
        raise NotImplementedError

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def observe(self) -> np.ndarray:
        raise NotImplementedError

    def state(self) -> np.ndarray:
        raise NotImplementedError

    def select(self, all_objectives: np.ndarray) -> np.ndarray:
        """The task's objectives (columns) out of every objective the core computes."""
        return all_objectives[:, self.columns]


def build_core(core_cls: type[Core], batch: int, n_agents: int, world_size: float, objectives: Sequence[str],
               max_cycles: int) -> Core:
    """A core of ``batch`` worlds after checking the task's arguments (shared by the single and vector envs)."""
    return core_cls(
        check_int("num_worlds", batch, 1),
        check_int("n_agents", n_agents, 1, 64),
        check_range("world_size", world_size, 0.5, 100.0, unit="half-width of the square world"),
        check_objectives(objectives, core_cls.objectives_allowed),
        check_int("max_cycles", max_cycles, 1),
    )


class MOCoopParallelEnv(ParallelEnv):
    """Dict-per-agent interface over a core of one world (see the task modules' docstrings)."""

    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "is_parallelizable": True, "render_fps": 10}

    def __init__(self, core: Core, render_mode: str | None) -> None:
        if render_mode is not None:
            check_choice("render_mode", render_mode, self.metadata["render_modes"])
        self.core, self.max_cycles, self.render_mode = core, core.max_cycles, render_mode
        self.possible_agents = [f"{core.agent_prefix}_{i}" for i in range(core.n_agents)]
        self.agents: list[str] = []
        self._index = {a: i for i, a in enumerate(self.possible_agents)}
        self.objectives = core.objectives
        self.reward_dim = len(core.objectives)
        obs_space = spaces.Box(core.obs_low, core.obs_high, dtype=np.float32)
        self.observation_spaces = {a: obs_space for a in self.possible_agents}
        self.action_spaces = {a: spaces.Discrete(N_ACTIONS) for a in self.possible_agents}
        reward_space = spaces.Box(core.reward_low[core.columns], core.reward_high[core.columns], dtype=np.float32)
        self.reward_spaces = {a: reward_space for a in self.possible_agents}
        self.state_space = spaces.Box(core.state_low, core.state_high, dtype=np.float32)
        self.np_random, self.np_random_seed = seeding.np_random()
        self.last_reward: np.ndarray | None = None
        self._actions = np.zeros((1, core.n_agents), dtype=np.int64)

    def observation_space(self, agent: str) -> spaces.Box:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Discrete:
        return self.action_spaces[agent]

    def reward_space(self, agent: str) -> spaces.Box:
        """MOMAland's vector reward space: one float32 entry per objective, the team's reward."""
        return self.reward_spaces[agent]

    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        if seed is not None:
            self.np_random, self.np_random_seed = seeding.np_random(seed)
        self.core.max_cycles = self.max_cycles  # a user (or parallel_api_test) may have changed it
        info: dict[str, Any] = {}
        if options is not None and "weights" in options:
            info["weights"] = self._check_weights(options["weights"])
        self.core.reset(np.zeros(1, dtype=np.int64), [self.np_random])
        self.agents = list(self.possible_agents)
        self.last_reward = None
        obs = self.core.observe()[0]
        return {a: obs[i] for i, a in enumerate(self.agents)}, {a: dict(info) for a in self.agents}

    def _check_weights(self, weights: Any) -> np.ndarray:
        """A preference for preference-conditioned policies: the env's dynamics ignore it, every
        agent's reset info carries it (``info["weights"]``), as the runner passes it."""
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (self.reward_dim,) or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError(f"options['weights']={weights!r} is invalid; allowed: {self.reward_dim} finite "
                             f"non-negative numbers, one per objective {list(self.objectives)}")
        return w

    def step(self, actions: Mapping[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        self._read_actions(actions)
        reward, terminated = self.core.step(self._actions)
        vec = reward[0].astype(np.float32)
        self.last_reward = vec
        obs = self.core.observe()[0]
        term = bool(terminated[0])
        trunc = not term and int(self.core.t[0]) >= self.max_cycles
        agents = self.agents
        out = (
            {a: obs[i] for i, a in enumerate(agents)},
            {a: vec.copy() for a in agents},
            dict.fromkeys(agents, term),
            dict.fromkeys(agents, trunc),
            {a: {} for a in agents},
        )
        if term or trunc:
            self.agents = []
        return out

    def _read_actions(self, actions: Mapping[str, Any]) -> None:
        if not self.agents:
            raise ValueError("step() was called on an ended episode (no live agents); call reset() first")
        if not isinstance(actions, Mapping):
            raise ValueError(f"actions must be a dict {{agent: action}} over agents {self.agents}, got {type(actions).__name__}")
        if len(actions) != len(self.agents) or any(a not in self._index for a in actions):
            missing = [a for a in self.agents if a not in actions]
            unknown = [a for a in actions if a not in self._index]
            raise ValueError(f"actions has keys {sorted(map(str, actions))}: missing {missing}, unknown {unknown}; "
                             f"allowed: exactly one action per live agent {self.agents}")
        row = self._actions[0]
        for agent, value in actions.items():
            try:
                a = operator.index(value)
            except TypeError:
                raise ValueError(f"actions[{agent!r}]={value!r} is not an integer; allowed: integers in [0, {N_ACTIONS - 1}]") from None
            if not 0 <= a < N_ACTIONS:
                raise ValueError(f"actions[{agent!r}]={a} is out of range; allowed: integers in [0, {N_ACTIONS - 1}]")
            row[self._index[agent]] = a

    def state(self) -> np.ndarray:
        """The global state for centralized training (see the task's docstring), float32."""
        return self.core.state()[0]

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            return None
        from gauntlet.envs.mo_coop.render import draw

        return draw(self.core, 0, self.last_reward, type(self).__name__)

    def close(self) -> None:
        pass
