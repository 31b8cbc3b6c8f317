"""Trained weights as files: written with the agent's own ``save``, read back with its class's
``load`` (SB3 models through their SB3 class), identified on a board by their sha256."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import gymnasium as gym

from gauntlet.registry import AgentSpec, load_object


def weights_suffix(model: Any) -> str:
    """SB3 writes zip archives (and appends ``.zip`` to a path without it); Gauntlet's own
    agents write one file in a format of their own."""
    from stable_baselines3.common.base_class import BaseAlgorithm

    return ".zip" if isinstance(model, BaseAlgorithm) else ".weights"


def save_weights(model: Any, stem: str | Path) -> Path:
    """``model.save(stem + suffix)``; returns the file written."""
    if not callable(getattr(model, "save", None)):
        raise ValueError(f"{type(model).__name__} has no save(path): its weights cannot be kept")
    path = Path(stem).with_suffix(weights_suffix(model))
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    if not path.is_file():
        raise RuntimeError(f"{type(model).__name__}.save({path}) wrote no file at {path}")
    return path


def agent_class(spec: AgentSpec, env: gym.Env, task_id: str) -> type:
    """The class whose ``load`` reads this agent's weights: the factory itself when it is a
    class, else the class of the object the factory builds for this env (SB3's ``PPO`` or
    ``MaskablePPO`` from ``make_ppo``, say)."""
    from gauntlet.bench.runner import make_agent

    factory = load_object(spec.factory)
    if inspect.isclass(factory):
        return factory
    return type(make_agent(spec, env, task_id, seed=0))


def load_weights(spec: AgentSpec, path: str | Path, env: gym.Env, task_id: str) -> Any:
    """The agent saved at ``path``, loaded by its class's ``load(path, env=env)``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no weights file {path}")
    cls = agent_class(spec, env, task_id)
    if not callable(getattr(cls, "load", None)):
        raise ValueError(f"agent {spec.name!r} ({cls.__name__}) has no load(path): it cannot be re-evaluated from weights")
    try:
        return cls.load(path, env=env)
    except Exception as exc:  # a wrong or corrupt file: say which file and which loader refused it
        raise ValueError(f"{path}: {cls.__name__}.load could not read it: {type(exc).__name__}: {exc}") from exc
