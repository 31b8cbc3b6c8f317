"""Hand-made run records (no env is stepped) for the leaderboard tests."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

from gauntlet.bench.runner import RunRecord
from gauntlet.registry import get_task

LOT = "gauntlet/LotSizing-15x5-v0"
FAIR = "gauntlet/FairThreshold-Synthetic-v0"
MILP = "gauntlet/MILPBranching-SetCover-v0"
MEC = "gauntlet/mo-MECOffloading-v0"


def protocol_kwargs(task_id: str) -> dict[str, dict[str, Any]]:
    """The training and evaluation env kwargs of the task's protocol, as the runner records them."""
    task = get_task(task_id)
    spec = task.benchmark
    return {"train_env_kwargs": {**task.kwargs, **spec.train_env_kwargs},
            "eval_env_kwargs": {**task.kwargs, **spec.eval_env_kwargs}}


def fake_run(task_id: str, agent: str, seed: int, metrics: list[dict[str, float]], *,
             returns: list[Any] | None = None, **fields: Any) -> RunRecord:
    seeds = get_task(task_id).benchmark.eval_seeds(official=True)
    values = dict(
        task=task_id, agent=agent, train_seed=seed, train_timesteps=0, eval_seeds=seeds,
        episode_returns=returns if returns is not None else [m["return"] for m in metrics],
        episode_metrics=metrics, train_time_s=0.0, eval_time_s=1.0, wall_time_s=1.0, steps_per_s=None,
        versions={"gauntlet": "test"}, command="pytest", **protocol_kwargs(task_id),
    )
    values.update(fields)
    return RunRecord(**values)


def make_lot_run(seed: int, agent: str = "random", offset: float = 0.0, **fields: Any) -> RunRecord:
    """A LotSizing-15x5 run whose episode costs are 3000 + offset + N(0, 50) (seeded by ``seed``)."""
    n = len(get_task(LOT).benchmark.eval_seeds(official=True))
    costs = 3000.0 + offset + np.random.default_rng(seed).normal(0, 50, size=n)
    metrics = [{"cost": float(c), "return": float(-c), "fill_rate": 0.9, "setups_per_period": 2.0, "length": 100.0}
               for c in costs]
    return fake_run(LOT, agent, seed, metrics, **fields)


@pytest.fixture
def lot_run() -> Callable[..., RunRecord]:
    """:func:`make_lot_run`."""
    return make_lot_run


@pytest.fixture
def fair_run() -> Callable[..., RunRecord]:
    """``fair_run(agent, seed, ret, violation, feasible=0.5)``: a FairThreshold-Synthetic run."""

    def make(agent: str, seed: int, ret: float, violation: float, feasible: float = 0.5) -> RunRecord:
        metrics = [{"return": ret, "violation": violation, "feasible": feasible, "final_disparity": 0.05,
                    "length": 2000.0}]
        return fake_run(FAIR, agent, seed, metrics)

    return make


@pytest.fixture
def milp_run() -> Callable[..., RunRecord]:
    """``milp_run(agent, nodes)``: a MILP set-cover run whose node counts repeat ``nodes``."""

    def make(agent: str, nodes: list[float]) -> RunRecord:
        n = len(get_task(MILP).benchmark.eval_seeds(official=True))
        nodes = (nodes * n)[:n]
        metrics = [{"nodes": v, "lp_iterations": 10.0 * v, "solving_time": 1.0, "solved": 1.0} for v in nodes]
        return fake_run(MILP, agent, 0, metrics, returns=[-v for v in nodes])

    return make
