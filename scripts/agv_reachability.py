"""Is the sparse AGV task reachable by exploration? Random-policy success and coverage per map.

For each scene and layout seed, plays ``--episodes`` episodes of two untrained policies in the
native vector env and prints their success and collision rates, mean episode length and
coverage: the fraction of the map's free 1 m cells whose area the robot centre entered in at
least one of the episodes. The two policies are the uniform random policy
(``action_space.sample()``) and the policy an SB3 PPO agent starts from (a Gaussian centred at 0
with unit standard deviation, clipped to the box), both in the symmetric action box of v1.

    python scripts/agv_reachability.py                                  # the four fixed-map ids
    python scripts/agv_reachability.py --scenes simple-static --layout-seeds 0 1 2 3
    python scripts/agv_reachability.py --procedural                     # new warehouse each episode
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np

import gauntlet  # noqa: F401  (registers the env ids)
from gauntlet.envs.agv_warehouse import geometry as geo
from gauntlet.registry import get_task

SCENES = {"simple-static": "SimpleStatic", "simple-dynamic": "SimpleDynamic",
          "complex-static": "ComplexStatic", "complex-dynamic": "ComplexDynamic"}
POLICIES = ("uniform", "gaussian")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenes", nargs="+", default=list(SCENES), choices=list(SCENES))
    p.add_argument("--layout-seeds", nargs="+", type=int, default=None,
                   help="fixed maps to check (default: each scene id's own layout seed)")
    p.add_argument("--procedural", action="store_true", help="the -Procedural ids instead of fixed maps")
    p.add_argument("--episodes", type=int, default=1000, help="episodes per policy and map (default: %(default)s)")
    p.add_argument("--num-envs", type=int, default=64, help="copies stepped together (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    for name in ("episodes", "num_envs"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    return args


def explore(env_id: str, kwargs: dict, policy: str, episodes: int, num_envs: int, seed: int) -> dict[str, float]:
    """Success, collision, mean length and coverage of ``policy`` over ``episodes`` episodes."""
    env = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)
    rng = np.random.default_rng(seed)
    env.action_space.seed(seed)
    env.reset(seed=seed)
    layout = env.unwrapped.fixed_layout
    free = None if layout is None else ~layout.grid
    visited = None if free is None else np.zeros_like(free)
    outcomes: list[tuple[bool, bool, int]] = []
    started = num_envs
    active = np.ones(num_envs, dtype=bool)
    while len(outcomes) < episodes:
        if policy == "uniform":
            actions = env.action_space.sample()
        else:
            actions = np.clip(rng.standard_normal((num_envs, 2)), -1.0, 1.0).astype(np.float32)
        _, _, term, trunc, info = env.step(actions)
        if visited is not None:
            cells = np.floor(info["position"][active]).astype(int)
            visited[cells[:, 1].clip(0, free.shape[0] - 1), cells[:, 0].clip(0, free.shape[1] - 1)] = True
        for i in np.flatnonzero((term | trunc) & active):
            outcomes.append((bool(info["is_success"][i]), bool(info["collision"][i]), int(info["steps"][i])))
            # only as many episodes as asked for are started, so the result is the first N of each copy
            active[i] = started < episodes
            started += 1
    env.close()
    out = np.array(outcomes[:episodes], dtype=float)
    return {
        "success": float(out[:, 0].mean()),
        "collision": float(out[:, 1].mean()),
        "length": float(out[:, 2].mean()),
        "coverage": float("nan") if visited is None else float((visited & free).sum() / free.sum()),
    }


def main() -> None:
    args = parse_args()
    print(f"{args.episodes} episodes per policy; coverage = fraction of free 1 m cells entered in any episode")
    print("| map | policy | success | collision | mean length (steps) | coverage |")
    print("|---|---|---|---|---|---|")
    for scene in args.scenes:
        env_id = f"gauntlet/AGVWarehouse-{SCENES[scene]}{'-Procedural' if args.procedural else ''}-v1"
        own = get_task(env_id).kwargs.get("layout_seed")
        seeds = [own] if args.procedural or args.layout_seeds is None else args.layout_seeds
        for layout_seed in seeds:
            kwargs = {} if layout_seed is None or layout_seed == own else {"layout_seed": layout_seed}
            label = env_id if not kwargs else f"{env_id} layout_seed={layout_seed}"
            if layout_seed is not None:
                lay = geo.fixed_map(scene, layout_seed)
                label += f" (start {lay.start}, goal {lay.goal})"
            for policy in POLICIES:
                r = explore(env_id, kwargs, policy, args.episodes, args.num_envs, args.seed)
                print(f"| {label} | {policy} | {r['success']:.3f} | {r['collision']:.3f} | {r['length']:.0f} | "
                      f"{r['coverage']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
