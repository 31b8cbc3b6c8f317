"""Submissions: evaluate a user's policy on a task's official leaderboard seeds and add an entry.

The policy is ``module:attr`` (imported and played in this process) or a TorchScript file
(``obs -> action``), played in a child process under a per-episode time limit and a memory limit
(:mod:`gauntlet.bench.sandbox`) and never unpickled; the entry records the file's sha256.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import inspect
import os
import re
import sys
from pathlib import Path
from typing import Any, Iterator

import gymnasium as gym

from gauntlet.bench import leaderboard
from gauntlet.bench.runner import evaluate_run, make_task_env
from gauntlet.registry import get_task, load_object

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")


_ALLOWED = ("an object with predict(observation, state=None, episode_start=None, deterministic=True), "
            "or a callable taking the env that returns one (e.g. a class whose __init__(self, env) builds the policy)")


@contextlib.contextmanager
def importable_cwd() -> Iterator[None]:
    """Let ``import`` find modules in the current directory, as ``python -m`` does (the
    ``gauntlet`` command's own ``sys.path`` starts with its script directory instead); the
    previous ``sys.path`` comes back on exit."""
    saved = list(sys.path)
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        yield
    finally:
        sys.path[:] = saved


def load_policy(target: str, env: gym.Env) -> Any:
    """Resolve ``"module:attr"`` to a policy: an object with ``predict``, or a callable that
    takes the env and returns one (a class such as an SB3 algorithm's ``load`` result factory)."""
    try:
        obj = load_object(target)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ValueError(f"cannot load the agent {target!r} (from the current directory {os.getcwd()} or the "
                         f"installed packages): {exc}") from None
    if hasattr(obj, "predict") and not inspect.isclass(obj):
        return obj
    if callable(obj):
        try:
            inspect.signature(obj).bind(env)
        except TypeError as exc:
            raise ValueError(f"{target!r} cannot be called with the env ({exc}); --agent must name {_ALLOWED}") from None
        except ValueError:
            pass  # no signature to inspect (a builtin): let the call decide
        policy = obj(env)
        if hasattr(policy, "predict"):
            return policy
        raise ValueError(f"{target!r} returned {type(policy).__name__}, which has no predict() method; "
                         f"--agent must name {_ALLOWED}")
    raise ValueError(f"{target!r} (type {type(obj).__name__}) is neither a policy nor callable; --agent must name {_ALLOWED}")


def is_policy_file(target: str) -> bool:
    """A file path (a TorchScript policy) rather than ``module:attr``."""
    return ":" not in target or Path(target).is_file()


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
    replace: bool = False,
    episode_time_limit_s: float = 60.0,
    memory_limit_mb: int = 4096,
) -> Path:
    """Evaluate ``target`` on ``task_id``'s official seeds and merge a ``submission`` entry
    (``replace``: replace this submitter's entry of that name even if its config differs).

    ``target`` is ``module:attr`` or a TorchScript file; the limits apply to TorchScript files."""
    task = get_task(task_id)
    if task.benchmark is None:
        raise ValueError(f"task {task_id!r} has no leaderboard (no benchmark spec)")
    torchscript = is_policy_file(target)
    agent_name = name or (Path(target).stem if torchscript else target.rpartition(":")[2]).lower()
    if not _NAME.match(agent_name):
        raise ValueError(f"agent name {agent_name!r} must match {_NAME.pattern}")
    if not submitter.strip():
        raise ValueError("submitter must be a non-empty name")
    if train_timesteps < 0:
        raise ValueError(f"train_timesteps must be >= 0, got {train_timesteps}")
    if torchscript:
        from gauntlet.bench.runner import RunRecord
        from gauntlet.bench.sandbox import evaluate_torchscript

        record = RunRecord(**evaluate_torchscript(
            target, task_id, agent_name, train_timesteps=train_timesteps, episode_time_limit_s=episode_time_limit_s,
            memory_limit_mb=memory_limit_mb, command=command))
        return leaderboard.record([record], kind="submission", submitter=submitter, directory=directory,
                                  artifact_sha256=artifact_hash(target, artifact or target), replace=replace)
    with importable_cwd():  # the policy's module, and whatever it imports while it plays
        env = make_task_env(task_id)
        policy = load_policy(target, env)
        env.close()
        record = evaluate_run(task_id, agent_name, policy, train_timesteps=train_timesteps, command=command)
        sha256 = artifact_hash(target, artifact)
    return leaderboard.record(
        [record], kind="submission", submitter=submitter, directory=directory, artifact_sha256=sha256, replace=replace,
    )
