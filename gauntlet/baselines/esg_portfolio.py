"""Classical portfolio baselines for ``gauntlet/ESGPortfolio-*``.

Every agent reads the market history *up to the current decision day* from the unwrapped
:class:`~gauntlet.envs.esg_portfolio.env.ESGPortfolioEnv` it was built with (or the one passed to
``on_reset``), picks target weights over the risky assets, and converts them to the env's softmax
action with ``env.weights_to_action`` (so zero weights become the env's tiny floor weight,
``exp(-2 * action_scale)`` times the largest). No agent looks ahead: day ``t``'s decision uses
``returns[.. t]`` only.

- ``EqualWeightAgent``: 1/N, rebalanced daily.
- ``BuyAndHoldAgent``: 1/N on the first day, then holds (targets the drifted weights).
- ``MinVarianceAgent``: long-only minimum variance ``min w' S w`` on a rolling window with
  the Ledoit-Wolf shrunk covariance ``S``, rebalanced every ``rebalance_every`` days and left to
  drift in between (SLSQP).
- ``MaxSharpeAgent``: long-only ``max w' mu / sqrt(w' S w)`` with the same ``S`` and the sample
  mean shrunk towards its cross-sectional average, ``mu = (1 - k) m + k mean(m)``; falls back to
  minimum variance when no asset has a positive expected return.
- ``ESGTiltedAgent``: ``w_i proportional to exp(tilt * z_i)`` with ``z_i`` the z-scored ESG score,
  rebalanced daily; ``tilt=0`` is equal weight.

With the cash asset enabled, all of them keep cash at the floor weight.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import gymnasium as gym
import numpy as np
from scipy.optimize import minimize
from sklearn.covariance import ledoit_wolf

from gauntlet.envs.esg_portfolio.env import ESGPortfolioEnv


class _PortfolioAgent(ABC):
    """SB3-style ``predict`` over an ESGPortfolio env; subclasses give the target risky weights."""

    def __init__(self, env: gym.Env, seed: int = 0) -> None:
        self.seed = seed
        self._env = self._unwrap(env)

    @staticmethod
    def _unwrap(env: gym.Env) -> ESGPortfolioEnv:
        inner = env.unwrapped
        if not isinstance(inner, ESGPortfolioEnv):
            raise TypeError(f"portfolio baselines need an ESGPortfolioEnv, got {type(inner).__name__}")
        return inner

    def on_reset(self, env: gym.Env, observation: Any, info: dict) -> None:
        self._env = self._unwrap(env)

    def predict(self, observation: Any, state: Any = None, episode_start: Any = None,
                deterministic: bool = True) -> tuple[np.ndarray, Any]:
        env = self._env
        risky = self.target(env)
        weights = np.zeros(env.n_weights)
        weights[: env.n_assets] = risky
        return env.weights_to_action(weights), state

    @abstractmethod
    def target(self, env: ESGPortfolioEnv) -> np.ndarray:
        """Target weights of the risky assets for the current decision day."""


class EqualWeightAgent(_PortfolioAgent):
    """1/N over the risky assets, rebalanced every day."""

    def target(self, env: ESGPortfolioEnv) -> np.ndarray:
        return np.full(env.n_assets, 1.0 / env.n_assets)


class BuyAndHoldAgent(_PortfolioAgent):
    """1/N on the first day of the episode, then no trading (the target is the drifted portfolio)."""

    def target(self, env: ESGPortfolioEnv) -> np.ndarray:
        if env.elapsed_steps == 0:
            return np.full(env.n_assets, 1.0 / env.n_assets)
        return env.current_weights[: env.n_assets]


class ESGTiltedAgent(_PortfolioAgent):
    """Equal weight tilted towards high ESG: ``w_i ~ exp(tilt * (ESG_i - mean) / std)``."""

    def __init__(self, env: gym.Env, seed: int = 0, tilt: float = 1.0) -> None:
        super().__init__(env, seed)
        if not np.isfinite(tilt) or tilt < 0:
            raise ValueError(f"tilt={tilt!r} is out of range; expected a finite number >= 0")
        self.tilt = float(tilt)

    def target(self, env: ESGPortfolioEnv) -> np.ndarray:
        scores = env.esg_scores
        std = scores.std()
        z = (scores - scores.mean()) / std if std > 0 else np.zeros_like(scores)
        w = np.exp(self.tilt * z)
        return w / w.sum()


class _RollingOptimizer(_PortfolioAgent):
    """Re-optimizes on the last ``window`` daily returns every ``rebalance_every`` steps, drifts in between."""

    min_history = 30

    def __init__(self, env: gym.Env, seed: int = 0, window: int = 252, rebalance_every: int = 21) -> None:
        super().__init__(env, seed)
        if not isinstance(window, (int, np.integer)) or window < 2:
            raise ValueError(f"window={window!r} is out of range; expected an integer >= 2")
        if not isinstance(rebalance_every, (int, np.integer)) or rebalance_every < 1:
            raise ValueError(f"rebalance_every={rebalance_every!r} is out of range; expected an integer >= 1")
        self.window, self.rebalance_every = int(window), int(rebalance_every)

    def target(self, env: ESGPortfolioEnv) -> np.ndarray:
        if env.elapsed_steps % self.rebalance_every != 0:
            return env.current_weights[: env.n_assets]
        t = env.current_index
        history = env.returns[max(1, t - self.window + 1) : t + 1]
        if len(history) < self.min_history:
            return np.full(env.n_assets, 1.0 / env.n_assets)
        return self.optimize(history)

    @abstractmethod
    def optimize(self, history: np.ndarray) -> np.ndarray:
        """Risky weights from the window of past daily returns (rows = days)."""


def _simplex_minimize(objective, gradient, n: int) -> np.ndarray:
    result = minimize(objective, np.full(n, 1.0 / n), jac=gradient, method="SLSQP", bounds=[(0.0, 1.0)] * n,
                      constraints=({"type": "eq", "fun": lambda w: w.sum() - 1.0},),
                      options={"maxiter": 200, "ftol": 1e-12})
    w = np.clip(result.x, 0.0, None)
    return w / w.sum() if w.sum() > 0 else np.full(n, 1.0 / n)


def min_variance_weights(cov: np.ndarray) -> np.ndarray:
    """Long-only fully invested minimum-variance weights for covariance ``cov``."""
    return _simplex_minimize(lambda w: w @ cov @ w, lambda w: 2.0 * cov @ w, len(cov))


def max_sharpe_weights(mu: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Long-only fully invested maximum-Sharpe weights; minimum variance if no ``mu`` is positive."""
    if mu.max() <= 0:
        return min_variance_weights(cov)

    def negative_sharpe(w: np.ndarray) -> float:
        return -(w @ mu) / np.sqrt(w @ cov @ w)

    def gradient(w: np.ndarray) -> np.ndarray:
        sigma_w = cov @ w
        vol = np.sqrt(w @ sigma_w)
        return -(mu / vol - (w @ mu) * sigma_w / vol**3)

    return _simplex_minimize(negative_sharpe, gradient, len(mu))


class MinVarianceAgent(_RollingOptimizer):
    """Rolling long-only minimum variance with Ledoit-Wolf shrinkage."""

    def optimize(self, history: np.ndarray) -> np.ndarray:
        cov, _ = ledoit_wolf(history)
        return min_variance_weights(cov)


class MaxSharpeAgent(_RollingOptimizer):
    """Rolling long-only maximum Sharpe with Ledoit-Wolf covariance and a shrunk mean."""

    def __init__(self, env: gym.Env, seed: int = 0, window: int = 252, rebalance_every: int = 21,
                 mean_shrinkage: float = 0.5) -> None:
        super().__init__(env, seed, window, rebalance_every)
        if not 0.0 <= mean_shrinkage <= 1.0:
            raise ValueError(f"mean_shrinkage={mean_shrinkage!r} is out of range; expected a number in [0, 1]")
        self.mean_shrinkage = float(mean_shrinkage)

    def optimize(self, history: np.ndarray) -> np.ndarray:
        cov, _ = ledoit_wolf(history)
        m = history.mean(axis=0)
        mu = (1.0 - self.mean_shrinkage) * m + self.mean_shrinkage * m.mean()
        return max_sharpe_weights(mu, cov)
