"""``gauntlet tune``: Ray Tune (ASHA) over an agent's declared search space, on development seeds.

Each trial builds the agent with the sampled hyperparameters on top of the task's defaults and
trains it in ``rungs`` equal chunks of its budget (default: a tenth of the task's), each a
``learn(chunk, reset_num_timesteps=False)`` that resumes where the last one stopped. After every
chunk the agent is evaluated on the task's development seeds
(``BenchmarkSpec.eval_seeds(official=False)``), never the official ones, so tuning cannot fit the
leaderboard's seeds, and the score is reported to Tune. ASHA (asynchronous successive halving)
then stops weak trials early: a trial may be stopped from rung ``grace_period`` on, at rungs
``grace_period * reduction_factor**k``, when its score is below the best ``1/reduction_factor``
of the scores other trials reported at that rung. An agent whose ``learn`` cannot resume (no
``reset_num_timesteps`` argument) trains its whole budget in one call and reports once.

The score Tune maximizes is the mean primary metric over the dev episodes, negated for a "min"
metric. The best config is the best score among the trials that trained their whole budget.
Written to ``out``: ``best_config.json`` and ``trials.csv`` (one row per trial, with the rungs and
timesteps it reached and whether ASHA stopped it).
"""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path
from typing import Any

from gauntlet.agents.hyperparameters import check_hyperparameters, hyperparameter_names
from gauntlet.bench import runner
from gauntlet.bench.executors import init_ray
from gauntlet.registry import get_agent, get_task, load_object, require_extra

DEFAULT_BUDGET_FRACTION = 10
"""Without ``timesteps``, a trial trains ``train_timesteps // DEFAULT_BUDGET_FRACTION`` steps."""
DEFAULT_RUNGS = 4
"""A trial's budget is trained in this many chunks, each followed by a dev-seed evaluation."""
DEFAULT_GRACE_PERIOD = 1
"""ASHA stops no trial before it reported this many rungs."""
DEFAULT_REDUCTION_FACTOR = 2
"""ASHA keeps the best 1/``reduction_factor`` of the trials at each of its milestones."""

_DOMAINS = ("loguniform", "uniform", "randint", "choice")


class TuningError(RuntimeError):
    """Every trial failed: the message names the first failure's cause."""


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
        except ValueError:
            raise
        except Exception as exc:  # the agent's own check (an assert in SB3, a TypeError) is a bad space too
            raise ValueError(f"agent {agent!r} cannot be built with {sample} sampled from its search space: "
                             f"{type(exc).__name__}: {exc}") from exc
        finally:
            env.close()


def rung_budgets(timesteps: int, rungs: int) -> list[int]:
    """``timesteps`` split into ``rungs`` chunks as equal as integers allow (the first ones larger)."""
    if rungs < 1:
        raise ValueError(f"rungs must be >= 1, got {rungs}")
    if timesteps < rungs:
        raise ValueError(f"timesteps ({timesteps}) must be >= rungs ({rungs}): every rung trains at least one step")
    return [timesteps // rungs + (1 if i < timesteps % rungs else 0) for i in range(rungs)]


def _trial(config: dict[str, Any], *, task_id: str, agent: str, timesteps: int, rungs: int, seeds: list[int]) -> None:
    from ray import tune

    task = get_task(task_id)
    metric = task.benchmark.metric(task.benchmark.primary_metric)
    env = runner.make_task_env(task_id, **task.kwargs, **task.benchmark.train_env_kwargs)
    env.reset(seed=0)
    if not task.multi_agent:
        env.action_space.seed(0)
    model = runner.make_agent(get_agent(agent), env, task_id, 0, config)
    resumable = runner.accepts(model.learn, "reset_num_timesteps")
    budgets = rung_budgets(timesteps, rungs) if resumable else [timesteps]
    try:
        for rung, chunk in enumerate(budgets, 1):
            model.learn(total_timesteps=chunk, **({"reset_num_timesteps": rung == 1} if resumable else {}))
            record = runner.evaluate_run(task_id, agent, model, train_timesteps=sum(budgets[:rung]), eval_seeds=seeds,
                                         agent_kwargs=config, command="gauntlet tune")
            value = sum(m[metric.name] for m in record.episode_metrics) / len(record.episode_metrics)
            tune.report({"score": value if metric.direction == "max" else -value, metric.name: value,
                         "eval_seeds": ",".join(map(str, record.eval_seeds)), "rung": rung, "rungs_planned": len(budgets),
                         "trained_timesteps": record.trained_timesteps})
    finally:
        env.close()


def tune_agent(task_id: str, agent: str, *, samples: int, out: str | Path, timesteps: int | None = None,
               eval_episodes: int | None = None, search_space: dict[str, dict] | None = None,
               num_cpus: int | None = None, seed: int = 0, rungs: int = DEFAULT_RUNGS,
               grace_period: int = DEFAULT_GRACE_PERIOD, reduction_factor: float = DEFAULT_REDUCTION_FACTOR,
               max_concurrent: int | None = None) -> dict[str, Any]:
    """Run ``samples`` trials of ``agent`` on ``task_id`` and write ``best_config.json`` and
    ``trials.csv`` under ``out``; return the best config's summary (what ``best_config.json`` holds).

    ``search_space`` defaults to the agent's declared one; ``eval_episodes`` to all the task's
    dev seeds; ``num_cpus`` is the local Ray's size when none is running (default: all cores);
    ``max_concurrent`` caps the trials running at once (default: as many as fit). ``rungs``,
    ``grace_period`` and ``reduction_factor`` set the ASHA schedule (module docstring). Raises
    :class:`TuningError` when every trial failed.
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
    rung_budgets(budget, rungs)
    if not 1 <= grace_period <= rungs:
        raise ValueError(f"grace_period must be in [1, rungs={rungs}], got {grace_period}")
    if not reduction_factor > 1:
        raise ValueError(f"reduction_factor must be > 1, got {reduction_factor}")
    if max_concurrent is not None and max_concurrent < 1:
        raise ValueError(f"max_concurrent must be >= 1, got {max_concurrent}")
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
        init_ray(num_cpus=num_cpus)
    out = Path(out).resolve()
    scheduler = ASHAScheduler(time_attr="training_iteration", max_t=rungs, grace_period=grace_period,
                              reduction_factor=reduction_factor)
    # A failed trial's traceback stays in its error.txt under ray_results and its cause goes
    # into trials.csv; Tune's controller would also print it, once per trial, to the terminal.
    tune_log = logging.getLogger("ray.tune")
    level = tune_log.level
    tune_log.setLevel(logging.CRITICAL)
    try:
        tuner = tune.Tuner(
            tune.with_parameters(_trial, task_id=task_id, agent=agent, timesteps=budget, rungs=rungs, seeds=seeds),
            param_space=param_space,
            tune_config=tune.TuneConfig(metric="score", mode="max", num_samples=samples, scheduler=scheduler,
                                        max_concurrent_trials=max_concurrent,
                                        search_alg=tune.search.BasicVariantGenerator(random_state=seed)),
            run_config=tune.RunConfig(storage_path=str(out / "ray_results"), name="tune", verbose=0),
        )
        results = tuner.fit()
    finally:
        tune_log.setLevel(level)
        if started:
            ray.shutdown()
    errors = [r.error for r in results if r.error is not None]
    if len(errors) == len(results):
        raise TuningError(f"every trial of {agent!r} on {task_id} failed ({len(errors)} of {len(results)}); "
                          f"the first: {failure_cause(errors[0])} (tracebacks under {out / 'ray_results'})")
    rows = trials_table(results, spec.primary_metric, rungs)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "trials.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(dict.fromkeys(k for row in rows for k in row)))
        writer.writeheader()
        writer.writerows(rows)
    scored = [r for r in rows if not r["error"]]
    finished = [r for r in scored if r["rungs"] == r["rungs_planned"]]
    best = max(finished or scored, key=lambda r: r["score"])
    summary = {
        "task": task_id, "agent": agent,
        "config": {k.removeprefix("config/"): v for k, v in best.items() if k.startswith("config/")},
        "score": best["score"], spec.primary_metric: best[spec.primary_metric],
        "direction": spec.metric(spec.primary_metric).direction, "eval_seeds": seeds, "timesteps": budget,
        "samples": samples, "failed_trials": len(errors), "stopped_early": sum(r["stopped_early"] for r in rows),
        "asha": {"rungs": rungs, "grace_period": grace_period, "reduction_factor": reduction_factor},
        "search_space": space,
    }
    (out / "best_config.json").write_text(json.dumps(runner.jsonable(summary), indent=2) + "\n")
    return summary


def trials_table(results: Any, primary_metric: str, rungs: int) -> list[dict[str, Any]]:
    """One row per trial: its config, last reported score and primary metric, the rungs and
    timesteps it reached, whether ASHA stopped it before its whole budget, and the cause of its
    failure if it failed."""
    rows = []
    for result in results:
        last = result.metrics or {}
        planned = int(last.get("rungs_planned", rungs))
        reached = int(last.get("rung", 0))
        rows.append({
            **{f"config/{k}": v for k, v in runner.jsonable(result.config).items()},
            "score": last.get("score"), primary_metric: last.get(primary_metric), "eval_seeds": last.get("eval_seeds"),
            "rungs": reached, "rungs_planned": planned, "trained_timesteps": int(last.get("trained_timesteps") or 0),
            "stopped_early": result.error is None and reached < planned,
            "error": "" if result.error is None else failure_cause(result.error),
            "trial_id": last.get("trial_id") or Path(result.path).name,
        })
    return rows


def failure_cause(error: BaseException) -> str:
    """The exception that made a trial fail, as ``Type: message``, from under Ray's wrappers."""
    seen = set()
    while id(error) not in seen:
        seen.add(id(error))
        inner = getattr(error, "cause", None) or error.__cause__
        if not isinstance(inner, BaseException):
            break
        error = inner
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def _tunable() -> list:
    from gauntlet.registry import AGENTS

    return [a for a in AGENTS.values() if a.learns and a.search_space]
