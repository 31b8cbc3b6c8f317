"""Training speed of PDPPO and SB3 PPO on LotSizing: env steps per second INCLUDING updates.

Both agents are built from the registry with their task settings (the paper's: 400 samples per
update from 8 copies x 50 steps, 40 epochs over the whole rollout, MLP 128-128; PDPPO collects
through the native vector env, SB3 PPO through a DummyVecEnv of 8 copies) and trained for the
same number of steps in the same process, one after the other, on one torch thread. Printed per
run: steps/s on the wall clock, steps/s of this process's CPU time (what one core gives, also
when other jobs share the machine) and the minutes of CPU a 1M-step run takes at that rate::

    OMP_NUM_THREADS=1 python scripts/bench_training_speed.py                  # 15x5 and 25x15
    OMP_NUM_THREADS=1 python scripts/bench_training_speed.py --tasks 15x5 --timesteps 4000
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import torch

import gauntlet  # noqa: F401  (registers the env ids)
from gauntlet.bench.runner import make_agent
from gauntlet.registry import get_agent, get_task

DEFAULT_AGENTS = ("pdppo", "ppo")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tasks", nargs="+", default=["15x5", "25x15"], help="task ids or short names (default: %(default)s)")
    p.add_argument("--agents", nargs="+", default=list(DEFAULT_AGENTS), help="agents (default: %(default)s)")
    p.add_argument("--timesteps", type=int, default=8000,
                   help="training steps per run, whole updates of 400 (default: %(default)s)")
    args = p.parse_args()
    args.tasks = [t if t.startswith("gauntlet/") else f"gauntlet/LotSizing-{t}-v0" for t in args.tasks]
    for task in args.tasks:
        get_task(task)
    for name in args.agents:
        if not get_agent(name).learns:
            p.error(f"--agents: {name!r} does not learn")
    if args.timesteps < 1:
        p.error(f"--timesteps must be >= 1, got {args.timesteps}")
    return args


def measure(task: str, agent: str, timesteps: int) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, steps done) of one ``learn(timesteps)``, construction excluded."""
    env = gym.make(task)
    model = make_agent(get_agent(agent), env, task, seed=0)
    wall, cpu = time.perf_counter(), time.process_time()
    model.learn(total_timesteps=timesteps)
    return time.perf_counter() - wall, time.process_time() - cpu, int(model.num_timesteps)


def main() -> None:
    args = parse_args()
    torch.set_num_threads(1)
    print(f"{'task':<28}{'agent':<10}{'steps':>8}{'steps/s wall':>14}{'steps/s CPU':>13}{'CPU min per 1M':>16}")
    for task in args.tasks:
        for agent in args.agents:
            wall, cpu, steps = measure(task, agent, args.timesteps)
            print(f"{task.removeprefix('gauntlet/'):<28}{agent:<10}{steps:>8}{steps / wall:>14,.0f}{steps / cpu:>13,.0f}"
                  f"{1e6 / (steps / cpu) / 60:>16.1f}", flush=True)


if __name__ == "__main__":
    main()
