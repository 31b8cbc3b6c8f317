"""Train (if the agent learns) and evaluate one agent on one task with one training seed.

The result is a :class:`RunRecord`: raw per-episode returns (vectors for multi-objective
tasks), the task's episode metrics, wall time, steps/s, versions and the exact command, saved
as JSON. Everything the runner needs comes from :mod:`gauntlet.registry`.
"""

from __future__ import annotations

import inspect
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Sequence

import gymnasium as gym
import numpy as np

import gauntlet
from gauntlet.agents.hyperparameters import check_hyperparameters, hyperparameter_names
from gauntlet.bench.artifacts import save_weights
from gauntlet.data.fetch import sha256_of
from gauntlet.registry import AgentSpec, BenchmarkSpec, get_agent, get_task, load_object, require_extra

EpisodeMetricsFn = Callable[[np.ndarray, list], dict]

MAX_CURVE_POINTS = 200
"""A run's learning curve keeps at most this many training episodes (the board schema's limit)."""


@dataclass
class EpisodeResult:
    seed: int
    episode_return: float | list[float]
    length: int
    metrics: dict[str, float]
    weights: list[float] | None = None


@dataclass
class RunRecord:
    """Everything measured in one (task, agent, train seed) run.

    ``train_timesteps`` is the requested training budget (0 for agents that do not learn) and
    ``trained_timesteps`` the steps the agent reports having trained (its ``num_timesteps``
    after ``learn``, as SB3 counts them; ``None`` when the agent does not expose it).
    """

    task: str
    agent: str
    train_seed: int
    train_timesteps: int
    eval_seeds: list[int]
    episode_returns: list[Any]
    episode_metrics: list[dict[str, float]]
    train_time_s: float
    eval_time_s: float
    wall_time_s: float
    steps_per_s: float | None
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """The user's kwargs, common to training and evaluation."""
    train_env_kwargs: dict[str, Any] | None = None
    """Every kwarg of the env the agent was built and trained on, the task's defaults included
    (``None``: not recorded, run files of older versions)."""
    eval_env_kwargs: dict[str, Any] | None = None
    """Every kwarg of the evaluation env (``None``: not recorded)."""
    agent_kwargs: dict[str, Any] = field(default_factory=dict)
    """The hyperparameters given on top of the registry's defaults for the task."""
    trained_timesteps: int | None = None
    artifact_path: str | None = None
    """The trained agent's weights, written by its ``save`` (``gauntlet run --save``)."""
    artifact_sha256: str | None = None
    weights: list[list[float]] | None = None
    mo_metrics: dict[str, Any] | None = None
    versions: dict[str, str] = field(default_factory=dict)
    command: str = ""
    git_commit: str | None = None
    learning_curve: list[list[float]] | None = None
    """``[timestep, episode return]`` of training episodes, at most :data:`MAX_CURVE_POINTS` of
    them (:func:`downsample_curve`); ``None`` when the agent trained nothing or logs no episodes."""
    agent_obj: Any = field(default=None, repr=False, compare=False)

    @property
    def config(self) -> dict[str, Any]:
        """The part of the run that identifies a board entry (see :mod:`gauntlet.bench.identity`)."""
        return jsonable({
            "train_timesteps": self.train_timesteps, "agent_kwargs": self.agent_kwargs,
            "train_env_kwargs": self.train_env_kwargs, "eval_env_kwargs": self.eval_env_kwargs,
        })

    def attach_weights(self, path: str | Path) -> None:
        """Reference the weights file this run was measured with, by path and sha256."""
        self.artifact_path, self.artifact_sha256 = str(path), sha256_of(Path(path))

    def attach_learning_curve(self, points: Sequence[Sequence[float]]) -> None:
        """Record the ``(timestep, episode return)`` of the run's training episodes, downsampled
        to at most :data:`MAX_CURVE_POINTS` (a run loaded from disk gets its curve this way)."""
        self.learning_curve = downsample_curve(points)

    def to_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it would deep-copy the trained agent, which may not be copyable.
        return jsonable({f.name: getattr(self, f.name) for f in fields(self) if f.name != "agent_obj"})

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=1))
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "RunRecord":
        data = json.loads(Path(path).read_text())
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"{path}: not a run record of this gauntlet version (unknown fields {unknown})")
        return cls(**data)


def run_config(task_id: str, agent: str, *, total_timesteps: int | None = None,
               agent_kwargs: dict[str, Any] | None = None, env_kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
    """The config a :func:`run` with these arguments records (``RunRecord.config``): what a
    sweep compares with an existing run file before skipping it."""
    task = get_task(task_id)
    spec = task.benchmark
    if spec is None:
        raise ValueError(f"task {task_id!r} has no benchmark spec")
    budget = spec.train_timesteps if total_timesteps is None else int(total_timesteps)
    env_kwargs = {**task.kwargs, **(env_kwargs or {})}
    return jsonable({
        "train_timesteps": budget if get_agent(agent).learns else 0,
        "agent_kwargs": dict(agent_kwargs or {}),
        "train_env_kwargs": {**env_kwargs, **spec.train_env_kwargs},
        "eval_env_kwargs": {**env_kwargs, **spec.eval_env_kwargs},
    })


def make_agent(spec: AgentSpec, env: gym.Env, task_id: str, seed: int, agent_kwargs: dict | None = None,
               tensorboard_log: str | None = None) -> Any:
    """Build an agent from the registry with the task's default hyperparameters (overridden by ``agent_kwargs``)."""
    if not spec.supports(task_id):
        raise ValueError(f"agent {spec.name!r} does not support task {task_id!r}; it supports {list(spec.tasks)}")
    require_extra(spec.extra, f"agent {spec.name!r}")
    kwargs = {**spec.hyperparameters_for(task_id), **(agent_kwargs or {})}
    if spec.learns and tensorboard_log is not None:
        kwargs["tensorboard_log"] = tensorboard_log
    factory = load_object(spec.factory)
    check_hyperparameters(f"agent {spec.name!r}", kwargs, hyperparameter_names(factory))
    return factory(env, seed=seed, **kwargs)


def evaluate(
    agent: Any,
    env: gym.Env,
    seeds: Sequence[int],
    *,
    episode_metrics: EpisodeMetricsFn | None = None,
    deterministic: bool = True,
    weights: Sequence[float] | None = None,
    gamma: float = 1.0,
) -> list[EpisodeResult]:
    """Run one episode per seed and return its (discounted by ``gamma``) return and metrics.

    ``weights`` is passed as ``reset(options={"weights": w})`` for preference-conditioned envs.
    The agent's optional ``on_reset``/``on_step`` hooks are called, ``action_masks`` is passed
    to ``predict`` when the env has masks and ``predict`` accepts them, and an agent's optional
    ``episode_report()`` dict is added to the episode's metrics.
    """
    pass_masks = hasattr(env.unwrapped, "action_masks") and accepts(agent.predict, "action_masks")
    results = []
    for seed in seeds:
        options = {"weights": np.asarray(weights, dtype=np.float64)} if weights is not None else None
        obs, info = env.reset(seed=int(seed), options=options)
        if hasattr(agent, "on_reset"):
            agent.on_reset(env, obs, info)
        rewards, infos = [], []
        state, episode_start, done = None, np.ones((1,), dtype=bool), False
        while not done:
            kwargs = {"action_masks": env.unwrapped.action_masks()} if pass_masks else {}
            action, state = agent.predict(obs, state=state, episode_start=episode_start,
                                          deterministic=deterministic, **kwargs)
            obs, reward, terminated, truncated, info = env.step(action)
            if hasattr(agent, "on_step"):
                agent.on_step(obs, reward, terminated, truncated, info)
            rewards.append(reward)
            infos.append(info)
            episode_start = np.zeros((1,), dtype=bool)
            done = terminated or truncated
        reward_array = np.asarray(rewards, dtype=np.float64)
        discounts = gamma ** np.arange(len(rewards))
        ret = (discounts[:, None] * reward_array).sum(0) if reward_array.ndim == 2 else float(discounts @ reward_array)
        metrics = {"return": ret if np.ndim(ret) == 0 else None, "length": float(len(rewards))}
        if episode_metrics is not None:
            metrics.update(episode_metrics(reward_array, infos))
        if hasattr(agent, "episode_report"):
            metrics.update(agent.episode_report())
        metrics = {k: float(v) for k, v in metrics.items() if v is not None}
        results.append(EpisodeResult(
            seed=int(seed),
            episode_return=ret.tolist() if np.ndim(ret) else float(ret),
            length=len(rewards),
            metrics=metrics,
            weights=None if weights is None else [float(w) for w in weights],
        ))
    return results


def evaluate_parallel(
    agent: Any,
    env: Any,
    seeds: Sequence[int],
    *,
    episode_metrics: EpisodeMetricsFn | None = None,
    deterministic: bool = True,
    weights: Sequence[float] | None = None,
    gamma: float = 1.0,
) -> list[EpisodeResult]:
    """:func:`evaluate` for a PettingZoo ``ParallelEnv`` of a cooperative task: ``predict`` takes
    and returns dicts over the live agents, the episode runs until no agent is left, and its
    return is the team's (the reward every agent shares, a vector on multi-objective tasks).
    ``weights`` go to ``reset(options={"weights": w})``; ``on_reset(env, obs, infos)`` and
    ``on_step(obs, rewards, terminations, truncations, infos)`` get the per-agent dicts."""
    results = []
    for seed in seeds:
        options = {"weights": np.asarray(weights, dtype=np.float64)} if weights is not None else None
        obs, info = env.reset(seed=int(seed), options=options)
        if hasattr(agent, "on_reset"):
            agent.on_reset(env, obs, info)
        rewards, infos = [], []
        state, episode_start = None, np.ones((1,), dtype=bool)
        while env.agents:
            actions, state = agent.predict(obs, state=state, episode_start=episode_start, deterministic=deterministic)
            obs, reward, terminated, truncated, info = env.step(actions)
            if hasattr(agent, "on_step"):
                agent.on_step(obs, reward, terminated, truncated, info)
            rewards.append(next(iter(reward.values())))
            infos.append(info)
            episode_start = np.zeros((1,), dtype=bool)
        reward_array = np.asarray(rewards, dtype=np.float64)
        ret = (gamma ** np.arange(len(rewards))) @ reward_array
        metrics = {"return": ret if np.ndim(ret) == 0 else None, "length": float(len(rewards))}
        if episode_metrics is not None:
            metrics.update(episode_metrics(reward_array, infos))
        results.append(EpisodeResult(
            seed=int(seed),
            episode_return=ret.tolist() if np.ndim(ret) else float(ret),
            length=len(rewards),
            metrics={k: float(v) for k, v in metrics.items() if v is not None},
            weights=None if weights is None else [float(w) for w in weights],
        ))
    return results


def make_task_env(task_id: str, **kwargs: Any) -> Any:
    """The task's env: ``gym.make`` for Gymnasium tasks, ``gauntlet.make_parallel`` for multi-agent ones."""
    if get_task(task_id).multi_agent:
        return gauntlet.make_parallel(task_id, **kwargs)
    return gym.make(task_id, **kwargs)


def run(
    task_id: str,
    agent: str,
    *,
    train_seed: int = 0,
    total_timesteps: int | None = None,
    eval_seeds: Sequence[int] | None = None,
    agent_kwargs: dict[str, Any] | None = None,
    env_kwargs: dict[str, Any] | None = None,
    out_dir: str | Path | None = None,
    save_dir: str | Path | None = None,
    progress_bar: bool = False,
    tensorboard_log: str | None = None,
    command: str | None = None,
) -> RunRecord:
    """Train ``agent`` on ``task_id`` with ``train_seed`` (if it learns) and evaluate it.

    Training uses the env kwargs plus the protocol's ``train_env_kwargs``, evaluation the env
    kwargs plus its ``eval_env_kwargs``. ``total_timesteps`` defaults to the task's budget;
    ``eval_seeds`` to the official leaderboard seeds. With ``out_dir`` the record is written to
    ``out_dir/<task>/<agent>/seed<k>.json`` (and, for multi-objective tasks, its Pareto front
    to ``seed<k>.png``); with ``save_dir`` a learning agent's weights are written by its
    ``save`` to the same relative path under ``save_dir`` and their sha256 recorded.
    """
    task = get_task(task_id)
    if task.benchmark is None:
        raise ValueError(
            f"task {task_id!r} has no benchmark spec; benchmarked variants of {task.family}: "
            f"{[t.id for t in _family_benchmarks(task.family)]}"
        )
    spec = task.benchmark
    agent_spec = get_agent(agent)
    env_kwargs = dict(env_kwargs or {})
    budget = spec.train_timesteps if total_timesteps is None else int(total_timesteps)
    if budget < 0:
        raise ValueError(f"total_timesteps must be >= 0, got {budget}")
    seeds = list(spec.eval_seeds(official=True) if eval_seeds is None else eval_seeds)
    if not seeds:
        raise ValueError("eval_seeds is empty; give at least one evaluation seed")
    config = run_config(task_id, agent, total_timesteps=budget, agent_kwargs=agent_kwargs, env_kwargs=env_kwargs)

    train_kwargs = {**task.kwargs, **env_kwargs, **spec.train_env_kwargs}
    start = time.perf_counter()
    train_env = make_task_env(task_id, **train_kwargs)
    train_env.reset(seed=train_seed)
    if not task.multi_agent:
        train_env.action_space.seed(train_seed)
    model = make_agent(agent_spec, train_env, task_id, train_seed, agent_kwargs, tensorboard_log)
    trained: int | None = 0
    curve = None
    if agent_spec.learns and budget > 0:
        model.learn(total_timesteps=budget, progress_bar=progress_bar)
        steps = getattr(model, "num_timesteps", None)
        trained = None if steps is None else int(steps)
        curve = learning_curve(model)
    train_time = time.perf_counter() - start
    train_env.close()
    # Saved before evaluation: agents that keep learning online while evaluated (bandits)
    # must be re-evaluated from the state training left them in.
    weights = None
    if save_dir is not None and agent_spec.learns:
        weights = save_weights(model, run_path(save_dir, task_id, agent, train_seed).with_suffix(""))
    record = evaluate_run(
        task_id, agent, model, train_seed=train_seed, train_timesteps=config["train_timesteps"],
        trained_timesteps=trained, train_time_s=train_time, eval_seeds=seeds, env_kwargs=env_kwargs,
        train_env_kwargs=train_kwargs, agent_kwargs=agent_kwargs, command=command,
    )
    if weights is not None:
        record.attach_weights(weights)
    if curve is not None:
        record.attach_learning_curve(curve)
    if out_dir is not None:
        path = record.save(run_path(out_dir, task_id, agent, train_seed))
        if record.mo_metrics is not None:
            from gauntlet.bench.multi_objective import plot_front

            plot_front({agent: record.mo_metrics["front"]}, path.with_suffix(".png"), ref_point=spec.hv_ref_point,
                       title=f"{agent} on {task_id}, train seed {train_seed}")
    return record


def evaluate_run(
    task_id: str,
    agent: str,
    model: Any,
    *,
    train_seed: int = 0,
    train_timesteps: int = 0,
    trained_timesteps: int | None = None,
    train_time_s: float = 0.0,
    eval_seeds: Sequence[int] | None = None,
    env_kwargs: dict[str, Any] | None = None,
    train_env_kwargs: dict[str, Any] | None = None,
    agent_kwargs: dict[str, Any] | None = None,
    command: str | None = None,
) -> RunRecord:
    """Evaluate an already built (and trained) ``model`` under the task's protocol.

    The evaluation env is ``make_task_env(task_id, **env_kwargs, **spec.eval_env_kwargs)``: pass the
    user's kwargs; the protocol's evaluation-only kwargs are added here. ``train_env_kwargs``
    are recorded as the kwargs of the env the model was built and trained on; ``None`` states
    that this was the task's protocol, ``{**env_kwargs, **spec.train_env_kwargs}``: a caller
    that trained on anything else must say so here, and a board then refuses the entry.
    ``trained_timesteps`` defaults to the model's ``num_timesteps`` when ``train_timesteps > 0``.

    Multi-objective tasks are evaluated once per preference weight of the benchmark spec, with
    discount ``gamma``, and the record carries hypervolume, EUM, cardinality and the front.
    """
    task = get_task(task_id)
    spec = task.benchmark
    if spec is None:
        raise ValueError(f"task {task_id!r} has no benchmark spec")
    env_kwargs = dict(env_kwargs or {})
    seeds = list(spec.eval_seeds(official=True) if eval_seeds is None else eval_seeds)
    if trained_timesteps is None and train_timesteps > 0:
        steps = getattr(model, "num_timesteps", None)
        trained_timesteps = None if steps is None else int(steps)
    elif trained_timesteps is None:
        trained_timesteps = 0
    if train_env_kwargs is None:
        train_env_kwargs = {**task.kwargs, **env_kwargs, **spec.train_env_kwargs}
    start = time.perf_counter()
    eval_kwargs = {**task.kwargs, **env_kwargs, **spec.eval_env_kwargs}
    eval_env = make_task_env(task_id, **eval_kwargs)
    metrics_fn = load_object(spec.episode_metrics) if spec.episode_metrics else None
    weight_set = spec.preference_weights if spec.is_multi_objective else [None]
    gamma = spec.gamma if spec.gamma is not None else 1.0
    play = evaluate_parallel if task.multi_agent else evaluate
    episodes: list[EpisodeResult] = []
    for w in weight_set:
        episodes += play(model, eval_env, seeds, episode_metrics=metrics_fn, weights=w, gamma=gamma)
    eval_env.close()
    eval_time = time.perf_counter() - start
    return RunRecord(
        task=task_id,
        agent=agent,
        train_seed=train_seed,
        train_timesteps=train_timesteps,
        eval_seeds=seeds,
        episode_returns=[e.episode_return for e in episodes],
        episode_metrics=[e.metrics for e in episodes],
        train_time_s=train_time_s,
        eval_time_s=eval_time,
        wall_time_s=train_time_s + eval_time,
        steps_per_s=(trained_timesteps / train_time_s) if trained_timesteps and train_time_s > 0 else None,
        env_kwargs=env_kwargs,
        train_env_kwargs={**task.kwargs, **train_env_kwargs},
        eval_env_kwargs=eval_kwargs,
        agent_kwargs=dict(agent_kwargs or {}),
        trained_timesteps=trained_timesteps,
        weights=[list(w) for w in weight_set] if spec.is_multi_objective else None,
        mo_metrics=_mo_metrics(spec, episodes, len(seeds)) if spec.is_multi_objective else None,
        versions=versions(),
        command=command if command is not None else current_command(),
        git_commit=git_commit(),
        agent_obj=model,
    )


def learning_curve(model: Any) -> list[tuple[int, float]] | None:
    """``(timestep at episode end, return)`` of every training episode of a trained ``model``:
    its ``episode_log`` when it keeps one, else the ``Monitor`` SB3 puts around each copy of
    the training env (copies step in lockstep, so a copy's step ``t`` is global step
    ``t * n_copies``). ``None`` when neither is there or returns are vectors."""
    if hasattr(model, "episode_log"):
        points = [(int(t), r) for t, r in model.episode_log]
    else:
        vec_env = model.get_env() if callable(getattr(model, "get_env", None)) else None
        if vec_env is None:
            return None
        try:
            lengths = vec_env.env_method("get_episode_lengths")
            returns = vec_env.env_method("get_episode_rewards")
        except AttributeError:  # a training env without SB3's Monitor
            return None
        points = sorted((int(t) * vec_env.num_envs, r) for copy_lengths, copy_returns in zip(lengths, returns)
                        for t, r in zip(np.cumsum(copy_lengths), copy_returns))
    if not points or any(np.ndim(r) != 0 for _, r in points):
        return None
    return [(t, float(r)) for t, r in points]


def downsample_curve(points: Sequence[Sequence[float]], max_points: int = MAX_CURVE_POINTS) -> list[list[float]]:
    """At most ``max_points`` of ``points`` as ``[int timestep, float return]``: all of them, or the
    first, the last and evenly spaced ones between."""
    if max_points < 2:
        raise ValueError(f"max_points must be >= 2 (the first and the last point), got {max_points}")
    keep = range(len(points)) if len(points) <= max_points else \
        np.unique(np.round(np.linspace(0, len(points) - 1, max_points)).astype(int))
    return [[int(points[i][0]), float(points[i][1])] for i in keep]


def run_path(out_dir: str | Path, task_id: str, agent: str, train_seed: int) -> Path:
    return Path(out_dir) / task_id.replace("/", "__") / agent / f"seed{train_seed}.json"


def _mo_metrics(spec: BenchmarkSpec, episodes: list[EpisodeResult], n_seeds: int) -> dict[str, Any]:
    return front_metrics([e.episode_return for e in episodes], spec.preference_weights, spec.hv_ref_point, n_seeds)


def front_metrics(episode_returns: Sequence[Any], preference_weights: Sequence[Sequence[float]],
                  ref_point: Sequence[float], n_seeds: int) -> dict[str, Any]:
    """Hypervolume, EUM, cardinality and front of one run's vector returns, ordered weight by
    weight with ``n_seeds`` episodes each (the order :func:`evaluate_run` records them in)."""
    from gauntlet.bench.multi_objective import mo_metrics

    returns = np.asarray(episode_returns, dtype=np.float64)
    mean_per_weight = returns.reshape(len(preference_weights), n_seeds, -1).mean(axis=1)
    return jsonable(mo_metrics(mean_per_weight, np.asarray(preference_weights, dtype=np.float64), tuple(ref_point)))


def _family_benchmarks(family: str) -> list:
    from gauntlet.registry import TASKS

    return [t for t in TASKS.values() if t.family == family and t.benchmark is not None]


def accepts(fn: Callable, name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"gauntlet": gauntlet.__version__, "python": platform.python_version()}
    for pkg in ("gymnasium", "numpy", "torch", "stable-baselines3"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def current_command() -> str:
    return shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv and sys.argv[0] else ""


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).resolve().parent)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def jsonable(obj: Any) -> Any:
    """Plain JSON types (numpy arrays and scalars converted, non-finite floats as None)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        value = float(obj)
        return value if np.isfinite(value) else None
    return obj
