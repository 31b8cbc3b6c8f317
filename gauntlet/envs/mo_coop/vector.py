"""Native batched MOCoop envs: ``num_worlds`` worlds stepped in the same array operations.

PettingZoo has no vector API, so this one is array-first, the layout centralized MARL
trainers use: observations ``(num_worlds, n_agents, obs_dim)``, actions
``(num_worlds, n_agents)`` integers, team rewards ``(num_worlds, reward_dim)`` float32,
``terminated``/``truncated`` ``(num_worlds,)`` and ``state()`` ``(num_worlds, state_dim)``.
A world whose episode ended is reset within the same ``step`` (Gymnasium's same-step
autoreset); its last observation and state are in ``infos["final_obs"]`` and
``infos["final_state"]`` (rows where ``infos["_final"]`` is true).

World ``i`` reset with ``seed + i`` follows the single env reset with ``seed + i`` bit for
bit (each world draws from its own generator, seeded as Gymnasium's SyncVectorEnv seeds its
copies), because both run the same core.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding

from gauntlet.envs.mo_coop.base import N_ACTIONS, Core, build_core
from gauntlet.envs.mo_coop.navigation import NavigationCore
from gauntlet.envs.mo_coop.predator_prey import PredatorPreyCore
from gauntlet.envs.vector_seeding import per_copy_seeds


class MOCoopVectorEnv:
    """``num_worlds`` copies of a MOCoop task (see the module docstring)."""

    def __init__(self, core: Core) -> None:
        self.core, self.num_worlds, self.max_cycles = core, core.batch, core.max_cycles
        self.n_agents, self.objectives, self.reward_dim = core.n_agents, core.objectives, len(core.objectives)
        self.possible_agents = [f"{core.agent_prefix}_{i}" for i in range(core.n_agents)]
        self.single_observation_space = spaces.Box(core.obs_low, core.obs_high, dtype=np.float32)
        self.single_action_space = spaces.Discrete(N_ACTIONS)
        self.single_state_space = spaces.Box(core.state_low, core.state_high, dtype=np.float32)
        self.reward_space = spaces.Box(core.reward_low[core.columns], core.reward_high[core.columns], dtype=np.float32)
        self._rngs = [seeding.np_random()[0] for _ in range(self.num_worlds)]
        self._all = np.arange(self.num_worlds)

    def reset(self, seed: int | Sequence[int | None] | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        for i, s in enumerate(per_copy_seeds(seed, self.num_worlds)):
            if s is not None:
                self._rngs[i] = seeding.np_random(s)[0]
        self.core.reset(self._all, self._rngs)
        return self.core.observe(), {}

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        a = np.asarray(actions)
        if a.shape != (self.num_worlds, self.n_agents) or not np.issubdtype(a.dtype, np.integer):
            raise ValueError(f"actions has shape {a.shape} and dtype {a.dtype}; allowed: integers of shape "
                             f"(num_worlds, n_agents) = ({self.num_worlds}, {self.n_agents})")
        if a.size and (a.min() < 0 or a.max() >= N_ACTIONS):
            raise ValueError(f"actions hold values in [{a.min()}, {a.max()}]; allowed: integers in [0, {N_ACTIONS - 1}]")
        reward, terminated = self.core.step(a.astype(np.int64, copy=False))
        truncated = ~terminated & (self.core.t >= self.max_cycles)
        obs, infos = self.core.observe(), {}
        done = np.flatnonzero(terminated | truncated)
        if done.size:
            infos = {"final_obs": obs.copy(), "final_state": self.core.state(), "_final": terminated | truncated}
            self.core.reset(done, [self._rngs[i] for i in done])
            obs = self.core.observe()
        return obs, reward.astype(np.float32), terminated, truncated, infos

    def state(self) -> np.ndarray:
        return self.core.state()

    def close(self) -> None:
        pass


class MOCoopNavigationVectorEnv(MOCoopVectorEnv):
    """``num_worlds`` :class:`~gauntlet.envs.mo_coop.navigation.MOCoopNavigationEnv` worlds; same arguments."""

    def __init__(self, num_worlds: int = 1024, n_agents: int = 3, world_size: float = 1.0,
                 objectives: Sequence[str] = ("coverage", "energy"), max_cycles: int = 25) -> None:
        super().__init__(build_core(NavigationCore, num_worlds, n_agents, world_size, objectives, max_cycles))


class MOPredatorPreyVectorEnv(MOCoopVectorEnv):
    """``num_worlds`` :class:`~gauntlet.envs.mo_coop.predator_prey.MOPredatorPreyEnv` worlds; same arguments."""

    def __init__(self, num_worlds: int = 1024, n_agents: int = 3, world_size: float = 1.0,
                 objectives: Sequence[str] = ("capture", "energy"), max_cycles: int = 50) -> None:
        super().__init__(build_core(PredatorPreyCore, num_worlds, n_agents, world_size, objectives, max_cycles))
