"""Baselines for MECOffloading (``gauntlet/mo-MECOffloading-v0``, ``gauntlet/MECOffloading-v0``).

* ``all-cloud``: offload every task to the cloud (action 0).
* ``nearest-edge``: the present edge with the fastest uplink for the current user
  (the cloud when there is no edge).
* ``greedy-min-delay`` / ``greedy-min-energy``: the server with the smallest one-step
  delay / energy estimate, i.e. exactly the quantity the env charges (read from
  ``env.unwrapped.server_estimates()``; ties broken by the other objective).
* ``greedy-scalarized``: the server maximizing ``w . r_hat`` of the one-step estimate for
  the current preference ``w`` (``info["weights"]``).
* ``least-loaded``: the server with the fewest executing tasks per GHz.
* ``linucb``: LinUCB (Li et al. 2010) with one ridge model per preference, shared across
  servers, on per-server features read from the observation (upload time, solo execution
  time, a histogram estimate of the processor-sharing slowdown, execution energy, 1); its
  reward is ``w . r``. ``learn`` cycles through an evenly spaced grid of preferences;
  during evaluation it keeps learning online through ``on_step``; unseen preferences start
  from the nearest trained one.

The greedy baselines read the env's one-step estimates, so they need ``on_reset`` (the
runner calls it) or the env given at construction to be the one being stepped.
"""

from __future__ import annotations

import abc
import pickle
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from gauntlet.envs.mec_offloading.env import ALPHA_E, ALPHA_T, ETA, KAPPA, N_SERVER_FEATURES


class _MECBaseline(abc.ABC):
    """Tracks the env, the preference and the mask through the runner's hooks."""

    def __init__(self, env: gym.Env, seed: int = 0) -> None:
        self.env = env
        self.seed = seed
        core = env.unwrapped.core
        self.n_servers = core.n_servers
        self.row_features = core.row_features
        self.hist_bin_mbit = core.hist_bin_bits / 1e6
        self.weights = np.array(getattr(env.unwrapped, "weights", (0.5, 0.5)), dtype=np.float64)
        self._mask: np.ndarray | None = None

    def on_reset(self, env: gym.Env, observation: Any, info: dict) -> None:
        self.env = env
        self._mask = info.get("action_mask")
        if "weights" in info:
            self.weights = np.asarray(info["weights"], dtype=np.float64)

    def on_step(self, observation: Any, reward: Any, terminated: bool, truncated: bool, info: dict) -> None:
        self._mask = info.get("action_mask")

    def predict(self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = True,
                action_masks: np.ndarray | None = None) -> tuple[int, Any]:
        rows = self.rows(observation)
        mask = np.asarray(action_masks, dtype=bool) if action_masks is not None else rows[:, 2] >= 0
        return int(self.choose(rows, mask)), state

    def rows(self, observation: Any) -> np.ndarray:
        obs = np.asarray(observation, dtype=np.float64).ravel()
        return obs[: self.n_servers * self.row_features].reshape(self.n_servers, self.row_features)

    @abc.abstractmethod
    def choose(self, rows: np.ndarray, mask: np.ndarray) -> int:
        """The server for the current task given the per-server observation rows."""

    @staticmethod
    def _argmin(score: np.ndarray, mask: np.ndarray, tiebreak: np.ndarray | None = None) -> int:
        score = np.where(mask, score, np.inf)
        if tiebreak is None:
            return int(np.argmin(score))
        return int(np.lexsort((np.where(mask, tiebreak, np.inf), score))[0])


class AllCloudAgent(_MECBaseline):
    def choose(self, rows: np.ndarray, mask: np.ndarray) -> int:
        return 0


class NearestEdgeAgent(_MECBaseline):
    def choose(self, rows: np.ndarray, mask: np.ndarray) -> int:
        edges = mask.copy()
        edges[0] = False
        if not edges.any():
            return 0
        return int(np.argmax(np.where(edges, rows[:, 1], -np.inf)))


class LeastLoadedAgent(_MECBaseline):
    def choose(self, rows: np.ndarray, mask: np.ndarray) -> int:
        return self._argmin(rows[:, 3] / np.maximum(rows[:, 2], 1e-9), mask, -rows[:, 2])


class _EstimateAgent(_MECBaseline):
    def estimates(self) -> tuple[np.ndarray, np.ndarray]:
        return self.env.unwrapped.server_estimates()


class GreedyMinDelayAgent(_EstimateAgent):
    def choose(self, rows: np.ndarray, mask: np.ndarray) -> int:
        delay, energy = self.estimates()
        return self._argmin(delay, mask, energy)


class GreedyMinEnergyAgent(_EstimateAgent):
    def choose(self, rows: np.ndarray, mask: np.ndarray) -> int:
        delay, energy = self.estimates()
        return self._argmin(energy, mask, delay)


class GreedyScalarizedAgent(_EstimateAgent):
    def choose(self, rows: np.ndarray, mask: np.ndarray) -> int:
        delay, energy = self.estimates()
        ok = mask & np.isfinite(delay)
        cost = self.weights[0] * ALPHA_T * np.where(ok, delay, 0.0) + self.weights[1] * ALPHA_E * np.where(ok, energy, 0.0)
        return self._argmin(cost, ok)


class LinUCBAgent(_MECBaseline):
    """LinUCB per preference; see the module docstring. ``alpha`` scales the confidence
    bonus, ``ridge`` the prior precision, ``n_grid`` the preferences trained by ``learn``."""

    n_features = 5

    def __init__(self, env: gym.Env, seed: int = 0, alpha: float = 1.0, ridge: float = 1.0, n_grid: int = 11) -> None:
        super().__init__(env, seed)
        if not alpha >= 0:
            raise ValueError(f"alpha must be >= 0, got {alpha!r}")
        if not ridge > 0:
            raise ValueError(f"ridge must be > 0, got {ridge!r}")
        if not (isinstance(n_grid, int) and n_grid >= 1):
            raise ValueError(f"n_grid must be an integer >= 1, got {n_grid!r}")
        self.alpha = float(alpha)
        self.ridge = float(ridge)
        self.n_grid = n_grid
        self.models: dict[tuple[float, ...], tuple[np.ndarray, np.ndarray]] = {}
        self.num_timesteps = 0
        """Steps taken by ``learn`` (as SB3 counts them); the online updates while evaluated are not counted."""
        self._last: np.ndarray | None = None
        self._rng = np.random.default_rng(seed)

    # -------------------------------------------------------------- features / model
    def features(self, rows: np.ndarray) -> np.ndarray:
        """Per-server features (servers, 5): upload time (s), solo execution time (s),
        histogram estimate of the processor-sharing interaction (s), execution energy (J), 1."""
        size = np.maximum(rows[:, 0], 0.0)
        rate = np.maximum(10.0 ** rows[:, 1] - 1.0, 1e-9)
        freq = np.maximum(rows[:, 2], 1e-9)
        hist = np.maximum(rows[:, N_SERVER_FEATURES:], 0.0)
        centers = (np.arange(hist.shape[1]) + 0.5) * self.hist_bin_mbit
        shared = (hist * np.minimum(centers[None, :], size[:, None])).sum(axis=1)
        return np.stack([size / rate, size / freq * ETA / 1e3, shared / freq * ETA / 1e3,
                         KAPPA * ETA * (freq * 1e9) ** 2 * size * 1e6, np.ones_like(size)], axis=1)

    def _key(self) -> tuple[float, ...]:
        return tuple(np.round(self.weights, 3).tolist())

    def _model(self) -> tuple[np.ndarray, np.ndarray]:
        key = self._key()
        if key not in self.models:
            if self.models:
                nearest = min(self.models, key=lambda k: float(np.abs(np.subtract(k, key)).sum()))
                a, b = self.models[nearest]
                self.models[key] = (a.copy(), b.copy())
            else:
                self.models[key] = (self.ridge * np.eye(self.n_features), np.zeros(self.n_features))
        return self.models[key]

    def choose(self, rows: np.ndarray, mask: np.ndarray) -> int:
        x = self.features(rows)
        a_mat, b = self._model()
        a_inv = np.linalg.inv(a_mat)
        theta = a_inv @ b
        bonus = self.alpha * np.sqrt(np.einsum("ij,jk,ik->i", x, a_inv, x))
        score = np.where(mask, x @ theta + bonus, -np.inf)
        choice = int(np.argmax(score))
        self._last = x[choice] if rows[0, 0] > 0 else None
        return choice

    def on_step(self, observation: Any, reward: Any, terminated: bool, truncated: bool, info: dict) -> None:
        super().on_step(observation, reward, terminated, truncated, info)
        if self._last is None or "reward_vector" not in info:
            return
        r = float(self.weights @ np.asarray(info["reward_vector"], dtype=np.float64))
        a_mat, b = self._model()
        a_mat += np.outer(self._last, self._last)
        b += r * self._last
        self._last = None

    # -------------------------------------------------------------- SB3-shaped API
    def learn(self, total_timesteps: int, callback: Any = None, progress_bar: bool = False) -> "LinUCBAgent":
        grid = np.linspace(0.0, 1.0, self.n_grid)
        weights = np.stack([grid, 1.0 - grid], axis=1) if self.n_grid > 1 else np.array([[0.5, 0.5]])
        steps, episode = 0, 0
        env = self.env
        while steps < total_timesteps:
            w = weights[episode % len(weights)]
            obs, info = env.reset(seed=self.seed + episode, options={"weights": w})
            self.on_reset(env, obs, info)
            done = False
            while not done and steps < total_timesteps:
                action, _ = self.predict(obs, action_masks=info["action_mask"])
                obs, reward, terminated, truncated, info = env.step(action)
                self.on_step(obs, reward, terminated, truncated, info)
                done = terminated or truncated
                steps += 1
            episode += 1
        self.num_timesteps += steps
        return self

    def save(self, path: str | Path) -> None:
        state = {"alpha": self.alpha, "ridge": self.ridge, "n_grid": self.n_grid, "seed": self.seed, "models": self.models,
                 "num_timesteps": self.num_timesteps}
        with open(path, "wb") as f:
            pickle.dump(state, f)

    @classmethod
    def load(cls, path: str | Path, env: gym.Env | None = None) -> "LinUCBAgent":
        if env is None:
            raise ValueError("LinUCBAgent.load needs env= (the observation layout comes from the env)")
        with open(path, "rb") as f:
            state = pickle.load(f)
        agent = cls(env, seed=state["seed"], alpha=state["alpha"], ridge=state["ridge"], n_grid=state["n_grid"])
        agent.models = state["models"]
        agent.num_timesteps = state["num_timesteps"]
        return agent
