"""Baselines for ``gauntlet/FairThreshold-*``: grid bandits that differ from OFS only in
how they pick a threshold, and the oracle best feasible fixed threshold.

All share :class:`gauntlet.agents.ofs.ThresholdBandit` (statistics, confidence radius,
SB3-shaped ``predict``/``learn``/``save``/``load``, the runner's ``on_reset``/``on_step``
hooks and ``update(reward, cost)``), so the comparison with OFS isolates the selection rule.

- :class:`UCBAgent`: UCB1-style on reward, ignores the constraints.
- :class:`PrimalDualAgent`: Lagrangian bandit, ``argmax_k UCB_r(k) - lambda . LCB_c(k)``
  with projected dual ascent ``lambda <- max(0, lambda + dual_lr * c_t)`` on the revealed
  residuals ``c_t``.
- :class:`EpsilonGreedyAgent`: with probability ``epsilon`` a uniform threshold, otherwise
  ``argmax_k mean_r(k) - penalty * sum_j max(mean_c_j(k), 0)``.
- :class:`OracleThresholdAgent`: the fixed threshold with the highest mean expected reward
  among those feasible in steady state, found by rolling every grid threshold out on a
  copy of the env (built from ``env.unwrapped.config``) for ``rollout_rounds`` rounds.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import gymnasium as gym
import numpy as np

from gauntlet.agents.ofs import ThresholdBandit, cost_vector


class UCBAgent(ThresholdBandit):
    """Unconstrained UCB on reward: ``argmax_k UCB_r(k)``."""

    def select(self) -> int:
        return self._argmax(self.bounds()[1])


class PrimalDualAgent(ThresholdBandit):
    """Primal-dual bandit: optimistic Lagrangian with projected dual ascent (see the module docstring).

    Args:
        dual_lr: step size of the dual ascent on the residuals.
        **kwargs: passed to :class:`ThresholdBandit`.
    """

    def __init__(self, env: gym.Env, seed: int = 0, dual_lr: float = 0.05, **kwargs: Any) -> None:
        if not math.isfinite(dual_lr) or dual_lr < 0:
            raise ValueError(f"dual_lr={dual_lr!r} is out of range; allowed: [0, inf)")
        super().__init__(env, seed=seed, **kwargs)
        self.dual_lr = float(dual_lr)
        self.multipliers = np.zeros(self.n_constraints)

    def select(self) -> int:
        _, reward_ucb, _, cost_lcb = self.bounds()
        # Unplayed arms have UCB +inf; zeroing their -inf LCB avoids inf * 0 = nan when lambda = 0.
        penalty = np.where(np.isfinite(cost_lcb), cost_lcb, 0.0) @ self.multipliers
        return self._argmax(reward_ucb - penalty)

    def update(self, reward: float, cost: Any) -> None:
        super().update(reward, cost)
        self.multipliers = np.maximum(self.multipliers + self.dual_lr * cost_vector(cost), 0.0)

    def _hyperparameters(self) -> dict[str, Any]:
        return {**super()._hyperparameters(), "dual_lr": self.dual_lr}

    def _state(self) -> dict[str, Any]:
        return {**super()._state(), "multipliers": self.multipliers}


class EpsilonGreedyAgent(ThresholdBandit):
    """Epsilon-greedy on the penalized empirical reward (see the module docstring).

    Args:
        epsilon: exploration probability in [0, 1].
        penalty: weight of the positive part of the mean residuals (>= 0).
        **kwargs: passed to :class:`ThresholdBandit`.
    """

    def __init__(self, env: gym.Env, seed: int = 0, epsilon: float = 0.05, penalty: float = 1.0, **kwargs: Any) -> None:
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon={epsilon!r} is out of range; allowed: [0, 1]")
        if not math.isfinite(penalty) or penalty < 0:
            raise ValueError(f"penalty={penalty!r} is out of range; allowed: [0, inf)")
        super().__init__(env, seed=seed, **kwargs)
        self.epsilon = float(epsilon)
        self.penalty = float(penalty)

    def select(self) -> int:
        unplayed = self.counts == 0
        if unplayed.any():
            return int(self.rng.choice(np.flatnonzero(unplayed)))
        if self.rng.random() < self.epsilon:
            return int(self.rng.integers(len(self.thresholds)))
        reward_mean, _, cost_mean, _ = self.bounds()
        return self._argmax(reward_mean - self.penalty * np.maximum(cost_mean, 0.0).sum(axis=1))

    def _hyperparameters(self) -> dict[str, Any]:
        return {**super()._hyperparameters(), "epsilon": self.epsilon, "penalty": self.penalty}


_SWEEPS: dict[tuple, tuple[int, np.ndarray, np.ndarray]] = {}


def sweep_fixed_thresholds(env: gym.Env, thresholds: np.ndarray, rounds: int, seed: int = 0
                           ) -> tuple[np.ndarray, np.ndarray]:
    """Roll every threshold of ``thresholds`` out for ``rounds`` rounds on a fresh copy of ``env``
    (same configuration, ``reset(seed=seed)``). Returns the mean ``info["expected_reward"]``
    per threshold and the steady-state violation: the mean over the second half of the
    rollout of ``sum_j max(info["expected_cost"][j], 0)``."""
    base = env.unwrapped
    rollout_env = type(base)(**{**base.config, "horizon": rounds})
    continuous = isinstance(rollout_env.action_space, gym.spaces.Box)
    mean_reward = np.empty(len(thresholds))
    violation = np.empty(len(thresholds))
    for k, tau in enumerate(thresholds):
        action: Any = np.array([tau], dtype=np.float32) if continuous else k
        rollout_env.reset(seed=seed)
        rewards = np.empty(rounds)
        excess = np.empty(rounds)
        for t in range(rounds):
            info = rollout_env.step(action)[4]
            rewards[t] = info["expected_reward"]
            excess[t] = sum(max(v, 0.0) for v in info["expected_cost"].values())
        mean_reward[k] = rewards.mean()
        violation[k] = excess[rounds // 2 :].mean()
    return mean_reward, violation


class OracleThresholdAgent(ThresholdBandit):
    """The best feasible fixed threshold (see the module docstring).

    It is computed on first use from the env given at construction and again whenever
    ``on_reset`` sees an env with a different configuration; sweeps are cached per
    configuration (so ten seeds of one task sweep once). If no threshold is feasible in
    steady state, the one with the smallest steady-state violation is played.

    Args:
        rollout_rounds: rounds per rollout (None = the env's horizon).
        tolerance: steady-state violation regarded as feasible.
        **kwargs: passed to :class:`ThresholdBandit`.
    """

    def __init__(self, env: gym.Env, seed: int = 0, rollout_rounds: int | None = None, tolerance: float = 1e-9,
                 **kwargs: Any) -> None:
        if rollout_rounds is not None and rollout_rounds < 2:
            raise ValueError(f"rollout_rounds={rollout_rounds!r} is out of range; allowed: integers >= 2 or None")
        if not hasattr(env.unwrapped, "config"):
            raise ValueError("OracleThresholdAgent needs a FairThreshold env (it rebuilds it from env.unwrapped.config)")
        super().__init__(env, seed=seed, **kwargs)
        self.rollout_rounds = rollout_rounds
        self.tolerance = float(tolerance)
        self.arm: int | None = None
        self.sweep_reward: np.ndarray | None = None
        self.sweep_violation: np.ndarray | None = None
        self._config: dict[str, Any] | None = None

    def fit(self, env: gym.Env) -> int:
        """Sweep the grid on ``env``'s configuration (cached) and fix the best feasible threshold."""
        config = env.unwrapped.config
        rounds = self.rollout_rounds or config["horizon"]
        key = (type(env.unwrapped).__name__, tuple(sorted(config.items())), rounds, tuple(self.thresholds), self.tolerance)
        if key not in _SWEEPS:
            reward, violation = sweep_fixed_thresholds(env, self.thresholds, rounds)
            feasible = violation <= self.tolerance
            arm = int(np.argmax(np.where(feasible, reward, -np.inf))) if feasible.any() else int(np.argmin(violation))
            _SWEEPS[key] = (arm, reward, violation)
        self.arm, self.sweep_reward, self.sweep_violation = _SWEEPS[key]
        self._config = config
        return self.arm

    @property
    def threshold(self) -> float:
        """The fixed threshold (sweeping first if needed)."""
        return float(self.thresholds[self.select()])

    def select(self) -> int:
        if self.arm is None:
            self.fit(self.env)
        return self.arm

    def on_reset(self, env: gym.Env, observation: Any, info: dict) -> None:
        super().on_reset(env, observation, info)
        if env.unwrapped.config != self._config:
            self.fit(env)

    def learn(self, total_timesteps: int, callback: Callable[[dict, dict], bool] | None = None,
              progress_bar: bool = False) -> "OracleThresholdAgent":
        """The oracle does not learn online: this only runs the sweep on ``self.env``."""
        self.fit(self.env)
        return self

    def _hyperparameters(self) -> dict[str, Any]:
        return {**super()._hyperparameters(), "rollout_rounds": self.rollout_rounds, "tolerance": self.tolerance}
