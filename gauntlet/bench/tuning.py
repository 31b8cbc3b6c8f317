"""``gauntlet tune``: Ray Tune (ASHA) over an agent's declared search space, on development seeds.

Each trial is one :func:`gauntlet.bench.runner.run` with the sampled hyperparameters on top of
the task's defaults, trained at a small budget (default: a tenth of the task's) and evaluated on
the task's development seeds (``BenchmarkSpec.eval_seeds(official=False)``), never the official
ones, so tuning cannot fit the leaderboard's seeds. A trial trains in one ``learn`` call and
reports once, so ASHA ranks finished trials rather than stopping them early: every agent's
``learn`` is then supported, whether or not it can resume training.

The score Tune maximizes is the mean primary metric over the dev episodes, negated for a
"min" metric. Written to ``out``: ``best_config.json`` and ``trials.csv`` (one row per trial).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gauntlet.agents.hyperparameters import check_hyperparameters, hyperparameter_names
from gauntlet.bench import runner
from gauntlet.registry import get_agent, get_task, load_object, require_extra

DEFAULT_BUDGET_FRACTION = 10
"""Without ``timesteps``, a trial trains ``train_timesteps // DEFAULT_BUDGET_FRACTION`` steps."""

_DOMAINS = ("loguniform", "uniform", "randint", "choice")


def _domain(name: str, spec: dict) -> Any:
    from ray import tune

    if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in _DOMAINS:
        raise ValueError(f"search space entry {name!r}: expected one of {{{', '.join(_DOMAINS)}: ...}}, got {spec!r}")
    kind, args = next(iter(spec.items()))
    if kind == "choice":
        return tune.choice(list(args))
    return getattr(tune, kind)(*args)


def _check_space(agent: str, task_id: str, space: dict[str, dict]) -> None:
    """Unknown hyperparameters fail here, before any trial: by the factory's signature, or (a
    factory taking ``**kwargs`` checks them itself) by building one agent from the space."""
    agent_spec = get_agent(agent)
    accepted = hyperparameter_names(load_object(agent_spec.factory))
    check_hyperparameters(f"agent {agent!r} search space", space, accepted)
    if accepted is None:
        sample = {name: _domain(name, spec).sample() for name, spec in space.items()}
        task = get_task(task_id)
        env = runner.make_task_env(task_id, **task.kwargs, **task.benchmark.train_env_kwargs)
        try:
            runner.make_agent(agent_spec, env, task_id, 0, sample)
        finally:
            env.close()


def _trial(config: dict[str, Any], *, task_id: str, agent: str, timesteps: int, seeds: list[int]) -> None:
    from ray import tune

    record = runner.run(task_id, agent, total_timesteps=timesteps, eval_seeds=seeds, agent_kwargs=config,
                        command="gauntlet tune")
    metric = get_task(task_id).benchmark.metric(get_task(task_id).benchmark.primary_metric)
    value = sum(m[metric.name] for m in record.episode_metrics) / len(record.episode_metrics)
    tune.report({"score": value if metric.direction == "max" else -value, metric.name: value,
                 "eval_seeds": ",".join(map(str, record.eval_seeds)), "trained_timesteps": record.trained_timesteps})


def tune_agent(task_id: str, agent: str, *, samples: int, out: str | Path, timesteps: int | None = None,
               eval_episodes: int | None = None, search_space: dict[str, dict] | None = None,
               num_cpus: int | None = None, seed: int = 0) -> dict[str, Any]:
    """Run ``samples`` trials of ``agent`` on ``task_id`` and write ``best_config.json`` and
    ``trials.csv`` under ``out``; return the best config's summary (what ``best_config.json`` holds).

    ``search_space`` defaults to the agent's declared one; ``eval_episodes`` to all the task's
    dev seeds; ``num_cpus`` is the local Ray's size when none is running (default: all cores).
    """
    task = get_task(task_id)
    agent_spec = get_agent(agent)
    if task.benchmark is None:
        raise ValueError(f"task {task_id!r} has no benchmark spec: nothing to tune against")
    if not agent_spec.supports(task_id):
        raise ValueError(f"agent {agent!r} does not support task {task_id!r}; it supports {list(agent_spec.tasks)}")
    if not agent_spec.learns:
        raise ValueError(f"agent {agent!r} does not learn: it has nothing to tune")
    space = agent_spec.search_space if search_space is None else search_space
    if not space:
        tunable = sorted(a.name for a in _tunable())
        raise ValueError(f"agent {agent!r} declares no search space; agents with one: {', '.join(tunable)}")
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    spec = task.benchmark
    budget = spec.train_timesteps // DEFAULT_BUDGET_FRACTION if timesteps is None else int(timesteps)
    if budget < 1:
        raise ValueError(f"timesteps must be >= 1, got {budget}")
    seeds = spec.eval_seeds(official=False)
    if eval_episodes is not None:
        if not 1 <= eval_episodes <= len(seeds):
            raise ValueError(f"eval_episodes must be in [1, {len(seeds)}] (the task's dev seeds), got {eval_episodes}")
        seeds = seeds[:eval_episodes]
    require_extra(("ray", "ray"), "gauntlet tune")
    param_space = {name: _domain(name, s) for name, s in space.items()}
    _check_space(agent, task_id, space)

    import ray
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
    out = Path(out).resolve()
    try:
        tuner = tune.Tuner(
            tune.with_parameters(_trial, task_id=task_id, agent=agent, timesteps=budget, seeds=seeds),
            param_space=param_space,
            tune_config=tune.TuneConfig(metric="score", mode="max", num_samples=samples,
                                        scheduler=ASHAScheduler(max_t=1, grace_period=1),
                                        search_alg=tune.search.BasicVariantGenerator(random_state=seed)),
            run_config=tune.RunConfig(storage_path=str(out / "ray_results"), name="tune", verbose=0),
        )
        results = tuner.fit()
    finally:
        if started:
            ray.shutdown()
    errors = [str(r.error) for r in results if r.error is not None]
    if len(errors) == len(results):
        raise RuntimeError(f"every trial failed; the first: {errors[0]}")
    table = results.get_dataframe()
    columns = [c for c in table.columns if c.startswith("config/")] + \
        ["score", spec.primary_metric, "eval_seeds", "trained_timesteps", "trial_id"]
    out.mkdir(parents=True, exist_ok=True)
    table[[c for c in columns if c in table.columns]].to_csv(out / "trials.csv", index=False)
    best = results.get_best_result()
    summary = {
        "task": task_id, "agent": agent, "config": best.config, "score": best.metrics["score"],
        spec.primary_metric: best.metrics[spec.primary_metric], "direction": spec.metric(spec.primary_metric).direction,
        "eval_seeds": seeds, "timesteps": budget, "samples": samples, "failed_trials": len(errors),
        "search_space": space,
    }
    (out / "best_config.json").write_text(json.dumps(runner.jsonable(summary), indent=2) + "\n")
    return summary


def _tunable() -> list:
    from gauntlet.registry import AGENTS

    return [a for a in AGENTS.values() if a.learns and a.search_space]
