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

Each figure is the median of ``--repeats`` windows (``--seconds`` in total per measurement), timed
with process CPU time by default (``--clock cpu``), which is steadier than wall time on a shared
machine; ``--clock wall`` uses wall time. ``--kwargs`` (JSON) is passed to every env built, e.g.
FairThreshold's drift mode ``'{"impact_rate": 0.05}'``.

For every family whose env package has numba kernels (``gauntlet/envs/<family>/kernels.py``)
among the selected ids, the script also reports the kernels' compile time: the wall time of
building, resetting and stepping the family's first selected id (single env, then a native vector
env of 2 copies) in a fresh Python process with an empty numba cache (``NUMBA_CACHE_DIR`` set to a
new directory: everything is compiled), then again in a second fresh process that loads what the
first one cached. Their difference is the cold-compile time; ``--no-compile-time`` skips this.

    python scripts/bench_env_speed.py --ids "gauntlet/LotSizing*" --seconds 3 --json speed.json
"""

from __future__ import annotations

import argparse
import fnmatch
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
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
    """Median steps/s over ``repeats`` windows; ``step_once`` returns the env-steps it made."""
    rates = []
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
        rates.append(steps / (now - start))
    return statistics.median(rates)


_FIRST_STEP = """
import json, sys, time
start = time.perf_counter()
import gymnasium as gym
import gauntlet
env_id, kwargs = sys.argv[1], json.loads(sys.argv[2])
env = gym.make(env_id, **kwargs)
env.reset(seed=0)
env.step(env.action_space.sample())
single = time.perf_counter() - start
envs = gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point", **kwargs)
envs.reset(seed=0)
envs.step(envs.action_space.sample())
print(json.dumps({"single": single, "vector": time.perf_counter() - start - single}))
"""


def compile_times(ids: list[str], kwargs: dict[str, Any]) -> list[dict[str, Any]]:
    """Per family with numba kernels (first selected id): wall seconds to a first single-env step
    and a first vector step in fresh processes, with an empty numba cache and with the cache the
    first process wrote."""
    rows = []
    seen = set()
    for task_id in ids:
        package = TASKS[task_id].entry_point.split(":")[0].rsplit(".", 1)[0]
        if package in seen or TASKS[task_id].vector_entry_point is None or importlib.util.find_spec(package + ".kernels") is None:
            continue
        seen.add(package)
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "NUMBA_CACHE_DIR": cache}
            runs = []
            for _ in range(2):
                done = subprocess.run([sys.executable, "-c", _FIRST_STEP, task_id, json.dumps(kwargs)], env=env,
                                      capture_output=True, text=True, check=True)
                runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        cold, warm = runs
        rows.append({"family": package.rsplit(".", 1)[1], "id": task_id,
                     "cold_single_s": cold["single"], "cold_vector_s": cold["vector"],
                     "warm_single_s": warm["single"], "warm_vector_s": warm["vector"],
                     "compile_s": cold["single"] + cold["vector"] - warm["single"] - warm["vector"]})
    return rows


def bench_single(env_id: str, seconds: float, repeats: int, clock: Callable[[], float],
                 kwargs: dict[str, Any] | None = None) -> tuple[float, str]:
    env = gym.make(env_id, **(kwargs or {}))
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


def bench_vector(env_id: str, num_envs: int, seconds: float, repeats: int, clock: Callable[[], float],
                 kwargs: dict[str, Any] | None = None) -> tuple[float, str]:
    envs = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **(kwargs or {}))
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
    parser.add_argument("--repeats", type=int, default=3, help="timing windows per measurement; the median counts")
    parser.add_argument("--num-envs", type=int, default=1024, help="copies in the native vector env")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    parser.add_argument("--kwargs", default="{}", help="JSON object of keyword arguments for every env built")
    parser.add_argument("--no-compile-time", dest="compile_time", action="store_false",
                        help="skip the cold/warm numba compile-time measurement")
    parser.add_argument("--json", dest="json_path", help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    try:
        kwargs = json.loads(args.kwargs)
    except json.JSONDecodeError as err:
        parser.error(f"--kwargs must be a JSON object, got {args.kwargs!r} ({err})")
    if not isinstance(kwargs, dict):
        parser.error(f"--kwargs must be a JSON object, got {args.kwargs!r}")
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
            row["single_steps_per_s"], row["note"] = bench_single(task_id, args.seconds, args.repeats, clock, kwargs)
            row["single_vs_cartpole"] = row["single_steps_per_s"] / cartpole
            if TASKS[task_id].vector_entry_point is not None:
                rate, note = bench_vector(task_id, args.num_envs, args.seconds, args.repeats, clock, kwargs)
                row["vector_steps_per_s"], row["vector_vs_cartpole"] = rate, rate / cartpole
                row["note"] = "; ".join(n for n in (row["note"], note) if n)
        except Exception as err:  # noqa: BLE001 - any env that cannot be built or stepped is reported, not fatal
            row["note"] = f"skipped: {type(err).__name__}: {err}".splitlines()[0][:160]
        rows.append(row)
        console.log(f"{task_id}: {row['note'] or 'done'}")

    extra = f", kwargs {json.dumps(kwargs)}" if kwargs else ""
    table = Table(title=f"Random-action steps/s ({args.clock} time, median of {args.repeats} windows{extra})")
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
    compiled = compile_times(ids, kwargs) if args.compile_time else []
    if compiled:
        times = Table(title="numba kernels: wall seconds to a first step in a fresh process (single env, then vector env)")
        for column in ("family", "id", "cold cache", "warm cache", "compile (cold - warm)"):
            times.add_column(column, justify="left" if column in ("family", "id") else "right")
        for row in compiled:
            times.add_row(row["family"], row["id"], f"{row['cold_single_s']:.1f} + {row['cold_vector_s']:.1f}",
                          f"{row['warm_single_s']:.1f} + {row['warm_vector_s']:.1f}", f"{row['compile_s']:.1f}")
        console.print(times)
    if args.json_path:
        payload = {
            "clock": args.clock,
            "seconds": args.seconds,
            "repeats": args.repeats,
            "statistic": "median",
            "num_envs": args.num_envs,
            "kwargs": kwargs,
            "compile_times": compiled,
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
