"""Uniform random policy over the valid actions of any Gymnasium env."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


class RandomAgent:
    """Samples uniformly from the action space, restricted to the valid actions when the
    env exposes a mask (``action_masks=`` from the runner or ``info["action_mask"]``)."""

    def __init__(self, env: gym.Env, seed: int = 0) -> None:
        self.action_space = env.action_space
        self.action_space.seed(seed)
        self._rng = np.random.default_rng(seed)
        self._mask: np.ndarray | None = None

    def on_reset(self, env: gym.Env, observation: Any, info: dict) -> None:
        self._mask = info.get("action_mask")

    def on_step(self, observation: Any, reward: Any, terminated: bool, truncated: bool, info: dict) -> None:
        self._mask = info.get("action_mask")

    def predict(
        self,
        observation: Any,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
        action_masks: np.ndarray | None = None,
    ) -> tuple[Any, Any]:
        mask = action_masks if action_masks is not None else self._mask
        if mask is None:
            return self.action_space.sample(), state
        return self._sample_masked(np.asarray(mask, dtype=bool)), state

    def _sample_masked(self, mask: np.ndarray) -> Any:
        space = self.action_space
        if isinstance(space, gym.spaces.Discrete):
            valid = np.flatnonzero(mask)
            return space.start + int(self._rng.choice(valid))
        if isinstance(space, gym.spaces.MultiDiscrete):
            # sb3-contrib's layout: the per-dimension masks concatenated.
            out = np.empty(space.nvec.shape, dtype=space.dtype)
            offset = 0
            for i, n in enumerate(space.nvec.ravel()):
                valid = np.flatnonzero(mask[offset : offset + n])
                out.flat[i] = int(self._rng.choice(valid))
                offset += n
            return out
        raise TypeError(f"action masks are only supported for Discrete and MultiDiscrete spaces, not {space}")
