"""MOCoop baselines: outer-loop QMIX (one QMIX per preference of the task's weight set),
independent scalarized Q-learning (one preference-conditioned network, no mixer) and a
uniform random joint policy.

The learners share QMIX's core (:mod:`gauntlet.agents.qmix`, EPyMARL's settings) with MO-MIX,
so the comparison isolates what MO-MIX adds: vector values with per-objective mixers, one model
conditioned on ``w`` and the exploration guide.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from gauntlet.agents.progress import TrainingProgress
from gauntlet.agents.qmix import (EPYMARL_QMIX, MOCoopQAgent, QCore, check_parallel_env, train_on_worlds, training_worlds,
                                  uniform_simplex)
from gauntlet.envs.validation import check_int


def _hp(**overrides: int | float) -> dict[str, Any]:
    return {**EPYMARL_QMIX, **{k: check_int(k, v, 1) for k, v in overrides.items()}}


class OuterLoopQMIX(MOCoopQAgent):
    """One QMIX per preference ``w`` of ``weights`` (the task's weight set), each trained on the
    scalar team reward ``w . r`` for an equal share of ``learn``'s steps; ``predict`` acts with
    the QMIX whose ``w`` is nearest the current preference. Settings: EPyMARL's QMIX."""

    name = "OuterLoopQMIX"

    def __init__(self, env: Any, seed: int = 0, weights: Sequence[Sequence[float]] = ((1.0, 0.0), (0.5, 0.5), (0.0, 1.0)),
                 n_worlds: int = 8, batch_episodes: int = 32, buffer_episodes: int = 5000,
                 epsilon_anneal_steps: int = 50_000, tensorboard_log: str | None = None) -> None:
        super().__init__(env, seed, _hp(batch_episodes=batch_episodes, buffer_episodes=buffer_episodes,
                                         epsilon_anneal_steps=epsilon_anneal_steps), n_worlds, tensorboard_log)
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim != 2 or w.shape[1] != self.reward_dim or len(w) == 0 or (w < 0).any():
            raise ValueError(f"weights={weights!r} is invalid; allowed: a non-empty list of non-negative "
                             f"{self.reward_dim}-vectors, one per QMIX")
        self.weight_set = w
        self.cores = [self.new_core(q_dim=1, conditioned=False, mixer="qmix") for _ in w]

    def _core_for(self, weights: np.ndarray) -> QCore:
        return self.cores[int(np.linalg.norm(self.weight_set - weights, axis=1).argmin())]

    def learn(self, total_timesteps: int, callback: Callable[[dict[str, Any]], Any] | None = None,
              progress_bar: bool = False) -> "OuterLoopQMIX":
        """Train QMIX ``k`` on preference ``k`` for ``total_timesteps / len(weights)`` joint steps each."""
        share = int(total_timesteps) // len(self.cores)
        with TrainingProgress(progress_bar, total_timesteps, self.name) as progress:
            for k, (core, w) in enumerate(zip(self.cores, self.weight_set)):
                venv = training_worlds(self.env, self.n_worlds)
                self.num_timesteps += train_on_worlds(
                    core, venv, share, self.rng, lambda n, w=w: np.tile(w, (n, 1)), seed=self.seed + 1000 * k,
                    progress=progress, log=self._tensorboard if k == 0 else None)
                if callback is not None:
                    callback({"num_timesteps": self.num_timesteps, "member": k})
        return self

    def _extra_state(self) -> dict[str, Any]:
        return {"weights": self.weight_set.tolist()}

    @classmethod
    def _from_saved(cls, env: Any, data: dict[str, Any]) -> "OuterLoopQMIX":
        hp = data["hp"]
        return cls(env, seed=data["seed"], weights=data["extra"]["weights"], n_worlds=data["n_worlds"],
                   batch_episodes=hp["batch_episodes"], buffer_episodes=hp["buffer_episodes"],
                   epsilon_anneal_steps=hp["epsilon_anneal_steps"])


class IQLScalarized(MOCoopQAgent):
    """Independent Q-learning on the scalar team reward ``w . r``: one network shared by the
    agents, conditioned on ``w`` (drawn uniformly from the simplex per episode), no mixer, so
    every agent regresses the team's return on its own value. Settings: EPyMARL's QMIX without
    the mixer."""

    name = "IQLScalarized"

    def __init__(self, env: Any, seed: int = 0, n_worlds: int = 8, batch_episodes: int = 32, buffer_episodes: int = 5000,
                 epsilon_anneal_steps: int = 50_000, tensorboard_log: str | None = None) -> None:
        super().__init__(env, seed, _hp(batch_episodes=batch_episodes, buffer_episodes=buffer_episodes,
                                         epsilon_anneal_steps=epsilon_anneal_steps), n_worlds, tensorboard_log)
        self.cores = [self.new_core(q_dim=1, conditioned=True, mixer=None)]

    def _core_for(self, weights: np.ndarray) -> QCore:
        return self.cores[0]

    def learn(self, total_timesteps: int, callback: Callable[[dict[str, Any]], Any] | None = None,
              progress_bar: bool = False) -> "IQLScalarized":
        venv = training_worlds(self.env, self.n_worlds)
        with TrainingProgress(progress_bar, total_timesteps, self.name) as progress:
            self.num_timesteps += train_on_worlds(
                self.cores[0], venv, int(total_timesteps), self.rng, uniform_simplex(self.rng, self.reward_dim),
                seed=self.seed + self.num_timesteps, step_offset=self.num_timesteps, progress=progress, log=self._tensorboard)
        if callback is not None:
            callback({"num_timesteps": self.num_timesteps})
        return self

    @classmethod
    def _from_saved(cls, env: Any, data: dict[str, Any]) -> "IQLScalarized":
        hp = data["hp"]
        return cls(env, seed=data["seed"], n_worlds=data["n_worlds"], batch_episodes=hp["batch_episodes"],
                   buffer_episodes=hp["buffer_episodes"], epsilon_anneal_steps=hp["epsilon_anneal_steps"])


class RandomJointAgent:
    """Every live agent picks one of the 5 moves uniformly at random."""

    def __init__(self, env: Any, seed: int = 0) -> None:
        self.env = check_parallel_env(env, "RandomJointAgent")
        self._rng = np.random.default_rng(seed)

    def predict(self, observation: dict[str, Any], state: Any = None, episode_start: Any = None,
                deterministic: bool = True) -> tuple[dict[str, int], Any]:
        return {agent: int(self._rng.integers(5)) for agent in observation}, state
