"""The tables: every task (env id, entry point, variants, benchmark spec) and every agent.

The CLI, the benchmark runner and ``gauntlet list`` read only these two tables, assembled
here from one module per family (``registry/lot_sizing.py``, ...). Entry points are
``"module:attr"`` strings imported on first use, so ``import gauntlet`` stays light and every
id is listed even when its optional dependency is missing.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from typing import Any

import gymnasium as gym

from gauntlet.registry import (
    agv_warehouse,
    driving,
    esg_portfolio,
    fair_threshold,
    lot_sizing,
    mec_offloading,
    milp_branching,
    mo_coop,
    uam_fleet,
)
from gauntlet.registry.specs import (
    DEV_EVAL_SEED_START,
    OFFICIAL_EVAL_SEED_START,
    AgentSpec,
    BenchmarkSpec,
    Metric,
    TaskSpec,
)

__all__ = [
    "AGENTS", "DEV_EVAL_SEED_START", "OFFICIAL_EVAL_SEED_START", "TASKS", "AgentSpec", "BenchmarkSpec", "EntryPoint",
    "Metric", "TaskSpec", "UnknownNameError", "agents_for", "get_agent", "get_task", "load_object", "make_parallel",
    "make_parallel_vector", "register_envs", "require_extra",
]

_FAMILIES = (
    lot_sizing,
    fair_threshold,
    agv_warehouse,
    mec_offloading,
    esg_portfolio,
    milp_branching,
    uam_fleet,
    mo_coop,
    driving,
)

TASKS: dict[str, TaskSpec] = {t.id: t for family in _FAMILIES for t in family.TASKS}

# SB3 PPO serves several families; each family module states its settings for it.
_PPO_HYPERPARAMETERS = {
    pattern: values for family in _FAMILIES for pattern, values in getattr(family, "PPO_HYPERPARAMETERS", {}).items()
}

AGENTS: dict[str, AgentSpec] = {
    a.name: a
    for a in (
        AgentSpec("random", "gauntlet.baselines.random:RandomAgent", "baseline", False, ("gauntlet/*",),
                  "uniform random valid action (respects action masks)"),
        AgentSpec("ppo", "gauntlet.agents.sb3:make_ppo", "reference", True, tuple(_PPO_HYPERPARAMETERS),
                  "Stable-Baselines3 PPO (MaskablePPO where the env exposes action_masks)",
                  hyperparameters=_PPO_HYPERPARAMETERS,
                  search_space={"learning_rate": {"loguniform": [1e-4, 1e-3]}, "ent_coef": {"loguniform": [1e-4, 1e-2]},
                                "clip_range": {"choice": [0.1, 0.2, 0.3]}}),
        *(a for family in _FAMILIES for a in family.AGENTS),
    )
}


# ------------------------------------------------------------------------------ lookup
class UnknownNameError(KeyError):
    """A task id or agent name that is not in the tables; the message lists the known ones.

    A ``KeyError`` (a failed lookup), distinct from the ``KeyError`` of a bug, so the CLI can
    report it in one line."""


def get_task(task_id: str) -> TaskSpec:
    """The task with this id; the error lists the known ids."""
    try:
        return TASKS[task_id]
    except KeyError:
        known = "\n  ".join(sorted(TASKS))
        raise UnknownNameError(f"unknown task {task_id!r}; known tasks:\n  {known}") from None


def get_agent(name: str) -> AgentSpec:
    """The agent with this name; the error lists the known names."""
    try:
        return AGENTS[name]
    except KeyError:
        known = ", ".join(sorted(AGENTS))
        raise UnknownNameError(f"unknown agent {name!r}; known agents: {known}") from None


def agents_for(task_id: str) -> list[AgentSpec]:
    return [a for a in AGENTS.values() if a.supports(task_id)]


def load_object(path: str) -> Any:
    """Import ``"package.module:attr"``."""
    module_name, _, attr = path.partition(":")
    if not attr:
        raise ValueError(f"expected 'module:attr', got {path!r}")
    return getattr(importlib.import_module(module_name), attr)


def require_extra(extra: tuple[str, str] | None, what: str) -> None:
    """Raise an ImportError naming the pip extra when an optional dependency is missing."""
    if extra is None:
        return
    name, module = extra
    if importlib.util.find_spec(module) is None:
        raise ImportError(f"{what} needs the optional dependency {module!r}: pip install \"gauntlet-rl[{name}]\"")


class EntryPoint:
    """A picklable, lazily imported env constructor that checks the optional dependency and
    turns unknown keyword arguments into a ValueError listing the accepted ones."""

    def __init__(self, task_id: str, path: str, extra: tuple[str, str] | None) -> None:
        self.task_id, self.path, self.extra = task_id, path, extra

    def __call__(self, **kwargs: Any) -> Any:
        require_extra(self.extra, self.task_id)
        cls = load_object(self.path)
        params = inspect.signature(cls).parameters
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            unknown = sorted(set(kwargs) - set(params))
            if unknown:
                allowed = ", ".join(n for n, p in params.items() if p.kind is not inspect.Parameter.VAR_POSITIONAL)
                raise ValueError(f"{self.task_id}: unknown argument(s) {unknown}; allowed: {allowed}")
        return cls(**kwargs)

    def __repr__(self) -> str:
        return f"{self.path}"


def register_envs() -> None:
    """Register every task id with Gymnasium, multi-agent ones with PettingZoo (idempotent)."""
    import pettingzoo

    for task in TASKS.values():
        if task.multi_agent:
            if task.id not in pettingzoo.parallel_registry:
                pettingzoo.register("parallel", task.id, entry_point=EntryPoint(task.id, task.entry_point, task.extra),
                                    kwargs=dict(task.kwargs))
            continue
        if task.id in gym.registry:
            continue
        entry = EntryPoint(task.id, task.entry_point, task.extra)
        vector = None if task.vector_entry_point is None else EntryPoint(task.id, task.vector_entry_point, task.extra)
        gym.register(
            id=task.id,
            entry_point=entry,
            vector_entry_point=vector,
            kwargs=dict(task.kwargs),
            # As mo_gymnasium.make does: the passive checker wants scalar rewards, mo- ids return vectors.
            disable_env_checker=task.id.partition("/")[2].startswith("mo-"),
        )


def _multi_agent_task(task_id: str) -> TaskSpec:
    task = get_task(task_id)
    if not task.multi_agent:
        raise ValueError(f"{task_id!r} is a single-agent Gymnasium env: make it with gym.make({task_id!r}); "
                         f"multi-agent ids: {[t for t, s in TASKS.items() if s.multi_agent]}")
    return task


def make_parallel(task_id: str, **kwargs: Any) -> Any:
    """The PettingZoo ``ParallelEnv`` of a multi-agent task, as ``pettingzoo.make("parallel", task_id, **kwargs)``."""
    import pettingzoo

    _multi_agent_task(task_id)
    return pettingzoo.make("parallel", task_id, **kwargs)


def make_parallel_vector(task_id: str, num_worlds: int, **kwargs: Any) -> Any:
    """The native batched version of a multi-agent task: ``num_worlds`` worlds stepped at once
    (array observations, actions and team rewards; see the family's ``vector`` module)."""
    task = _multi_agent_task(task_id)
    if task.vector_entry_point is None:
        raise ValueError(f"{task_id!r} has no native batched version")
    return EntryPoint(task_id, task.vector_entry_point, task.extra)(num_worlds=num_worlds, **{**task.kwargs, **kwargs})
