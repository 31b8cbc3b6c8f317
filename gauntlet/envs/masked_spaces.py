"""Action spaces whose ``sample()`` draws only the actions that are valid right now.

Envs with masked actions raise on a masked action (never silent corruption), yet tools that
know nothing about masks (Gymnasium's and Stable-Baselines3's env checkers, ``DummyVecEnv``
smoke tests, ``env.action_space.sample()`` in a user's loop) act through ``sample()``. A space
that samples among the currently valid actions lets those tools run unchanged while masked
actions keep raising. Everything else (``contains``, ``n``, equality, batching) is the plain
Gymnasium space: the mask is a property of the current state, not of the action set.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces


class MaskedDiscrete(spaces.Discrete):
    """``Discrete(n)`` with a current mask: ``sample()`` without ``mask``/``probability``
    draws uniformly among the allowed actions (Gymnasium's own masked sampling, from the
    space's generator), with them it behaves exactly like ``Discrete.sample``.

    The env owning the space sets :attr:`mask` whenever its valid actions change (for
    example at every reset); until then every action is allowed.
    """

    def __init__(self, n: int, seed: int | np.random.Generator | None = None, start: int = 0) -> None:
        super().__init__(n, seed=seed, start=start)
        self._mask = np.ones(self.n, dtype=np.int8)

    @property
    def mask(self) -> np.ndarray:
        """The allowed actions as a boolean array of shape ``(n,)`` (a copy)."""
        return self._mask.astype(bool)

    @mask.setter
    def mask(self, allowed: Any) -> None:
        allowed = np.asarray(allowed)
        if allowed.shape != (self.n,):
            raise ValueError(f"mask must have shape ({self.n},), got {allowed.shape}")
        if not allowed.any():
            raise ValueError("mask must allow at least one action, got none")
        self._mask = allowed.astype(np.int8)

    def sample(self, mask: np.ndarray | None = None, probability: np.ndarray | None = None) -> np.int64:
        if mask is None and probability is None:
            return super().sample(mask=self._mask)
        return super().sample(mask=mask, probability=probability)

    def __repr__(self) -> str:
        return f"MaskedDiscrete({self.n}, allowed={np.flatnonzero(self._mask).tolist()})"
