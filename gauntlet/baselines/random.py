"""Uniform random policy over the valid actions of any Gymnasium env or PettingZoo ParallelEnv."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


class RandomAgent:
    """Samples uniformly from the action space, restricted to the valid actions when the
    env exposes a mask (``action_masks=`` from the runner or ``info["action_mask"]``).

    On a PettingZoo ``ParallelEnv`` (multi-agent tasks) ``predict`` takes the dict of the live
    agents' observations and returns one uniform action per live agent."""

    def __init__(self, env: gym.Env, seed: int = 0) -> None:
        self._agent_spaces: dict[str, gym.Space] | None = None
        if hasattr(env, "possible_agents"):
            self._agent_spaces = {a: env.action_space(a) for a in env.possible_agents}
            for i, space in enumerate(self._agent_spaces.values()):
                space.seed(seed + i)
            return
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
        if self._agent_spaces is not None:
            return {a: self._agent_spaces[a].sample() for a in observation}, state
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
