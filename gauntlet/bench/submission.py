"""Submissions: evaluate a user's policy on a task's official leaderboard seeds and add an entry."""

from __future__ import annotations

import hashlib
import importlib
import inspect
import re
from pathlib import Path
from typing import Any

import gymnasium as gym

from gauntlet.bench import leaderboard
from gauntlet.bench.runner import evaluate_run
from gauntlet.registry import get_task, load_object

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")


def load_policy(target: str, env: gym.Env) -> Any:
    """Resolve ``"module:attr"`` to a policy: an object with ``predict``, or a callable that
    takes the env and returns one (a class such as an SB3 algorithm's ``load`` result factory)."""
    try:
        obj = load_object(target)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ValueError(f"cannot load the agent {target!r}: {exc}") from None
    if hasattr(obj, "predict") and not inspect.isclass(obj):
        return obj
    if callable(obj):
        policy = obj(env)
        if hasattr(policy, "predict"):
            return policy
        raise ValueError(f"{target!r} returned {type(policy).__name__}, which has no predict(observation, ...) method")
    raise ValueError(f"{target!r} is neither a policy with predict() nor a callable returning one")


def artifact_hash(target: str, artifact: str | Path | None = None) -> str:
    """sha256 of ``artifact`` (e.g. saved weights) or, without one, of the policy's source file."""
    if artifact is None:
        artifact = inspect.getsourcefile(importlib.import_module(target.partition(":")[0]))
    return hashlib.sha256(Path(artifact).read_bytes()).hexdigest()


def submit(
    target: str,
    task_id: str,
    *,
    submitter: str,
    name: str | None = None,
    directory: str | Path = "leaderboards",
    train_timesteps: int = 0,
    artifact: str | Path | None = None,
    command: str | None = None,
) -> Path:
    """Evaluate ``target`` on ``task_id``'s official seeds and merge a ``submission`` entry."""
    task = get_task(task_id)
    if task.benchmark is None:
        raise ValueError(f"task {task_id!r} has no leaderboard (no benchmark spec)")
    agent_name = name or target.rpartition(":")[2].lower()
    if not _NAME.match(agent_name):
        raise ValueError(f"agent name {agent_name!r} must match {_NAME.pattern}")
    if not submitter.strip():
        raise ValueError("submitter must be a non-empty name")
    if train_timesteps < 0:
        raise ValueError(f"train_timesteps must be >= 0, got {train_timesteps}")
    env = gym.make(task_id)
    policy = load_policy(target, env)
    env.close()
    record = evaluate_run(task_id, agent_name, policy, train_timesteps=train_timesteps, command=command)
    return leaderboard.record(
        [record], kind="submission", submitter=submitter, directory=directory,
        artifact_sha256=artifact_hash(target, artifact),
    )
