"""One ``render_mode="rgb_array"`` picture per env family, for the README and docs.

For each family this makes one registered id with ``render_mode="rgb_array"``, resets it with a
fixed seed, plays a few steps with a simple policy (a Gauntlet baseline, or a fixed threshold)
and writes the frame ``env.render()`` returns to ``<out>/render_<family>.png``. Frames narrower
than 600 px are enlarged by a whole factor (nearest neighbour) so that they read at the size of
the others; nothing else is changed.

A family whose env cannot draw yet (or whose extra is not installed) fails with the env's own
error; the other families are still written, and the script exits with status 1 naming the ones
that failed.

    python scripts/render_gallery.py                      # all families into docs/img
    python scripts/render_gallery.py lot_sizing esg_portfolio --out /tmp/gallery
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import gymnasium as gym
import numpy as np
from PIL import Image

import gauntlet  # noqa: F401  (registers the ids)

MIN_WIDTH = 600


@dataclass(frozen=True)
class Shot:
    env_id: str
    steps: int
    policy: str
    """``"module:Class"`` of a baseline taking ``(env, seed=...)`` with SB3's ``predict``, or
    ``"threshold:<k>"`` for a fixed discrete action."""
    kwargs: dict[str, Any] = field(default_factory=dict)


GALLERY = {
    "lot_sizing": Shot("gauntlet/LotSizing-15x5-v0", 6, "gauntlet.baselines.lot_sizing:NewsvendorAgent"),
    "fair_threshold": Shot("gauntlet/FairThreshold-Synthetic-v0", 12, "threshold:27", {"rho": 0.3}),
    "agv_warehouse": Shot("gauntlet/AGVWarehouse-ComplexDynamic-v1", 30, "gauntlet.baselines.agv_warehouse:StraightToGoalAgent"),
    "esg_portfolio": Shot("gauntlet/ESGPortfolio-Regulated-v0", 250, "gauntlet.baselines.esg_portfolio:ESGTiltedAgent"),
    # the mo- id: 6 of 10 edges present, so the picture shows the masked servers too
    "mec_offloading": Shot("gauntlet/mo-MECOffloading-v0", 30, "gauntlet.baselines.mec_offloading:GreedyScalarizedAgent"),
    # the train size: small instances are solved in a handful of nodes, a train-size tree after 60
    # decisions shows open, pruned and branched nodes (about 15 s)
    "milp_branching": Shot("gauntlet/MILPBranching-SetCover-v0", 60, "gauntlet.baselines.milp_branching:PseudocostAgent"),
    # the ego waiting at the junction for crossing traffic, with its lidar beams
    "driving": Shot("gauntlet/mo-Driving-Intersection-High-v0", 70, "gauntlet.baselines.driving:IDMControllerAgent",
                    {"observation": "lidar"}),
    # mid-morning of the 8 x 40 day under the greedy dispatcher: aircraft in flight, queues, closures
    "uam_fleet": Shot("gauntlet/UAMFleet-v0", 150, "gauntlet.baselines.uam_fleet:GreedyAgent"),
    # a PettingZoo env: every agent samples its own action space (seeded)
    "mo_coop": Shot("gauntlet/MOCoopNavigation-v0", 8, "random", {"n_agents": 4}),
}


def _policy(spec: str, env: gym.Env, seed: int) -> Callable[[Any], Any]:
    kind, _, target = spec.partition(":")
    if kind == "threshold":
        return lambda obs: int(target)
    agent = getattr(importlib.import_module(kind), target)(env, seed=seed)
    return lambda obs: agent.predict(obs, deterministic=True)[0]


def frame(shot: Shot, seed: int) -> np.ndarray:
    """The picture after ``shot.steps`` steps (fewer if the episode ends first)."""
    if gauntlet.registry.get_task(shot.env_id).multi_agent:
        return _scaled(_parallel_frame(shot, seed), shot.env_id)
    env = gym.make(shot.env_id, render_mode="rgb_array", **shot.kwargs)
    try:
        act = _policy(shot.policy, env, seed)
        obs, _ = env.reset(seed=seed)
        for _ in range(shot.steps):
            obs, _, terminated, truncated, _ = env.step(act(obs))
            if terminated or truncated:
                break
        image = env.render()
    finally:
        env.close()
    return _scaled(image, shot.env_id)


def _parallel_frame(shot: Shot, seed: int) -> np.ndarray:
    env = gauntlet.make_parallel(shot.env_id, render_mode="rgb_array", **shot.kwargs)
    env.reset(seed=seed)
    for i, agent in enumerate(env.possible_agents):
        env.action_space(agent).seed(seed + i)
    for _ in range(shot.steps):
        if not env.agents:
            break
        env.step({agent: env.action_space(agent).sample() for agent in env.agents})
    return env.render()


def _scaled(image: Any, env_id: str) -> np.ndarray:
    if not (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3):
        raise TypeError(f"{env_id}: render() returned {type(image).__name__}, not an (H, W, 3) uint8 array")
    scale = math.ceil(MIN_WIDTH / image.shape[1])
    return np.repeat(np.repeat(image, scale, axis=0), scale, axis=1) if scale > 1 else image


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("families", nargs="*", metavar="family",
                        help=f"families to draw (default: all of {', '.join(GALLERY)})")
    parser.add_argument("--out", type=Path, default=Path("docs/img"), help="output folder (default: docs/img)")
    parser.add_argument("--seed", type=int, default=0, help="reset seed (default: 0)")
    args = parser.parse_args(argv)
    unknown = [f for f in args.families if f not in GALLERY]
    if unknown:
        parser.error(f"unknown families {unknown}; allowed: {', '.join(GALLERY)}")
    args.out.mkdir(parents=True, exist_ok=True)
    failed = []
    for family in args.families or list(GALLERY):
        shot = GALLERY[family]
        try:
            image = frame(shot, args.seed)
        except Exception:
            failed.append(family)
            print(f"{family}: {shot.env_id} could not be drawn:\n{traceback.format_exc()}", file=sys.stderr)
            continue
        path = args.out / f"render_{family}.png"
        Image.fromarray(image).save(path)
        print(f"{family}: {shot.env_id}, {shot.steps} steps of {shot.policy}, seed {args.seed} -> {path} "
              f"({image.shape[1]}x{image.shape[0]})")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
