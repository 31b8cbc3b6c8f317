"""Collect (node state, strong branching choice) pairs on ``gauntlet/MILPBranching`` instances.

Runs episodes where every node is labelled with full strong branching's choice (and its
scores) and the expert's choice is followed (``--expert-probability`` < 1 follows SCIP's
pseudocost rule at the other nodes); ``--max-per-instance`` moves on to the next instance
after that many nodes. Instance seeds are ``seed, seed + 1, ...``; each
sample records its instance seed so training can hold out whole instances, and the collection is
deterministic given the seed (the instances, SCIP's seed shifts and strong branching all are), so
a file can be rebuilt with the same command. States for a test split (``reproduce_branching.py
--gcnn-test-data``) are collected the same way with seeds no training or validation run used. Output: one
``.npz`` readable by ``gauntlet.agents.gcnn.load_samples``.

    python scripts/collect_strong_branching.py --problem setcover --size small --samples 2000 --out data/sb_setcover_small.npz
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

from gauntlet.agents.gcnn import GCNNImitation, save_samples  # noqa: E402
from gauntlet.envs.milp_branching.env import MILPBranchingEnv  # noqa: E402
from gauntlet.envs.milp_branching.instances import SIZES  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problem", default="setcover", choices=list(SIZES))
    parser.add_argument("--size", default="small", choices=["small", "train", "transfer"])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0, help="first instance seed")
    parser.add_argument("--expert-probability", type=float, default=1.0)
    parser.add_argument("--max-per-instance", type=int, default=None,
                        help="stop an instance's episode after this many labelled nodes (samples from more instances)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    env = MILPBranchingEnv(problem=args.problem, size=args.size)
    collector = GCNNImitation(None, seed=args.seed, expert_probability=args.expert_probability)
    start = time.perf_counter()
    samples = collector.collect(env, args.samples, seed=args.seed, progress_bar=False,
                                max_per_episode=args.max_per_instance)
    env.close()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    save_samples(args.out, samples)
    n_inst = len({s.group for s in samples})
    print(f"{len(samples)} samples from {n_inst} {args.problem}/{args.size} instances in "
          f"{time.perf_counter() - start:.0f} s -> {args.out}")


if __name__ == "__main__":
    main()
