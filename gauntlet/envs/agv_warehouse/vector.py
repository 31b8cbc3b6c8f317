"""Native batched AGVWarehouse: ``num_envs`` AGVs (each in its own warehouse) stepped in one
kernel call.

Same dynamics, observations, rewards and episode ends as
:class:`~gauntlet.envs.agv_warehouse.env.AGVWarehouseEnv` -- both drive the shared
:class:`~gauntlet.envs.agv_warehouse.geometry.WarehouseBatch` -- and the same seeding as
``gymnasium.vector.SyncVectorEnv``: ``reset(seed=s)`` seeds copy ``i`` with ``s + i``, and a
finished copy is reset on the next ``step`` (``AutoresetMode.NEXT_STEP``: that step returns the
reset observation with reward 0 and both flags ``False``), so the two match step for step.
Copies that reset together sample their episodes together; only the random draws loop over
copies in Python, the geometry runs in the numba kernels of :mod:`~gauntlet.envs.agv_warehouse.kernels`
for all of them at once.

Build it with ``gym.make_vec("gauntlet/AGVWarehouse-v1", num_envs=N,
vectorization_mode="vector_entry_point")``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from gauntlet.envs.agv_warehouse import geometry as geo
from gauntlet.envs.agv_warehouse.env import check_actions, episode_start, spaces, validate_kwargs
from gauntlet.envs.vector_seeding import per_copy_seeds, reset_rows, seed_generators


class AGVWarehouseVectorEnv(VectorEnv):
    """``num_envs`` independent AGV warehouses; keyword arguments as ``AGVWarehouseEnv``."""

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        num_envs: int = 1,
        scene: str = "simple-static",
        layout: str | None = None,
        layout_seed: int | None = None,
        n_beams: int = 24,
        lidar_range: float = 5.0,
        reward: str = "sparse",
        step_cost: float = 0.0,
        progress_coef: float = 1.0,
        max_steps: int = 1000,
        min_goal_distance: float = 2.0,
        render_mode: str | None = None,
    ) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs={num_envs!r} must be an integer >= 1")
        if render_mode is not None:
            raise ValueError(f"render_mode={render_mode!r}: the batched env does not render; use AGVWarehouseEnv")
        self.fixed_layout = validate_kwargs(
            scene, layout, layout_seed, n_beams, lidar_range, reward, step_cost, progress_coef, max_steps,
            min_goal_distance,
        )
        self.num_envs = int(num_envs)
        self.scene = scene
        self.reward_mode = reward
        self.step_cost = float(step_cost)
        self.progress_coef = float(progress_coef)
        self.max_steps = int(max_steps)
        self.min_goal_distance = float(min_goal_distance)
        self.render_mode = None
        self.single_action_space, self.single_observation_space = spaces(int(n_beams))
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.sim = geo.WarehouseBatch(self.num_envs, int(n_beams), float(lidar_range))
        self._rngs: list[np.random.Generator | None] = [None] * self.num_envs
        self._autoreset = np.zeros(self.num_envs, dtype=bool)
        self._started = False

    def _new_episodes(self, copies: np.ndarray, options: dict | None = None) -> None:
        if not len(copies):
            return
        rngs = [self._rngs[i] for i in copies]
        if options:
            episodes = geo.sample_episodes(rngs, self.scene, self.fixed_layout, self.min_goal_distance)
            for i, episode in zip(copies.tolist(), episodes):
                self.sim.load(i, episode_start(options, episode.layout, episode))
        else:
            batch = geo.sample_episode_batch(rngs, self.scene, self.fixed_layout, self.min_goal_distance)
            self.sim.load_batch(copies, batch)

    def _info(self, collided: np.ndarray, reached: np.ndarray) -> dict[str, Any]:
        every = np.ones(self.num_envs, dtype=bool)
        info = {
            "is_success": reached,
            "collision": collided,
            "distance_to_goal": self.sim.goal_distance.copy(),
            "path_length": self.sim.path_length.copy(),
            "steps": self.sim.steps.copy(),
            "position": self.sim.pose[:, :2].copy(),
        }
        info.update({f"_{k}": every for k in list(info)})
        return info

    def reset(self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None):
        seeds = per_copy_seeds(seed, self.num_envs)
        copies, options = reset_rows(options, self.num_envs)
        if copies is None:
            copies = np.arange(self.num_envs)
        seed_generators(self._rngs, copies, seeds)
        self._new_episodes(copies, options)
        self._autoreset[copies] = False
        self._started = True
        none = np.zeros(self.num_envs, dtype=bool)
        return self.sim.observe(), self._info(none, none.copy())

    def step(self, actions: Any):
        if not self._started:
            raise RuntimeError("step() called before reset()")
        a = check_actions(actions, self.num_envs)
        self.sim.step(a, self.reward_mode == "dense", self.step_cost, self.progress_coef)
        collided, reached = self.sim.flags.copy()
        rewards = self.sim.values[1].copy()
        terminated = collided | reached
        truncated = ~terminated & (self.sim.steps >= self.max_steps)
        restart = np.flatnonzero(self._autoreset)
        self._new_episodes(restart)
        rewards[restart] = 0.0
        for flags in (terminated, truncated, collided, reached):
            flags[restart] = False
        self._autoreset = terminated | truncated
        return self.sim.observe(), rewards, terminated, truncated, self._info(collided, reached)
