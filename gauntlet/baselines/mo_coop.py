"""MOCoop baselines: outer-loop QMIX (one QMIX per preference of the task's weight set),
independent scalarized Q-learning (one preference-conditioned network, no mixer), hand-written
preference-aware controllers (navigation: head for your own landmark; predator-prey: chase)
and a uniform random joint policy.

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


def _move_towards(gap: np.ndarray) -> np.ndarray:
    """Discrete(5) moves along the larger component of each row of ``gap`` (n, 2)."""
    axis = np.abs(gap).argmax(1)
    sign = np.take_along_axis(gap, axis[:, None], 1)[:, 0] > 0
    return np.where(axis == 0, np.where(sign, 2, 1), np.where(sign, 4, 3))


class _Controller:
    """A fixed rule reading each agent's observation and the preference from the reset info."""

    def __init__(self, env: Any, seed: int = 0) -> None:
        self.env = check_parallel_env(env, type(self).__name__)
        self.objectives = list(self.env.objectives)
        self.weights = np.full(len(self.objectives), 1.0 / len(self.objectives))

    def on_reset(self, env: Any, observation: Any, info: dict) -> None:
        first = next(iter(info.values()), {}) if info else {}
        if "weights" in first:
            self.weights = np.asarray(first["weights"], dtype=np.float64)

    def share(self, objective: str, against: str) -> float:
        """``w_objective / (w_objective + w_against)`` (0.5 when both weights are 0 or absent)."""
        w = dict(zip(self.objectives, self.weights))
        a, b = w.get(objective, 0.0), w.get(against, 0.0)
        return 0.5 if a + b <= 0 else a / (a + b)


class LandmarkGreedyAgent(_Controller):
    """Navigation: agent ``i`` heads for landmark ``i`` along the axis of its larger gap, aiming
    at where it would coast to a stop (0.3 x its velocity ahead: damping 0.25, dt 0.1), and holds
    still within ``0.05 + 2 * s`` of it, where ``s = w_energy / (w_coverage + w_energy)``: the
    more energy weighs, the earlier it stops."""

    def predict(self, observation: dict[str, np.ndarray], state: Any = None, episode_start: Any = None,
                deterministic: bool = True) -> tuple[dict[str, int], Any]:
        agents = list(observation)
        index = np.array([self.env.possible_agents.index(a) for a in agents])
        obs = np.stack([observation[a] for a in agents])
        gap = obs[np.arange(len(agents))[:, None], 4 + 2 * index[:, None] + np.arange(2)] - 0.3 * obs[:, :2]
        tolerance = 0.05 + 2.0 * self.share("energy", "coverage")
        moves = np.where(np.abs(gap).max(1) > tolerance, _move_towards(gap), 0)
        return {a: int(m) for a, m in zip(agents, moves)}, state


class ChaseAgent(_Controller):
    """Predator-prey: the first ``ceil(n * s)`` predators run at the prey along the axis of its
    larger gap and the others stay still, where ``s = w_capture / (w_capture + w_energy)``."""

    def predict(self, observation: dict[str, np.ndarray], state: Any = None, episode_start: Any = None,
                deterministic: bool = True) -> tuple[dict[str, int], Any]:
        agents = list(observation)
        chasers = int(np.ceil(len(self.env.possible_agents) * self.share("capture", "energy")))
        moves = _move_towards(np.stack([observation[a][4:6] for a in agents]))
        return {a: int(m) if self.env.possible_agents.index(a) < chasers else 0 for a, m in zip(agents, moves)}, state
