"""TorchScript submissions, evaluated in a child process with a per-episode time limit and a
memory limit.

A TorchScript file (``torch.jit.script(policy).save(path)``) maps one observation (a float32
tensor) to one action. It is checked to be a TorchScript archive (a zip with a ``code/``
directory) before anything reads it, and loaded only by ``torch.jit.load``, whose TorchScript
unpickler restores tensors and TorchScript classes only: a pickle (``torch.save`` of a module, a
plain ``pickle``) is refused, never unpickled.

The child process caps its address space (``RLIMIT_AS``), loads the policy, plays the task's
protocol and sends its run record back as JSON. It reports each episode's start; the parent
kills it when an episode outlasts the time limit, and turns a crash, an allocation over the
memory limit or a malformed action into a :class:`SubmissionError` naming what happened.
"""

from __future__ import annotations

import json
import multiprocessing
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

STARTUP_TIMEOUT_S = 300.0
"""How long the child may take to import, load the policy and build the env (not an episode)."""


class SubmissionError(ValueError):
    """The submission crashed, hung, ran out of memory or is not a TorchScript policy."""


def check_torchscript(path: str | Path) -> Path:
    """``path`` if it is a TorchScript archive; a clear error (without unpickling it) otherwise."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no policy file {path} (--agent is module:attr or a TorchScript file)")
    export = "export the policy with torch.jit.script(policy).save(path) (or torch.jit.trace)"
    if not zipfile.is_zipfile(path):
        raise SubmissionError(f"{path} is not TorchScript (not a zip archive; a pickle is never loaded): {export}")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    if not any("/code/" in name for name in names):
        raise SubmissionError(f"{path} is a torch archive without TorchScript code (torch.save of a module or of "
                              f"weights is a pickle, which is never loaded): {export}")
    return path


class TorchScriptPolicy:
    """``predict`` for a TorchScript ``obs -> action`` module: the action is shaped and typed
    for the env's action space (an integer for ``Discrete``)."""

    def __init__(self, module: Any, action_space: Any, on_episode: Any = None):
        import gymnasium as gym

        if not isinstance(action_space, (gym.spaces.Discrete, gym.spaces.MultiDiscrete, gym.spaces.MultiBinary,
                                         gym.spaces.Box)):
            raise SubmissionError(f"TorchScript submissions play Box or (Multi)Discrete action spaces, "
                                  f"this task has {action_space}")
        self.module, self.action_space, self.on_episode = module, action_space, on_episode

    def on_reset(self, env: Any, obs: Any, info: Any) -> None:
        if self.on_episode is not None:
            self.on_episode()

    def predict(self, observation: Any, state: Any = None, episode_start: Any = None,
                deterministic: bool = True) -> tuple[Any, Any]:
        import gymnasium as gym
        import torch

        if isinstance(observation, dict):
            raise SubmissionError("TorchScript submissions take array observations; this task's are a dict")
        with torch.no_grad():
            out = self.module(torch.as_tensor(np.asarray(observation), dtype=torch.float32))
        action = np.asarray(out.detach().cpu().numpy() if isinstance(out, torch.Tensor) else out)
        space = self.action_space
        expected = (1,) if isinstance(space, gym.spaces.Discrete) else space.shape
        if action.size != int(np.prod(expected)):
            raise SubmissionError(f"the policy returned an action of shape {action.shape}; {space} needs "
                                  f"{'one integer' if expected == (1,) else f'shape {expected}'}")
        if isinstance(space, gym.spaces.Discrete):
            return int(action.reshape(-1)[0]), state
        return action.reshape(space.shape).astype(space.dtype), state


def evaluate_torchscript(path: str | Path, task_id: str, agent: str, *, train_timesteps: int = 0,
                         episode_time_limit_s: float = 60.0, memory_limit_mb: int = 4096,
                         command: str | None = None) -> dict[str, Any]:
    """The run record (as a dict) of the TorchScript policy at ``path`` on the official seeds,
    measured in a child process under the limits."""
    if episode_time_limit_s <= 0:
        raise ValueError(f"episode_time_limit_s must be > 0, got {episode_time_limit_s}")
    if memory_limit_mb < 256:
        raise ValueError(f"memory_limit_mb must be >= 256 (the child imports torch), got {memory_limit_mb}")
    path = check_torchscript(path)
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing inherited from the caller
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(send, str(path), task_id, agent, train_timesteps, memory_limit_mb, command),
                        daemon=True)
    child.start()
    send.close()
    episode, timeout = None, STARTUP_TIMEOUT_S
    try:
        while True:
            if not receive.poll(timeout):
                what = "loading it" if episode is None else f"episode {episode}"
                limit = f"{timeout:g} s" + ("" if episode is None else " per episode")
                raise SubmissionError(f"{path}: {what} did not finish within {limit}; the evaluation was stopped")
            try:
                message = json.loads(receive.recv_bytes())
            except EOFError:
                child.join(5)
                raise SubmissionError(f"{path}: the evaluation process died (exit code {child.exitcode}) during "
                                      f"{'loading' if episode is None else f'episode {episode}'}; if it ran out of "
                                      f"memory, the limit is {memory_limit_mb} MB") from None
            if "episode" in message:
                episode, timeout = message["episode"], episode_time_limit_s
            elif "error" in message:
                raise SubmissionError(f"{path}: {message['error']}" + (
                    f" (over the memory limit of {memory_limit_mb} MB)" if message.get("memory") else ""))
            else:
                return message["record"]
    finally:
        if child.is_alive():
            child.kill()
        child.join(5)
        receive.close()


def _child(conn: Any, path: str, task_id: str, agent: str, train_timesteps: int, memory_limit_mb: int,
           command: str | None) -> None:
    import resource

    limit = memory_limit_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    def send(message: dict[str, Any]) -> None:
        conn.send_bytes(json.dumps(message).encode())

    try:
        import torch

        from gauntlet.bench.runner import evaluate_run, make_task_env

        torch.set_num_threads(1)
        module = torch.jit.load(path, map_location="cpu")
        module.eval()
        env = make_task_env(task_id)
        episodes = iter(range(10**9))
        policy = TorchScriptPolicy(module, env.action_space, lambda: send({"episode": next(episodes)}))
        env.close()
        record = evaluate_run(task_id, agent, policy, train_timesteps=train_timesteps, command=command)
        send({"record": record.to_dict()})
    except MemoryError:
        send({"error": "MemoryError while evaluating", "memory": True})
    except SubmissionError as exc:
        send({"error": str(exc)})
    except Exception as exc:  # the policy's own failure, for the submitter
        # TorchScript puts the interpreter's traceback first and the policy's own error last.
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        memory = "alloc" in str(exc).lower() and "memory" in str(exc).lower()
        send({"error": f"the policy crashed: {type(exc).__name__}: {lines[-1] if lines else ''}", "memory": memory})
    finally:
        conn.close()
