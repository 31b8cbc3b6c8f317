"""Check that MECOffloading-v1's cloud is a real option: every baseline on the front, random's HV > 0.

Evaluates every non-learning MECOffloading baseline (and ``random``) under the task's protocol
(E = 6 test contexts, the spec's 11 preferences x 5 episodes, official evaluation seeds) and
pools their mean (delay return, energy return) points, one per agent and preference. It prints

* the reference-point rule and its result: per objective, the worst mean point of any of
  these agents (the nadir of the pool, random included) times ``--margin`` (1.2), rounded
  outward to 2 significant digits, so that every baseline, random included, has its points
  strictly inside the box, i.e. on the hypervolume front with a positive hypervolume;
* every agent's hypervolume at the task's published reference point and its share of tasks
  sent to the cloud (the cloud is a real option when the delay-greedy policy uses it);
* for each baseline the preferences at which its point is not strictly dominated by any
  point of the pool (information: a one-step greedy dominates the fixed heuristics).

It exits with status 1 if a baseline's hypervolume (random's included) is 0 at the published
reference point or if the published point is not the rule's.

    python scripts/check_mec_front.py                     # gauntlet/mo-MECOffloading-v1
    python scripts/check_mec_front.py --task gauntlet/mo-MECOffloading-v0
"""

from __future__ import annotations

import argparse
import math
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402

import gauntlet  # noqa: E402,F401
from gauntlet.bench.multi_objective import hypervolume  # noqa: E402
from gauntlet.bench.runner import make_agent, run  # noqa: E402
from gauntlet.registry import get_agent, get_task  # noqa: E402
from gauntlet.registry.mec_offloading import AGENTS  # noqa: E402

LINUCB = "linucb"


def outward(x: float, digits: int = 2) -> float:
    """Round a negative return ``x`` away from zero to ``digits`` significant digits."""
    scale = 10.0 ** (math.floor(math.log10(abs(x))) - digits + 1)
    return -math.ceil(abs(x) / scale) * scale


def cloud_share(task_id: str, name: str, seeds: list[int]) -> float:
    """Share of the real tasks ``name`` sends to the cloud at w = (0.5, 0.5) on the evaluation contexts."""
    task = get_task(task_id)
    env = gym.make(task_id, **{**task.kwargs, **task.benchmark.eval_env_kwargs})
    agent = make_agent(get_agent(name), env, task_id, 0)
    sent = []
    for seed in seeds:
        obs, info = env.reset(seed=seed, options={"weights": (0.5, 0.5)})
        agent.on_reset(env, obs, info)
        done = False
        while not done:
            action, _ = agent.predict(obs, action_masks=info["action_mask"])
            real = env.unwrapped.core.head_size[0] > 0
            obs, _, terminated, truncated, info = env.step(action)
            agent.on_step(obs, None, terminated, truncated, info)
            if real:
                sent.append(int(action) == 0)
            done = terminated or truncated
    return float(np.mean(sent))


def not_dominated(points: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Per point: no point of the pool is >= in both objectives and > in one (ties count as on the front)."""
    ge = (pool[None, :, :] >= points[:, None, :]).all(-1)
    gt = (pool[None, :, :] > points[:, None, :]).any(-1)
    return ~(ge & gt).any(1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="gauntlet/mo-MECOffloading-v1")
    parser.add_argument("--margin", type=float, default=1.2)
    args = parser.parse_args()
    spec = get_task(args.task).benchmark
    names = ["random"] + [a.name for a in AGENTS if a.kind == "baseline" and not a.learns]
    weights = np.asarray(spec.preference_weights)
    points, cloud = {}, {}
    for name in names:
        rec = run(args.task, name, total_timesteps=0)
        points[name] = np.asarray(rec.episode_returns, dtype=float).reshape(len(weights), -1, 2).mean(1)
        cloud[name] = cloud_share(args.task, name, rec.eval_seeds)
    pool = np.concatenate(list(points.values()))
    nadir = pool.min(axis=0)
    rule = tuple(outward(v * args.margin) for v in nadir)
    ref = tuple(spec.hv_ref_point)
    print(f"{args.task}: {len(weights)} preferences x {spec.eval_episodes} episodes, E=6 test contexts")
    print(f"nadir of the pooled mean points {tuple(round(float(v), 2) for v in nadir)}; rule (x{args.margin}, 2 significant "
          f"digits outward) -> {rule}; published reference point {ref}")
    print(f"{'agent':20s} {'HV':>12s} {'delay ret':>10s} {'energy ret':>11s} {'cloud':>6s}  "
          f"w_delay where not dominated in the pool")
    failures = []
    for name in names:
        hv = hypervolume(points[name], ref)
        front_w = [float(w[0]) for w, ok in zip(weights, not_dominated(points[name], pool)) if ok]
        mean = points[name].mean(axis=0)
        print(f"{name:20s} {hv:12.1f} {mean[0]:10.2f} {mean[1]:11.2f} {cloud[name]:6.2f}  {front_w}")
        if hv <= 0:
            failures.append(f"{name}'s hypervolume is 0 at the published reference point")
    if rule != ref:
        failures.append(f"the published reference point {ref} is not the rule's {rule}")
    print(f"({LINUCB} learns; it is on the board, not in this check)")
    for f in failures:
        print("FAIL:", f)
    if not failures:
        print("OK: every baseline (random included) has hypervolume > 0 at the published reference point")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
