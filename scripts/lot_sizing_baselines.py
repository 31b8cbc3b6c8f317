"""Mean episode cost and wall time of the LotSizing OR baselines (and random) on common seeds.

    OMP_NUM_THREADS=1 python scripts/lot_sizing_baselines.py --task gauntlet/LotSizing-15x5-v0 \
        --agents random,base-stock,newsvendor,rolling-milp,perfect-info --seeds 1000-1009

Prints one line per episode (flushed, so a long run can be watched) and a summary per agent:
mean/std cost, fill rate, setups per period, construction time (base-stock tuning) and seconds
per episode; for perfect-info also the lower bound and the plan cost per episode, for
rolling-milp the periods that fell back to base-stock. ``--agent-kwargs`` takes JSON, e.g.
``'{"rolling-milp": {"time_limit": 2.0}}'``. MILP results depend on machine speed via the
HiGHS time limits.
"""

from __future__ import annotations

import argparse
import json
import time

import gymnasium as gym
import numpy as np

import gauntlet  # noqa: F401
from gauntlet.bench.runner import evaluate
from gauntlet.envs.lot_sizing.env import episode_metrics
from gauntlet.registry import get_agent, load_object


def seed_range(text: str) -> list[int]:
    low, _, high = text.partition("-")
    return list(range(int(low), int(high or low) + 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="gauntlet/LotSizing-15x5-v0")
    parser.add_argument("--agents", default="random,base-stock,newsvendor,rolling-milp,perfect-info")
    parser.add_argument("--seeds", default="1000-1009", help="inclusive range, e.g. 1000-1009")
    parser.add_argument("--train-seed", type=int, default=0)
    parser.add_argument("--agent-kwargs", default="{}", help="JSON: {agent name: {kwarg: value}}")
    args = parser.parse_args()
    seeds = seed_range(args.seeds)
    agent_kwargs = json.loads(args.agent_kwargs)

    env = gym.make(args.task)
    for name in args.agents.split(","):
        start = time.perf_counter()
        agent = load_object(get_agent(name).factory)(env, seed=args.train_seed, **agent_kwargs.get(name, {}))
        built = time.perf_counter() - start
        rows = []
        for seed in seeds:
            fallbacks = getattr(agent, "fallbacks", 0)
            tic = time.perf_counter()
            (result,) = evaluate(agent, env, [seed], episode_metrics=episode_metrics)
            row = {"seed": seed, "cost": result.metrics["cost"], "fill_rate": result.metrics["fill_rate"],
                   "setups_per_period": result.metrics["setups_per_period"], "seconds": time.perf_counter() - tic}
            if name == "perfect-info":
                row.update(lower_bound=agent.lower_bound, plan_cost=agent.plan_cost, optimal=agent.optimal)
            if hasattr(agent, "fallbacks"):
                row["fallbacks"] = agent.fallbacks - fallbacks
            rows.append(row)
            print(name, json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
        cost = np.array([r["cost"] for r in rows])
        summary = {
            "cost_mean": cost.mean(), "cost_std": cost.std(),
            "fill_rate": np.mean([r["fill_rate"] for r in rows]),
            "setups_per_period": np.mean([r["setups_per_period"] for r in rows]),
            "construct_s": built, "seconds_per_episode": np.mean([r["seconds"] for r in rows]),
        }
        if name == "perfect-info":
            summary["lower_bound_mean"] = np.mean([r["lower_bound"] for r in rows])
        if hasattr(agent, "fallbacks"):
            summary["fallbacks_per_episode"] = np.mean([r["fallbacks"] for r in rows])
        if hasattr(agent, "reorder_cover"):
            summary["covers"] = [agent.reorder_cover, agent.order_up_to_cover]
        print("SUMMARY", name, json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in summary.items()}),
              flush=True)


if __name__ == "__main__":
    main()
