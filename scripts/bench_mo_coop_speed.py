"""Joint steps per second of the MOCoop envs: the PettingZoo env (one world, dict actions) and the
native batched version (``gauntlet.make_parallel_vector``) at a number of worlds.

Random joint actions are sampled before timing; the clock is the process's CPU time, so other
jobs on the machine slow it less than wall time; a warm-up step compiles (or loads) the kernels.

    OMP_NUM_THREADS=1 python scripts/bench_mo_coop_speed.py --seconds 2 --worlds 1024
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import gauntlet

IDS = ("gauntlet/MOCoopNavigation-v0", "gauntlet/MOPredatorPrey-v0")


def single_rate(env_id: str, n_agents: int, seconds: float) -> float:
    env = gauntlet.make_parallel(env_id, n_agents=n_agents)
    env.reset(seed=0)
    actions = np.random.default_rng(0).integers(0, 5, size=(100_000, n_agents)).tolist()
    steps, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        for row in actions[steps % 90_000: steps % 90_000 + 1000]:
            if not env.agents:
                env.reset()
            env.step(dict(zip(env.agents, row)))
        steps += 1000
    return steps / (time.process_time() - start)


def vector_rate(env_id: str, n_agents: int, worlds: int, seconds: float) -> float:
    venv = gauntlet.make_parallel_vector(env_id, num_worlds=worlds, n_agents=n_agents)
    venv.reset(seed=0)
    actions = np.random.default_rng(0).integers(0, 5, size=(16, worlds, n_agents))
    venv.step(actions[0])
    steps, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        venv.step(actions[steps % 16])
        steps += 1
    return steps * worlds / (time.process_time() - start)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=2.0, help="CPU seconds per measurement (default: 2)")
    p.add_argument("--worlds", type=int, default=1024, help="worlds of the batched version (default: 1024)")
    p.add_argument("--agents", type=int, nargs="+", default=[3], help="agent counts (default: 3)")
    args = p.parse_args()
    print(f"| id | agents | single env joint steps/s | batched, {args.worlds} worlds, joint steps/s |")
    print("|---|---|---|---|")
    for env_id in IDS:
        for n in args.agents:
            single = single_rate(env_id, n, args.seconds)
            vector = vector_rate(env_id, n, args.worlds, args.seconds)
            print(f"| {env_id.split('/')[1]} | {n} | {single:,.0f} | {vector:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
