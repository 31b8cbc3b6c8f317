"""The registry's dataclasses: a task's benchmark spec and metrics, a task, an agent."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any, Literal

OFFICIAL_EVAL_SEED_START = 10_000
DEV_EVAL_SEED_START = 1_000


@dataclass(frozen=True)
class Metric:
    """A reported quantity: ``direction`` says whether larger ("max") or smaller ("min") is better.
    With a ``shift``, boards also report its shifted geometric mean over episodes (``sgm``) and
    rank on that instead of the mean (solver statistics such as node counts).

    A ``wall_clock`` metric is a time measured on the clock (a solve's seconds, an agent's
    latency): it depends on the machine and its load, so it is recorded and aggregated like the
    others but left out when a re-run is checked for reproduction (board merges, ``leaderboard
    evaluate`` and ``verify``)."""

    name: str
    direction: Literal["max", "min"]
    unit: str = ""
    description: str = ""
    shift: float | None = None
    wall_clock: bool = False


@dataclass(frozen=True)
class Constraint:
    """A budget on a metric of a constrained task: an entry is feasible when the mean of
    ``metric`` over its runs is within ``budget`` (<= for a "min" metric, >= for a "max" one).
    Feasible entries rank first; the others after them by how far they exceed their budgets."""

    metric: str
    budget: float


@dataclass(frozen=True)
class BenchmarkSpec:
    """How a task is benchmarked.

    ``episode_metrics`` is a ``"module:attr"`` callable ``f(rewards, infos) -> dict[str, float]``
    turning one evaluation episode (rewards: array of shape (T,) or (T, d) for MO tasks;
    infos: the T step infos) into the task's metrics. ``return`` and ``length`` are always
    computed by the runner. ``reference_scores`` maps "random" and "best" to primary-metric
    values used for the normalized score (0 = random, 1 = best); empty means not yet measured.
    ``train_env_kwargs`` are applied on top of the env kwargs for training only, and
    ``eval_env_kwargs`` for evaluation only (a held-out test period, test contexts), so agents
    never train on the evaluation distribution. Together they are the task's protocol: every
    run records the kwargs it trained and was evaluated with, and a board entry produced under
    other kwargs fails ``gauntlet leaderboard validate``. ``train_env_choices`` names env kwargs
    a learner may set for its own training episodes because they shape only how it spends its
    training compute, not the task (a solver's time limit per training instance): they are
    recorded in the entry's config, so they are part of its identity, but are no departure from
    the protocol.
    """

    metrics: tuple[Metric, ...]
    primary_metric: str
    train_timesteps: int
    n_train_seeds: int = 5
    eval_episodes: int = 10
    episode_metrics: str | None = None
    reference_scores: dict[str, float] = field(default_factory=dict)
    hv_ref_point: tuple[float, ...] | None = None
    gamma: float | None = None
    preference_weights: tuple[tuple[float, ...], ...] | None = None
    train_env_kwargs: dict[str, Any] = field(default_factory=dict)
    train_env_choices: tuple[str, ...] = ()
    eval_env_kwargs: dict[str, Any] = field(default_factory=dict)
    constraints: tuple[Constraint, ...] = ()
    preorder: tuple[int, ...] | None = None
    """The objectives' priority (indices of the reward vector, most important first) that the
    registry gives agents with preordered objectives on this task; not part of the board protocol."""

    def __post_init__(self) -> None:
        names = [m.name for m in self.metrics]
        for name in (self.primary_metric, *(c.metric for c in self.constraints)):
            if name not in names:
                raise ValueError(f"benchmark spec names metric {name!r}, which is not among its metrics {names}")

    @property
    def train_seeds(self) -> list[int]:
        return list(range(self.n_train_seeds))

    def eval_seeds(self, official: bool = True) -> list[int]:
        start = OFFICIAL_EVAL_SEED_START if official else DEV_EVAL_SEED_START
        return list(range(start, start + self.eval_episodes))

    def metric(self, name: str) -> Metric:
        for m in self.metrics:
            if m.name == name:
                return m
        known = ", ".join(m.name for m in self.metrics)
        raise KeyError(f"unknown metric {name!r}; this task reports: {known}")

    @property
    def is_multi_objective(self) -> bool:
        return self.hv_ref_point is not None


@dataclass(frozen=True)
class TaskSpec:
    """An environment id and everything needed to build and benchmark it."""

    id: str
    entry_point: str
    family: str
    paper: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    vector_entry_point: str | None = None
    extra: tuple[str, str] | None = None
    """(pip extra, module it provides) when the env needs an optional dependency."""
    benchmark: BenchmarkSpec | None = None
    multi_agent: bool = False
    """A PettingZoo ``ParallelEnv`` (registered with PettingZoo, made by ``gauntlet.make_parallel``)
    rather than a Gymnasium env; ``vector_entry_point`` is then its native batched class."""


@dataclass(frozen=True)
class AgentSpec:
    """A named agent: ``factory(env, seed=..., **hyperparameters)`` returns an object with
    SB3's ``predict``; learning agents also have ``learn``, ``save`` and ``load``.

    ``kind`` is the kind of its board entries: a ``"bound"`` (a perfect-information lower
    bound, say) is shown beside the board and never ranked as a policy."""

    name: str
    factory: str
    kind: Literal["reference", "baseline", "bound"]
    learns: bool
    tasks: tuple[str, ...]
    """Glob patterns over task ids this agent supports."""
    description: str = ""
    hyperparameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Task-id glob -> keyword arguments for the factory; later matches override earlier ones."""
    extra: tuple[str, str] | None = None
    search_space: dict[str, dict] | None = None
    """What ``gauntlet tune`` samples: hyperparameter -> ``{"loguniform": [lo, hi]}``,
    ``{"uniform": [lo, hi]}``, ``{"randint": [lo, hi]}`` or ``{"choice": [values]}``; plain data,
    turned into Ray Tune domains by :mod:`gauntlet.bench.tuning`. ``None``: not tunable."""
    num_gpus: float = 0.0
    """GPUs one run of this agent declares to the Ray executor (``gauntlet sweep --backend ray``);
    a fraction shares a GPU between runs; 0: CPU only."""

    def supports(self, task_id: str) -> bool:
        return any(fnmatch.fnmatchcase(task_id, p) for p in self.tasks)

    def hyperparameters_for(self, task_id: str) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for pattern, values in self.hyperparameters.items():
            if fnmatch.fnmatchcase(task_id, pattern):
                merged.update(values)
        return merged

