"""Optimistic Feasible Search (OFS) for closed-loop fair threshold selection.

Reproduces the reference agent of "Optimistic Feasible Search for Closed-Loop Fair Threshold
Decision-Making" (arXiv 2512.22313) on ``gauntlet/FairThreshold-*``: a bandit over a grid
of thresholds that keeps an upper confidence bound (UCB) on each threshold's reward and
lower confidence bounds (LCB) on each of its constraint residuals; each round it plays,
among the thresholds whose residual LCBs are all <= 0 ("optimistically feasible"), the one
with the highest reward UCB, and if none looks feasible, the one minimizing the optimistic
violation ``sum_j max(LCB_j, 0)``.

What differs from the paper (whose exact algorithm constants are not public):

- Confidence radius ``confidence * sigma_hat * sqrt(2 log t / N_k)`` with ``sigma_hat`` the
  standard deviation of the signal pooled over all thresholds (the batch noise is similar
  at every threshold), floored at ``min_std``; unplayed thresholds have infinite radius, so
  every threshold is tried once, in a random order drawn from the agent's seed.
- The closed loop makes the per-threshold means drift while the population adapts; OFS
  treats each threshold as a stationary arm (under a fixed threshold the env's contraction
  settles the means within a few ``1 / eta`` rounds) and does not discount old samples.
- Until two samples exist at some threshold, the pooled standard deviation is taken as
  ``10 * min_std``.

:class:`ThresholdBandit` holds what every grid bandit on this task shares (statistics, the
SB3-shaped API, the runner hooks); the baselines in :mod:`gauntlet.baselines.fair_threshold`
subclass it and replace only :meth:`ThresholdBandit.select`.
"""

from __future__ import annotations

import json
import math
import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Callable, Mapping

import gymnasium as gym
import numpy as np

from gauntlet.agents.progress import TrainingProgress
from gauntlet.agents.tensorboard import ScalarLog


def cost_vector(cost: Any) -> np.ndarray:
    """``info["cost"]`` (a dict of residuals, a float or a sequence) as a float vector."""
    if isinstance(cost, Mapping):
        return np.fromiter(cost.values(), dtype=np.float64, count=len(cost))
    return np.atleast_1d(np.asarray(cost, dtype=np.float64))


class ThresholdBandit(ABC):
    """A bandit over the env's threshold grid with SB3's ``predict``/``learn``/``save``/``load``.

    Learning is online: ``predict`` chooses a threshold (the choice includes exploration;
    ``deterministic`` is ignored because the exploration *is* the learning), and
    ``update(reward, cost)`` credits it. The runner calls ``update`` through ``on_step``
    after every env step; statistics persist across episodes.

    Args:
        env: a FairThreshold env (Discrete grid, or the continuous Box variant, in which case
            the agent plays the grid ``linspace(0, 1, n_grid)``).
        seed: drives tie-breaking and any exploration randomness.
        confidence: scale of the confidence radius.
        min_std: floor on the pooled noise standard deviation.
        n_grid: grid size for continuous action spaces.
        tensorboard_log: directory for TensorBoard scalars written by ``learn`` (None = off).
        log_interval: rounds between TensorBoard writes.
    """

    def __init__(
        self,
        env: gym.Env,
        seed: int = 0,
        confidence: float = 1.0,
        min_std: float = 0.01,
        n_grid: int = 51,
        tensorboard_log: str | None = None,
        log_interval: int = 100,
    ) -> None:
        if not math.isfinite(confidence) or confidence < 0:
            raise ValueError(f"confidence={confidence!r} is out of range; allowed: [0, inf)")
        if not math.isfinite(min_std) or min_std <= 0:
            raise ValueError(f"min_std={min_std!r} is out of range; allowed: (0, inf)")
        space = env.action_space
        self.continuous = isinstance(space, gym.spaces.Box)
        if self.continuous:
            if space.shape != (1,):
                raise ValueError(f"expected a Box action space of shape (1,), got {space}")
            if n_grid < 2:
                raise ValueError(f"n_grid={n_grid!r} is out of range; allowed: integers >= 2")
            self.thresholds = np.linspace(0.0, 1.0, int(n_grid))
        elif isinstance(space, gym.spaces.Discrete):
            self.thresholds = np.asarray(getattr(env.unwrapped, "thresholds", np.linspace(0.0, 1.0, space.n)))
        else:
            raise ValueError(f"{type(self).__name__} needs a Discrete or Box(1,) action space, got {space}")
        self.env = env
        self.seed = int(seed)
        self.confidence = float(confidence)
        self.min_std = float(min_std)
        self.n_grid = int(n_grid)
        self.tensorboard_log = tensorboard_log
        self.log_interval = int(log_interval)
        self.n_constraints = len(getattr(env.unwrapped, "constraint_names", ("dp",)))
        self.rng = np.random.default_rng(self.seed)
        k, j = len(self.thresholds), self.n_constraints
        self.counts = np.zeros(k)
        self.reward_sum = np.zeros(k)
        self.reward_sq = np.zeros(k)
        self.cost_sum = np.zeros((k, j))
        self.cost_sq = np.zeros((k, j))
        self.t = 0
        self.num_timesteps = 0
        """Rounds played by ``learn`` (``t`` also counts the rounds credited during evaluation)."""
        self.last_arm: int | None = None
        self._tensorboard = ScalarLog(tensorboard_log, type(self).__name__)

    # ----------------------------------------------------------- statistics
    def _pooled_std(self, total: np.ndarray, squares: np.ndarray) -> np.ndarray:
        played = self.counts > 0
        dof = self.counts.sum() - played.sum()
        if dof < 1:
            return np.full(total.shape[1:], self.min_std * 10)
        n = self.counts[played].reshape((-1,) + (1,) * (total.ndim - 1))
        within = (squares[played] - total[played] ** 2 / n).sum(axis=0)
        return np.maximum(np.sqrt(np.maximum(within, 0.0) / dof), self.min_std)

    def bounds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(reward mean, reward UCB, residual means (K, J), residual LCBs (K, J));
        unplayed thresholds have mean NaN, UCB +inf and LCB -inf."""
        n = self.counts
        played = n > 0
        safe = np.maximum(n, 1)
        log_t = math.log(max(self.t, 2))
        width = np.where(played, self.confidence * np.sqrt(2.0 * log_t / safe), np.inf)
        reward_mean = np.where(played, self.reward_sum / safe, np.nan)
        cost_mean = np.where(played[:, None], self.cost_sum / safe[:, None], np.nan)
        reward_ucb = np.where(played, reward_mean + width * self._pooled_std(self.reward_sum[:, None], self.reward_sq[:, None])[0], np.inf)
        cost_lcb = np.where(played[:, None], cost_mean - width[:, None] * self._pooled_std(self.cost_sum, self.cost_sq), -np.inf)
        return reward_mean, reward_ucb, cost_mean, cost_lcb

    def _argmax(self, scores: np.ndarray, candidates: np.ndarray | None = None) -> int:
        """Index of the largest score among ``candidates`` (all when None); ties broken at random."""
        if candidates is not None:
            scores = np.where(candidates, scores, -np.inf)
        best = np.flatnonzero(scores == scores.max())
        return int(best[0] if len(best) == 1 else self.rng.choice(best))

    @abstractmethod
    def select(self) -> int:
        """The arm (index into ``thresholds``) to play this round."""

    # ----------------------------------------------------------- online API
    def predict(
        self,
        observation: Any,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
    ) -> tuple[Any, Any]:
        self.last_arm = self.select()
        return self._action(self.last_arm), state

    def _action(self, arm: int) -> Any:
        if self.continuous:
            return np.array([self.thresholds[arm]], dtype=np.float32)
        return np.int64(arm)

    def update(self, reward: float, cost: Any) -> None:
        """Credit the last predicted threshold with its revealed reward and residuals."""
        if self.last_arm is None:
            raise RuntimeError("update() called before predict(): no threshold to credit")
        c = cost_vector(cost)
        if c.shape != (self.n_constraints,):
            raise ValueError(f"cost has {c.size} residuals, expected {self.n_constraints}")
        k = self.last_arm
        self.counts[k] += 1
        self.reward_sum[k] += reward
        self.reward_sq[k] += reward * reward
        self.cost_sum[k] += c
        self.cost_sq[k] += c * c
        self.t += 1
        self.last_arm = None

    def on_reset(self, env: gym.Env, observation: Any, info: dict) -> None:
        self.last_arm = None

    def on_step(self, observation: Any, reward: Any, terminated: bool, truncated: bool, info: dict) -> None:
        self.update(float(reward), info["cost"])

    def learn(self, total_timesteps: int, callback: Callable[[dict, dict], bool] | None = None,
              progress_bar: bool = False) -> "ThresholdBandit":
        """Interact with ``self.env`` online for ``total_timesteps`` rounds (episodes seeded
        ``seed, seed + 1, ...``). ``callback(locals(), globals())`` is called every round, as
        SB3 calls function callbacks; returning False stops learning."""
        env = self.env
        with TrainingProgress(progress_bar, total_timesteps, type(self).__name__) as progress:
            episode, done = 0, True
            total_reward, total_violation = 0.0, 0.0
            for step in range(int(total_timesteps)):
                if done:
                    obs, info = env.reset(seed=self.seed + episode)
                    self.on_reset(env, obs, info)
                    episode += 1
                action, _ = self.predict(obs)
                obs, reward, terminated, truncated, info = env.step(action)
                self.on_step(obs, reward, terminated, truncated, info)
                done = terminated or truncated
                self.num_timesteps += 1
                total_reward += float(reward)
                total_violation += float(np.maximum(cost_vector(info["cost"]), 0.0).sum())
                if self._tensorboard.enabled and (step + 1) % self.log_interval == 0:
                    self._tensorboard.write({
                        "rollout/cumulative_reward": total_reward, "rollout/cumulative_violation": total_violation,
                        "bandit/most_played_threshold": float(self.thresholds[int(np.argmax(self.counts))]),
                    }, self.num_timesteps)
                progress.update(step + 1)
                if callback is not None and callback(locals(), globals()) is False:
                    break
        return self

    # ----------------------------------------------------------- persistence
    def _hyperparameters(self) -> dict[str, Any]:
        return {"confidence": self.confidence, "min_std": self.min_std, "n_grid": self.n_grid,
                "log_interval": self.log_interval}

    def _state(self) -> dict[str, Any]:
        return {"counts": self.counts, "reward_sum": self.reward_sum, "reward_sq": self.reward_sq,
                "cost_sum": self.cost_sum, "cost_sq": self.cost_sq, "t": self.t, "num_timesteps": self.num_timesteps,
                "rng": self.rng.bit_generator.state}

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write hyperparameters and bandit statistics as JSON."""
        state = {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in self._state().items()}
        payload = {"class": type(self).__name__, "seed": self.seed, "hyperparameters": self._hyperparameters(), "state": state}
        Path(path).write_text(json.dumps(payload))

    @classmethod
    def load(cls, path: str | os.PathLike[str], env: gym.Env | None = None) -> "ThresholdBandit":
        """Rebuild a saved agent; ``env`` gives the threshold grid and the constraints."""
        if env is None:
            raise ValueError(f"{cls.__name__}.load needs env= (the threshold grid and constraints come from the env)")
        payload = json.loads(Path(path).read_text())
        if payload["class"] != cls.__name__:
            raise ValueError(f"{path} holds a {payload['class']}, not a {cls.__name__}")
        agent = cls(env, seed=payload["seed"], **payload["hyperparameters"])
        for key, value in payload["state"].items():
            if key == "rng":
                agent.rng.bit_generator.state = value
            elif isinstance(getattr(agent, key), np.ndarray):
                stored = np.asarray(value, dtype=np.float64)
                if stored.shape != getattr(agent, key).shape:
                    raise ValueError(f"{path}: {key} has shape {stored.shape}, the env needs {getattr(agent, key).shape}")
                setattr(agent, key, stored)
            else:
                setattr(agent, key, value)
        return agent


class OFS(ThresholdBandit):
    """Optimistic Feasible Search (see the module docstring)."""

    def select(self) -> int:
        _, reward_ucb, _, cost_lcb = self.bounds()
        feasible = (cost_lcb <= 0.0).all(axis=1)
        if feasible.any():
            return self._argmax(reward_ucb, feasible)
        return self._argmax(-np.maximum(cost_lcb, 0.0).sum(axis=1))
