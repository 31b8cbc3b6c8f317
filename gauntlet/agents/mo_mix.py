"""MO-MIX: one preference-conditioned multi-agent Q-learner for every trade-off of a cooperative task.

Paper: T. Hu, B. Luo, C. Yang, T. Huang, "MO-MIX: Multi-Objective Multi-Agent Cooperative
Decision-Making With Deep Reinforcement Learning", IEEE TPAMI 2023 (arXiv 2603.00730).

Centralized training, decentralized execution. Each agent's network takes its observation, its
one-hot id and the preference ``w`` and outputs a *vector* of action values, one per objective
(``Q_i(o_i, a; w) in R^d``); agents act greedily on ``w . Q_i``. The mixing network has a
parallel architecture: one monotonic QMIX mixer per objective, whose hypernetworks see the
global state and ``w``, turns the agents' chosen values of objective ``k`` into the joint
value of objective ``k``. Every mixer is trained on its own objective's team reward with a
one-step double-Q target (the next joint action maximizes each agent's ``w . Q_i``)::

    y_k   = r_k + gamma (1 - terminated) Qbar_tot,k(s', a'*; w),   a'*_i = argmax_a w . Q_i(o'_i, a; w)
    L     = mean_k (Q_tot,k(s, a; w) - y_k)^2

The *exploration guide* picks each new episode's preference: with probability ``guide_prob``
it finds the sparsest region of the current non-dominated set of recent episode returns (the
point whose nearest neighbour is farthest, objectives scaled by their ranges) and draws ``w``
between the preferences that produced that point and its nearest neighbour, so training
fills the gaps of the front; otherwise ``w`` is uniform on the simplex.

Reproduced: preference-conditioned agent networks, parallel per-objective monotonic mixers
with hypernetworks on state and ``w``, the exploration guide, one model for all preferences.
What differs or is our reading: the agent network is EPyMARL's MLP (observations here are
the agents' full local physical state; the paper's GRU agents are for partial observability);
QMIX's settings are EPyMARL's (``gauntlet.agents.qmix``); the guide's sparsity measure and
interpolation are ours (the paper's code is not public); experience comes from ``n_worlds``
worlds of the native batched env at once.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Callable

import numpy as np

from gauntlet.agents.progress import TrainingProgress
from gauntlet.agents.qmix import EPYMARL_QMIX, MOCoopQAgent, QCore, train_on_worlds, training_worlds
from gauntlet.envs.validation import check_int, check_range


def non_dominated(points: np.ndarray) -> np.ndarray:
    """Mask of the rows no other row dominates (maximization)."""
    geq = (points[:, None, :] >= points[None, :, :]).all(-1)
    gt = (points[:, None, :] > points[None, :, :]).any(-1)
    return ~(geq & gt).any(0)


class ExplorationGuide:
    """MO-MIX's preference sampler: toward the sparsest part of the current non-dominated set."""

    def __init__(self, reward_dim: int, guide_prob: float, archive: int, rng: np.random.Generator) -> None:
        self.reward_dim, self.guide_prob, self.rng = reward_dim, guide_prob, rng
        self.weights: deque[np.ndarray] = deque(maxlen=archive)
        self.returns: deque[np.ndarray] = deque(maxlen=archive)

    def record(self, weights: np.ndarray, returns: np.ndarray) -> None:
        self.weights.extend(weights)
        self.returns.extend(returns)

    def sparse_pair(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The preferences of the most isolated front point and of its nearest neighbour (None below 2 points)."""
        if len(self.returns) < 2:
            return None
        returns, weights = np.array(self.returns), np.array(self.weights)
        front = non_dominated(returns)
        if front.sum() < 2:
            return None
        pts, w = returns[front], weights[front]
        span = np.maximum(pts.max(0) - pts.min(0), 1e-9)
        scaled = pts / span
        dist = np.linalg.norm(scaled[:, None] - scaled[None], axis=-1)
        np.fill_diagonal(dist, np.inf)
        i = int(dist.min(1).argmax())
        return w[i], w[int(dist[i].argmin())]

    def sample(self, k: int) -> np.ndarray:
        out = self.rng.dirichlet(np.ones(self.reward_dim), size=k)
        pair = self.sparse_pair()
        if pair is not None:
            guided = self.rng.random(k) < self.guide_prob
            u = self.rng.random((int(guided.sum()), 1))
            out[guided] = u * pair[0] + (1 - u) * pair[1]
        return out


class MOMIX(MOCoopQAgent):
    """MO-MIX on a MOCoop env (see the module docstring).

    Args:
        env: the task's PettingZoo env (``gauntlet.make_parallel(id)``); training uses ``n_worlds``
            worlds of its batched version with the same arguments.
        seed: seeds torch, exploration and the training worlds.
        n_worlds: worlds stepped at once while collecting experience.
        lr, gamma, batch_episodes, buffer_episodes, epsilon_anneal_steps, target_update_interval:
            QMIX's settings (EPyMARL's defaults).
        guide_prob: probability that an episode's preference comes from the exploration guide.
        guide_archive: recent episodes whose returns form the guide's non-dominated set.
        tensorboard_log: TensorBoard directory (SB3's layout), or None.
    """

    name = "MOMIX"

    def __init__(self, env: Any, seed: int = 0, n_worlds: int = 8, lr: float = 5e-4, gamma: float = 0.99,
                 batch_episodes: int = 32, buffer_episodes: int = 5000, epsilon_anneal_steps: int = 50_000,
                 target_update_interval: int = 200, guide_prob: float = 0.5, guide_archive: int = 500,
                 tensorboard_log: str | None = None) -> None:
        hp = {**EPYMARL_QMIX, "lr": check_range("lr", lr, 0, 1, open_low=True), "gamma": check_range("gamma", gamma, 0, 1),
              "batch_episodes": check_int("batch_episodes", batch_episodes, 1),
              "buffer_episodes": check_int("buffer_episodes", buffer_episodes, 1),
              "epsilon_anneal_steps": check_int("epsilon_anneal_steps", epsilon_anneal_steps, 1),
              "target_update_interval": check_int("target_update_interval", target_update_interval, 1)}
        super().__init__(env, seed, hp, n_worlds, tensorboard_log)
        self.guide_prob = check_range("guide_prob", guide_prob, 0, 1)
        self.guide_archive = check_int("guide_archive", guide_archive, 2)
        self.cores = [self.new_core(q_dim=self.reward_dim, conditioned=True, mixer="qmix")]
        self.guide = ExplorationGuide(self.reward_dim, self.guide_prob, self.guide_archive, self.rng)

    @property
    def core(self) -> QCore:
        return self.cores[0]

    def _core_for(self, weights: np.ndarray) -> QCore:
        return self.core

    def learn(self, total_timesteps: int, callback: Callable[[dict[str, Any]], Any] | None = None,
              progress_bar: bool = False) -> "MOMIX":
        """Train for ``total_timesteps`` joint steps (summed over worlds); ``callback`` gets
        ``{"num_timesteps", "weights", "returns"}`` after every batch of finished episodes."""
        venv = training_worlds(self.env, self.n_worlds)

        def on_episodes(weights: np.ndarray, returns: np.ndarray) -> None:
            self.guide.record(weights, returns)
            if callback is not None:
                callback({"num_timesteps": self.num_timesteps, "weights": weights, "returns": returns})

        with TrainingProgress(progress_bar, total_timesteps, self.name) as progress:
            self.num_timesteps += train_on_worlds(
                self.core, venv, total_timesteps, self.rng, self.guide.sample, seed=self.seed + self.num_timesteps,
                step_offset=self.num_timesteps, progress=progress, log=self._tensorboard, on_episodes=on_episodes)
        return self

    def _extra_state(self) -> dict[str, Any]:
        return {"guide_prob": self.guide_prob, "guide_archive": self.guide_archive}

    @classmethod
    def _from_saved(cls, env: Any, data: dict[str, Any]) -> "MOMIX":
        hp = data["hp"]
        return cls(env, seed=data["seed"], n_worlds=data["n_worlds"], lr=hp["lr"], gamma=hp["gamma"],
                   batch_episodes=hp["batch_episodes"], buffer_episodes=hp["buffer_episodes"],
                   epsilon_anneal_steps=hp["epsilon_anneal_steps"], target_update_interval=hp["target_update_interval"],
                   **data["extra"])
