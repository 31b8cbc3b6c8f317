"""Random-action throughput of every registered Gauntlet env, relative to CartPole-v1.

For each task id in ``gauntlet.registry.TASKS`` (filtered by ``--ids``) this measures

* the single env built with ``gym.make`` (all default wrappers), stepping pre-sampled random
  actions and resetting at episode end, and
* where the id has a ``vector_entry_point``, the native vector env built with
  ``gym.make_vec(id, num_envs=N, vectorization_mode="vector_entry_point")`` (autoreset inside),

and prints both next to Gymnasium's CartPole-v1 (single env, ``gym.make``) measured in the same
run right before each id, so a change in machine load between ids does not skew the ratios. Actions are drawn
before timing; envs exposing ``info["action_mask"]`` get actions valid under the mask seen at
reset. If such an env rejects them (a state-dependent mask), it is measured again sampling each
action from the current mask inside the timed loop, and the row says so. An id whose module is
missing or fails to build is listed as skipped with the reason.

Each figure is the best of ``--repeats`` windows (``--seconds`` in total per measurement), timed
with process CPU time by default (``--clock cpu``), which is steadier than wall time on a shared
machine; ``--clock wall`` uses wall time.

    python scripts/bench_env_speed.py --ids "gauntlet/LotSizing*" --seconds 3 --json speed.json
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import platform
import sys
import time
from typing import Any, Callable

import gymnasium as gym
import numpy as np
from rich.console import Console
from rich.table import Table

import gauntlet
from gauntlet.registry import TASKS

N_PRESAMPLED = 1000


def _clock(kind: str) -> Callable[[], float]:
    return time.process_time if kind == "cpu" else time.perf_counter


def _masked_sample(space: gym.Space, mask: np.ndarray, rng: np.random.Generator) -> Any:
    """A uniformly random action valid under an sb3-contrib style mask (one env)."""
    if isinstance(space, gym.spaces.Discrete):
        return space.start + int(rng.choice(np.flatnonzero(mask)))
    if isinstance(space, gym.spaces.MultiDiscrete):
        out = np.empty(space.nvec.shape, dtype=space.dtype)
        offset = 0
        for i, n in enumerate(space.nvec.ravel()):
            out.flat[i] = int(rng.choice(np.flatnonzero(mask[offset : offset + n])))
            offset += n
        return out
    raise TypeError(f"masks are supported for Discrete and MultiDiscrete spaces, not {space}")


def _masked_sample_batch(single: gym.Space, num_envs: int, masks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random valid actions for a batch of envs with single-env space ``single`` (Discrete or
    MultiDiscrete): per dimension, the argmax of uniform noise on the allowed values."""
    if isinstance(single, gym.spaces.Discrete):
        return single.start + np.argmax(rng.random(masks.shape) * masks, axis=1)
    if not isinstance(single, gym.spaces.MultiDiscrete):
        raise TypeError(f"masks are supported for Discrete and MultiDiscrete spaces, not {single}")
    nvec = single.nvec.ravel()
    out = np.empty((num_envs, nvec.size), dtype=single.dtype)
    offset = 0
    for i, n in enumerate(nvec):
        out[:, i] = np.argmax(rng.random((num_envs, n)) * masks[:, offset : offset + n], axis=1)
        offset += n
    return out.reshape((num_envs, *single.shape)) + single.start


def _rate(step_once: Callable[[], int], seconds: float, repeats: int, clock: Callable[[], float]) -> float:
    """Best steps/s over ``repeats`` windows; ``step_once`` returns the env-steps it made."""
    best = 0.0
    window = seconds / repeats
    batch = 1
    for _ in range(repeats):
        steps = 0
        start = clock()
        while True:
            batch_start = clock()
            for _ in range(batch):
                steps += step_once()
            now = clock()
            # Read the clock rarely for fast envs, but after every step for slow ones.
            if now - batch_start < window / 50:
                batch *= 2
            if now - start >= window:
                break
        best = max(best, steps / (now - start))
    return best


def bench_single(env_id: str, seconds: float, repeats: int, clock: Callable[[], float]) -> tuple[float, str]:
    env = gym.make(env_id)
    rng = np.random.default_rng(0)
    env.action_space.seed(0)
    _, info = env.reset(seed=0)
    mask = info.get("action_mask") if isinstance(info, dict) else None
    if mask is None:
        actions = [env.action_space.sample() for _ in range(N_PRESAMPLED)]
    else:
        actions = [_masked_sample(env.action_space, np.asarray(mask, dtype=bool), rng) for _ in range(N_PRESAMPLED)]
    cursor = [0]

    def presampled() -> int:
        i = cursor[0]
        cursor[0] = i + 1 if i + 1 < N_PRESAMPLED else 0
        _, _, terminated, truncated, _ = env.step(actions[i])
        if terminated or truncated:
            env.reset()
        return 1

    try:
        rate = _rate(presampled, seconds, repeats, clock)
        note = ""
    except (gym.error.InvalidAction, ValueError) as err:
        if mask is None:
            raise
        current = [env.reset(seed=0)[1]["action_mask"]]

        def sampled() -> int:
            _, _, terminated, truncated, step_info = env.step(_masked_sample(env.action_space, np.asarray(current[0], bool), rng))
            current[0] = env.reset()[1]["action_mask"] if terminated or truncated else step_info["action_mask"]
            return 1

        rate = _rate(sampled, seconds, repeats, clock)
        note = f"state-dependent mask ({type(err).__name__}); masked sampling timed"
    env.close()
    return rate, note


def bench_vector(env_id: str, num_envs: int, seconds: float, repeats: int, clock: Callable[[], float]) -> tuple[float, str]:
    envs = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point")
    rng = np.random.default_rng(0)
    envs.action_space.seed(0)
    _, infos = envs.reset(seed=0)
    masks = infos.get("action_mask") if isinstance(infos, dict) else None
    n_batches = 20
    if masks is None:
        actions = [envs.action_space.sample() for _ in range(n_batches)]
    else:
        actions = [_masked_sample_batch(envs.single_action_space, num_envs, np.asarray(masks, dtype=bool), rng) for _ in range(n_batches)]
    cursor = [0]

    def presampled() -> int:
        i = cursor[0]
        cursor[0] = i + 1 if i + 1 < n_batches else 0
        envs.step(actions[i])
        return num_envs

    try:
        rate = _rate(presampled, seconds, repeats, clock)
        note = ""
    except (gym.error.InvalidAction, ValueError) as err:
        if masks is None:
            raise
        current = [envs.reset(seed=0)[1]["action_mask"]]

        def sampled() -> int:
            step_infos = envs.step(_masked_sample_batch(envs.single_action_space, num_envs, np.asarray(current[0], bool), rng))[4]
            current[0] = step_infos["action_mask"]
            return num_envs

        rate = _rate(sampled, seconds, repeats, clock)
        note = f"state-dependent mask ({type(err).__name__}); masked sampling timed"
    envs.close()
    return rate, note


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", default="gauntlet/*", help="glob over task ids (default: all)")
    parser.add_argument("--seconds", type=float, default=2.0, help="timed seconds per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="timing windows per measurement; the best counts")
    parser.add_argument("--num-envs", type=int, default=1024, help="copies in the native vector env")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    parser.add_argument("--json", dest="json_path", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    clock = _clock(args.clock)
    console = Console(width=None if sys.stdout.isatty() else 200)

    ids = [task_id for task_id in TASKS if fnmatch.fnmatchcase(task_id, args.ids)]
    if not ids:
        parser.error(f"no task id matches {args.ids!r}")
    rows: list[dict[str, Any]] = []
    for task_id in ids:
        cartpole, _ = bench_single("CartPole-v1", args.seconds, args.repeats, clock)
        row: dict[str, Any] = {"id": task_id, "cartpole_steps_per_s": cartpole, "single_steps_per_s": None,
                               "single_vs_cartpole": None, "vector_steps_per_s": None, "vector_vs_cartpole": None,
                               "note": ""}
        try:
            row["single_steps_per_s"], row["note"] = bench_single(task_id, args.seconds, args.repeats, clock)
            row["single_vs_cartpole"] = row["single_steps_per_s"] / cartpole
            if TASKS[task_id].vector_entry_point is not None:
                rate, note = bench_vector(task_id, args.num_envs, args.seconds, args.repeats, clock)
                row["vector_steps_per_s"], row["vector_vs_cartpole"] = rate, rate / cartpole
                row["note"] = "; ".join(n for n in (row["note"], note) if n)
        except Exception as err:  # noqa: BLE001 - any env that cannot be built or stepped is reported, not fatal
            row["note"] = f"skipped: {type(err).__name__}: {err}".splitlines()[0][:160]
        rows.append(row)
        console.log(f"{task_id}: {row['note'] or 'done'}")

    table = Table(title=f"Random-action steps/s ({args.clock} time, best of {args.repeats} windows)")
    for column in ("env id", "CartPole-v1", "single", "x CartPole", f"vector ({args.num_envs} envs)", "x CartPole", "note"):
        table.add_column(column, justify="left" if column in ("env id", "note") else "right",
                         no_wrap=column == "env id", overflow="fold")

    def fmt(value: float | None, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    for row in rows:
        table.add_row(
            row["id"], fmt(row["cartpole_steps_per_s"], ",.0f"),
            fmt(row["single_steps_per_s"], ",.0f"), fmt(row["single_vs_cartpole"], ".2f"),
            fmt(row["vector_steps_per_s"], ",.0f"), fmt(row["vector_vs_cartpole"], ".1f"), row["note"],
        )
    console.print(table)
    if args.json_path:
        payload = {
            "clock": args.clock,
            "seconds": args.seconds,
            "repeats": args.repeats,
            "num_envs": args.num_envs,
            "gauntlet_version": gauntlet.__version__,
            "gymnasium_version": gym.__version__,
            "numpy_version": np.__version__,
            "python": platform.python_version(),
            "results": rows,
        }
        with open(args.json_path, "w", encoding="utf-8") as f:
            json.dump(payload, f, indent=2)
    return rows


if __name__ == "__main__":
    main()
