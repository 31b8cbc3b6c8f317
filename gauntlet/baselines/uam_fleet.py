"""Baselines for UAMFleet (``gauntlet/UAMFleet-v0``, ``gauntlet/UAMFleet-Small-v0``).

* ``random-feasible``: uniform over the allowed destinations (staying included).
* ``greedy``: the allowed destination ``j`` maximizing ``min(waiting_ij, seats) * fare_ij``
  (the revenue of the flight); stay when no allowed destination has a passenger waiting.
* ``ga``: a genetic algorithm planning the whole day on the realized scenario (the paper's
  "GA" comparison; clairvoyant: it sees the day's passengers, delays, downtimes and closures
  through a copy of the env at reset, so it is a strong reference, not a deployable policy).
  See :class:`GeneticAgent` for the encoding and operators.
* ``maskable-ppo-mlp``: sb3-contrib's MaskablePPO with SB3's MultiInputPolicy.

Every agent here reports ``decision_latency_ms`` through ``episode_report()``: its wall time
per decision over the day, planning included (the GA plans at ``on_reset``).
"""

from __future__ import annotations

import copy
import time
from typing import Any

import gymnasium as gym
import numpy as np

from gauntlet.agents.decision_timer import DecisionTimer
from gauntlet.agents.hyperparameters import check_hyperparameters, hyperparameter_names
from gauntlet.agents.sb3 import BudgetMaskablePPO
from gauntlet.baselines.random import RandomAgent
from gauntlet.envs.uam_fleet.env import UAMFleetEnv


def greedy_action(env: UAMFleetEnv) -> int:
    """The greedy choice of ``env``'s deciding aircraft (see the module docstring)."""
    mask = env.action_masks()
    home = int(env.loc[env.deciding])
    mask[home] = False
    revenue = np.minimum(env.waiting_matrix()[home], env.seats) * env.current_fares()[home]
    revenue[~mask] = 0.0
    best = int(np.argmax(revenue))
    return best if revenue[best] > 0 else home


class RandomFeasibleAgent(DecisionTimer, RandomAgent):
    """Uniform over the allowed destinations (the mask the runner passes or ``info["action_mask"]``)."""

    def on_reset(self, env: gym.Env, observation: Any, info: dict) -> None:
        super().on_reset(env, observation, info)
        self._start_episode()

    def predict(self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = True,
                action_masks: np.ndarray | None = None) -> tuple[Any, Any]:
        start = time.perf_counter()
        action, state = super().predict(observation, state, episode_start, deterministic, action_masks)
        self._add(time.perf_counter() - start, 1)
        return int(action), state


class GreedyAgent(DecisionTimer):
    """Serve the largest waiting demand x fare within range (reads the unwrapped env given at
    construction, or the one ``on_reset`` receives)."""

    def __init__(self, env: gym.Env, seed: int = 0) -> None:
        self.env: UAMFleetEnv = env.unwrapped
        self._start_episode()

    def on_reset(self, env: gym.Env, observation: Any, info: dict) -> None:
        self.env = env.unwrapped
        self._start_episode()

    def predict(self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = True,
                action_masks: np.ndarray | None = None) -> tuple[int, Any]:
        start = time.perf_counter()
        action = greedy_action(self.env)
        self._add(time.perf_counter() - start, 1)
        return action, state


class GeneticAgent(DecisionTimer):
    """A genetic algorithm over the day's dispatch decisions, on the realized scenario.

    Encoding: an individual is an int matrix ``genes`` of shape (aircraft, ``max_decisions``);
    gene ``g = genes[a, k]`` is aircraft ``a``'s ``k``-th decision of the day. ``g < V`` names a
    destination (its own vertiport: stay); ``g = V`` means "the greedy choice". A gene whose
    destination is masked when the decision comes falls back to the greedy choice, so every
    individual decodes into a feasible day. Fitness is the day's profit, simulated on a copy of
    the env taken at reset (``env.decide``: the realized scenario, deterministic given the
    actions). Operators: the all-greedy individual plus random ones (each gene greedy with
    probability ``greedy_rate``, else a uniform destination) start; elitism keeps the best
    ``elite``; parents by tournaments of 3; uniform crossover of whole aircraft rows (an
    aircraft keeps a consistent plan); each gene mutates with probability ``mutation_rate``.
    After the last generation the best individual is replayed step by step by ``predict``; the
    replay equals its simulation, so the day's profit is the plan's fitness. The all-greedy
    start and elitism make the GA at least as good as ``greedy`` on every day.
    """

    def __init__(self, env: gym.Env, seed: int = 0, population: int = 16, generations: int = 15,
                 elite: int = 2, mutation_rate: float = 0.05, greedy_rate: float = 0.7,
                 max_decisions: int = 64) -> None:
        if population < 2 or not 1 <= elite < population:
            raise ValueError(f"population={population!r}, elite={elite!r} are invalid; allowed: population >= 2 "
                             "and 1 <= elite < population")
        if generations < 0:
            raise ValueError(f"generations={generations!r} is out of range; allowed: integers >= 0")
        for name, value in (("mutation_rate", mutation_rate), ("greedy_rate", greedy_rate)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name}={value!r} is out of range; allowed: [0, 1]")
        self.env: UAMFleetEnv = env.unwrapped
        self.population, self.generations, self.elite = population, generations, elite
        self.mutation_rate, self.greedy_rate, self.max_decisions = mutation_rate, greedy_rate, max_decisions
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.best_genes: np.ndarray | None = None
        self.best_profit = -np.inf
        self.history: list[float] = []
        self._start_episode()

    # ------------------------------------------------------------------ runner hooks
    def on_reset(self, env: gym.Env, observation: Any, info: dict) -> None:
        self.env = env.unwrapped
        self._start_episode()
        start = time.perf_counter()
        self.plan(self.env)
        self._add(time.perf_counter() - start, 0)
        self._count = np.zeros(self.env.n_aircraft, dtype=np.int64)

    def predict(self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = True,
                action_masks: np.ndarray | None = None) -> tuple[int, Any]:
        start = time.perf_counter()
        action = self._decode(self.env, self.best_genes, self._count)
        self._add(time.perf_counter() - start, 1)
        return action, state

    # ------------------------------------------------------------------ the GA
    def plan(self, env: UAMFleetEnv) -> float:
        """Evolve a plan for ``env``'s day from its current (just reset) state; returns its profit."""
        snapshot = copy.deepcopy(env)
        v, shape = env.n_vertiports, (env.n_aircraft, self.max_decisions)
        pop = [np.full(shape, v, dtype=np.int64)]
        while len(pop) < self.population:
            pop.append(self._random_genes(shape, v))
        fitness = np.array([self.evaluate(snapshot, g) for g in pop])
        self.history = [float(fitness.max())]
        for _ in range(self.generations):
            order = np.argsort(-fitness, kind="stable")
            children = [pop[i].copy() for i in order[:self.elite]]
            while len(children) < self.population:
                a, b = self._tournament(fitness), self._tournament(fitness)
                rows = self.rng.random(shape[0]) < 0.5
                child = np.where(rows[:, None], pop[a], pop[b])
                mutate = self.rng.random(shape) < self.mutation_rate
                child[mutate] = self._random_genes(shape, v)[mutate]
                children.append(child)
            pop = children
            fitness = np.concatenate([fitness[order[:self.elite]],
                                      [self.evaluate(snapshot, g) for g in pop[self.elite:]]])
            self.history.append(float(fitness.max()))
        best = int(np.argmax(fitness))
        self.best_genes, self.best_profit = pop[best], float(fitness[best])
        return self.best_profit

    def evaluate(self, snapshot: UAMFleetEnv, genes: np.ndarray) -> float:
        """The day's profit of ``genes`` simulated on a copy of ``snapshot``."""
        env = copy.deepcopy(snapshot)
        count = np.zeros(env.n_aircraft, dtype=np.int64)
        while not env.done:
            env.decide(self._decode(env, genes, count))
        return env.profit

    def _decode(self, env: UAMFleetEnv, genes: np.ndarray, count: np.ndarray) -> int:
        a = env.deciding
        k = min(int(count[a]), genes.shape[1] - 1)
        count[a] += 1
        g = int(genes[a, k])
        return g if g < env.n_vertiports and env.action_masks()[g] else greedy_action(env)

    def _random_genes(self, shape: tuple[int, int], v: int) -> np.ndarray:
        greedy = self.rng.random(shape) < self.greedy_rate
        return np.where(greedy, v, self.rng.integers(0, v, size=shape))

    def _tournament(self, fitness: np.ndarray) -> int:
        entrants = self.rng.integers(0, len(fitness), size=3)
        return int(entrants[np.argmax(fitness[entrants])])


class MaskablePPOMLP(DecisionTimer, BudgetMaskablePPO):
    """sb3-contrib ``MaskablePPO`` (Gauntlet's progress bar) that times its decisions for the
    ``decision_latency_ms`` metric; files it saves load with ``MaskablePPO`` too."""

    def on_reset(self, env: gym.Env, observation: Any, info: dict) -> None:
        self._start_episode()

    def predict(self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = False,
                action_masks: np.ndarray | None = None) -> tuple[Any, Any]:
        start = time.perf_counter()
        out = super().predict(observation, state, episode_start, deterministic, action_masks)
        if hasattr(self, "_seconds"):
            self._add(time.perf_counter() - start, 1)
        return out


def make_maskable_ppo_mlp(env: gym.Env, seed: int = 0, tensorboard_log: str | None = None, verbose: int = 0,
                          **hyperparameters: Any) -> MaskablePPOMLP:
    """``maskable-ppo-mlp``: MaskablePPO with ``MultiInputPolicy`` on ``env``; ``hyperparameters``
    go to its constructor (the registry states the task's)."""
    accepted = hyperparameter_names(BudgetMaskablePPO, exclude=("policy", "env", "seed", "tensorboard_log", "verbose"))
    check_hyperparameters("agent 'maskable-ppo-mlp'", hyperparameters, accepted)
    return MaskablePPOMLP("MultiInputPolicy", env, seed=seed, tensorboard_log=tensorboard_log, verbose=verbose,
                          **hyperparameters)
