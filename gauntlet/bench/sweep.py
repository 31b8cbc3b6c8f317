"""Sweeps: agents x tasks x seeds, each a :func:`gauntlet.bench.runner.run` writing one run file.

A sweep is resumable: run files are written atomically, and a job whose run file exists is
skipped when the file was made with the job's config (training budget, agent kwargs, training
and evaluation env kwargs, evaluation seeds). A run file made with another config is never
taken for the job's: the sweep refuses to start and names the file and the fields that differ
(use another ``--out``, or delete those files to rerun them). An unreadable file is rerun.
Where the jobs execute is an :class:`Executor`: a local process pool here; a cluster backend
(Ray) only has to implement the same ``map``.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Protocol, Sequence

from gauntlet.bench.identity import differences, shown
from gauntlet.bench.runner import RunRecord, jsonable, run, run_config, run_path
from gauntlet.registry import get_agent, get_task


class SweepConfigError(ValueError):
    """Run files in a sweep's output directory were made with another config than its jobs."""


@dataclass(frozen=True)
class Job:
    task: str
    agent: str
    train_seed: int
    out_dir: str
    total_timesteps: int | None = None
    eval_seeds: tuple[int, ...] | None = None
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    agent_kwargs: dict[str, Any] = field(default_factory=dict)
    command: str = ""
    save_dir: str | None = None

    @property
    def path(self) -> Path:
        return run_path(self.out_dir, self.task, self.agent, self.train_seed)

    @property
    def config(self) -> dict[str, Any]:
        """What the job's run file must record to count as this job's run."""
        config = run_config(self.task, self.agent, total_timesteps=self.total_timesteps,
                            agent_kwargs=self.agent_kwargs, env_kwargs=self.env_kwargs)
        seeds = get_task(self.task).benchmark.eval_seeds(official=True) if self.eval_seeds is None else self.eval_seeds
        return {**config, "eval_seeds": jsonable(list(seeds))}


class Executor(Protocol):
    """Runs ``fn`` on every job and yields ``(job, result_or_exception)`` as jobs finish."""

    def map(self, fn: Callable[[Job], Any], jobs: Sequence[Job]) -> Iterator[tuple[Job, Any]]: ...


class SerialExecutor:
    """In-process, one job after another (debugging, tests, 1-core machines)."""

    def map(self, fn: Callable[[Job], Any], jobs: Sequence[Job]) -> Iterator[tuple[Job, Any]]:
        for job in jobs:
            try:
                yield job, fn(job)
            except Exception as exc:  # a failed job must not stop the sweep; it is reported
                yield job, exc


class LocalPoolExecutor:
    """A pool of ``workers`` spawned processes, each limited to one BLAS/torch thread so the
    workers do not oversubscribe the cores."""

    def __init__(self, workers: int = 2) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers

    def map(self, fn: Callable[[Job], Any], jobs: Sequence[Job]) -> Iterator[tuple[Job, Any]]:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_single_thread) as pool:
            futures = {pool.submit(fn, job): job for job in jobs}
            for future in as_completed(futures):
                exc = future.exception()
                yield futures[future], exc if exc is not None else future.result()


def _single_thread() -> None:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"


def plan(
    tasks: Iterable[str],
    agents: Iterable[str],
    seeds: Iterable[int],
    out_dir: str | Path,
    *,
    total_timesteps: int | None = None,
    eval_seeds: Sequence[int] | None = None,
    env_kwargs: dict[str, Any] | None = None,
    command: str = "",
    save_dir: str | Path | None = None,
) -> list[Job]:
    """The jobs of a sweep; raises on unknown names and unsupported (agent, task) pairs."""
    tasks, agents, seeds = list(tasks), list(agents), list(seeds)
    jobs = []
    for task_id, agent in itertools.product(tasks, agents):
        task, spec = get_task(task_id), get_agent(agent)
        if task.benchmark is None:
            raise ValueError(f"task {task_id!r} has no benchmark spec")
        if not spec.supports(task_id):
            raise ValueError(f"agent {agent!r} does not support task {task_id!r} (it supports {list(spec.tasks)})")
        for seed in seeds:
            jobs.append(Job(task_id, agent, int(seed), str(out_dir), total_timesteps,
                            None if eval_seeds is None else tuple(eval_seeds), dict(env_kwargs or {}), {}, command,
                            None if save_dir is None else str(save_dir)))
    return jobs


def mismatch(job: Job) -> list[tuple[str, Any, Any]]:
    """The fields in which the job's existing run file differs from the job's config
    (``[]`` when there is no readable run file, or when it matches)."""
    try:
        data = json.loads(job.path.read_text())
    except (OSError, json.JSONDecodeError):
        return []
    recorded = {key: data.get(key) for key in job.config}
    return differences(recorded, job.config)


def is_done(job: Job) -> bool:
    """The job's run file exists, parses and was made with the job's config (and, when the job
    saves weights of a learning agent, records them); raises :class:`SweepConfigError` when it
    was made with another config."""
    check_resumable([job])
    try:
        data = json.loads(job.path.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return not (job.save_dir is not None and get_agent(job.agent).learns and data.get("artifact_sha256") is None)


def check_resumable(jobs: Sequence[Job]) -> None:
    """Raise :class:`SweepConfigError` naming every run file made with another config than its job."""
    problems = [
        f"  {job.path}: {field}: {shown(old)} in the file, the job has {shown(new)}"
        for job in jobs for field, old, new in mismatch(job)
    ]
    if problems:
        raise SweepConfigError(
            "run files in the sweep's output directory were made with another config than this sweep's jobs:\n"
            + "\n".join(problems)
            + "\nnothing was run; use another --out, or delete those files to rerun them"
        )


def execute(job: Job) -> str:
    record = run(
        job.task, job.agent, train_seed=job.train_seed, total_timesteps=job.total_timesteps,
        eval_seeds=job.eval_seeds, env_kwargs=job.env_kwargs, agent_kwargs=job.agent_kwargs,
        out_dir=job.out_dir, save_dir=job.save_dir, command=job.command,
    )
    return str(run_path(job.out_dir, record.task, record.agent, record.train_seed))


def sweep(
    jobs: Sequence[Job],
    executor: Executor | None = None,
    on_done: Callable[[Job, Any], None] | None = None,
) -> dict[str, list]:
    """Run the jobs not already done. Returns {"done": [...], "skipped": [...], "failed": [(job, error)]};
    raises :class:`SweepConfigError` before running anything when a run file has another config."""
    executor = executor or LocalPoolExecutor()
    check_resumable(jobs)
    todo = [j for j in jobs if not is_done(j)]
    outcome: dict[str, list] = {"done": [], "skipped": [j for j in jobs if j not in todo], "failed": []}
    for job, result in executor.map(execute, todo):
        if isinstance(result, BaseException):
            outcome["failed"].append((job, f"{type(result).__name__}: {result}"))
        else:
            outcome["done"].append(job)
        if on_done is not None:
            on_done(job, result)
    return outcome


def load_runs(jobs: Sequence[Job]) -> dict[tuple[str, str], list[RunRecord]]:
    """Run records of finished jobs grouped by (task, agent)."""
    grouped: dict[tuple[str, str], list[RunRecord]] = {}
    for job in jobs:
        if is_done(job):
            grouped.setdefault((job.task, job.agent), []).append(RunRecord.load(job.path))
    return grouped

