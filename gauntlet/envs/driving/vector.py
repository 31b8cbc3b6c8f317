"""Batched driving: ``num_envs`` copies of the single env in one :class:`gymnasium.vector.VectorEnv`.

Registered as the ``vector_entry_point`` of every Driving id, so
``gym.make_vec("gauntlet/mo-Driving-v0", num_envs=8)`` returns float32 reward vectors of shape
``(num_envs, 3)`` (what MO-Gymnasium's ``MOSyncVectorEnv`` returns; Gymnasium's
``SyncVectorEnv`` cannot hold vector rewards) and the scalar ids return ``w . r`` of shape
``(num_envs,)``. The copies are stepped one after the other (each step is the single env's
compiled kernels: traffic, collision, observation); there is no cross-copy array op.

Seeding and autoreset follow ``SyncVectorEnv``: ``reset(seed=s)`` seeds copy ``i`` with
``s + i``; a copy whose episode ended is reset on the *next* ``step`` call, where its action
is ignored and its reward is zero (``AutoresetMode.NEXT_STEP``). ``infos`` holds every key of
the copies' infos with its ``_key`` mask, as Gymnasium does. ``action_masks()`` says that every
action is always valid (the hook sb3-contrib's maskable algorithms and the suite's tools read).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from gauntlet.envs.driving.env import DrivingEnv, MODrivingEnv
from gauntlet.envs.validation import check_int
from gauntlet.envs.vector_seeding import per_copy_seeds


class MODrivingVectorEnv(VectorEnv):
    """``num_envs`` copies of :class:`~gauntlet.envs.driving.env.MODrivingEnv` (same keyword
    arguments); rewards are the float32 vectors, shape ``(num_envs, 3)``."""

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": ["rgb_array"]}
    env_class: type[MODrivingEnv] = MODrivingEnv

    def __init__(self, num_envs: int = 1, **kwargs: Any) -> None:
        self.num_envs = check_int("num_envs", num_envs, 1)
        self.envs = [self.env_class(**kwargs) for _ in range(self.num_envs)]
        first = self.envs[0]
        self.render_mode = first.render_mode
        self.reward_dim, self.reward_space, self.preorder = first.reward_dim, first.reward_space, first.preorder
        self.single_observation_space = first.observation_space
        self.single_action_space = first.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._autoreset = np.zeros(self.num_envs, dtype=bool)
        self._started = False

    def reset(self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None):
        infos: dict[str, Any] = {}
        obs = []
        for i, (env, s) in enumerate(zip(self.envs, per_copy_seeds(seed, self.num_envs))):
            o, info = env.reset(seed=s, options=options)
            obs.append(o)
            infos = self._add_info(infos, info, i)
        self._autoreset[:] = False
        self._started = True
        return np.stack(obs), infos

    def step(self, actions: Any):
        if not self._started:
            raise RuntimeError("call reset() before step()")
        actions = np.asarray(actions)
        if actions.shape[:1] != (self.num_envs,):
            raise ValueError(f"actions must have {self.num_envs} rows (one per copy), got shape {actions.shape}")
        obs, infos = [], {}
        rewards = np.zeros((self.num_envs, self.reward_dim), dtype=np.float32)
        terminated = np.zeros(self.num_envs, dtype=bool)
        truncated = np.zeros(self.num_envs, dtype=bool)
        for i, env in enumerate(self.envs):
            if self._autoreset[i]:
                o, info = env.reset()
            else:
                o, _, terminated[i], truncated[i], info = env.step(actions[i])
                rewards[i] = info["reward_vector"]
            obs.append(o)
            infos = self._add_info(infos, info, i)
        self._autoreset = terminated | truncated
        return np.stack(obs), self._reward(rewards), terminated, truncated, infos

    def action_masks(self) -> np.ndarray:
        n = getattr(self.single_action_space, "n", None)
        if n is None:
            raise AttributeError("action_masks() exists for discrete action types only")
        return np.ones((self.num_envs, int(n)), dtype=bool)

    def render(self) -> tuple[np.ndarray, ...] | None:
        if self.render_mode != "rgb_array":
            return None
        return tuple(env.render() for env in self.envs)

    def close_extras(self, **kwargs: Any) -> None:
        for env in self.envs:
            env.close()

    def _reward(self, vectors: np.ndarray) -> np.ndarray:
        return vectors


class DrivingVectorEnv(MODrivingVectorEnv):
    """``num_envs`` copies of :class:`~gauntlet.envs.driving.env.DrivingEnv`: rewards ``w . r``
    (float64, shape ``(num_envs,)``), the vectors in ``infos["reward_vector"]``."""

    env_class = DrivingEnv

    def _reward(self, vectors: np.ndarray) -> np.ndarray:
        weights = np.stack([env.weights for env in self.envs])
        return (weights * vectors.astype(np.float64)).sum(axis=1)
