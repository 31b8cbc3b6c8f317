"""Overhead of driving SCIP through ``gauntlet/MILPBranching`` versus an inline branching rule.

The same instances are solved (a) through the env (solver thread + queues + padded
observation) and (b) by an ordinary PySCIPOpt branching rule that extracts the same node
graph and applies the same deterministic policy (most fractional) in SCIP's own thread.
Both must build identical trees (same node and LP iteration counts); the overhead is the
relative difference in wall time. A third run uses a plain most-fractional rule without
any observation, to show what the graph extraction itself costs (its tree can differ on ties).

    python scripts/bench_branching_overhead.py --problem setcover --size train --instances 5
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from gauntlet.envs.milp_branching import MILPBranchingEnv, make_model, most_fractional_column, solve_inline  # noqa: E402


def env_solve(env: MILPBranchingEnv, seed: int) -> tuple[dict, float]:
    start = time.perf_counter()
    obs, info = env.reset(seed=seed)
    while True:
        obs, _, terminated, truncated, info = env.step(most_fractional_column(obs["variable_features"], obs["candidates"]))
        if terminated or truncated:
            return info, time.perf_counter() - start


def plain_solve(instance, params) -> tuple[dict, float]:
    from pyscipopt import SCIP_RESULT, Branchrule

    class PlainMostFractional(Branchrule):
        def branchexeclp(self, allowaddcons):
            cands, _, fracs, *_ = self.model.getLPBranchCands()
            f = np.asarray(fracs, dtype=np.float64)
            self.model.branchVar(cands[int(np.argmax(np.minimum(f, 1 - f)))])
            return {"result": SCIP_RESULT.BRANCHED}

    start = time.perf_counter()
    model = make_model(instance, params)
    model.includeBranchrule(PlainMostFractional(), "plain", "plain", priority=666_666, maxdepth=-1, maxbounddist=1.0)
    model.optimize()
    return {"nodes": model.getNNodes()}, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problem", default="setcover")
    parser.add_argument("--size", default="train")
    parser.add_argument("--instances", type=int, default=5)
    parser.add_argument("--node-limit", type=int, default=1000, help="SCIP limits/nodes for every solve")
    args = parser.parse_args()

    env = MILPBranchingEnv(problem=args.problem, size=args.size, scip_params={"limits/nodes": args.node_limit})
    t_env = t_inline = t_plain = 0.0
    nodes_total = 0
    print(f"{'seed':>5} {'nodes':>7} {'env s':>8} {'inline s':>9} {'plain s':>8} identical")
    for seed in range(args.instances):
        info, te = env_solve(env, seed)
        # build time of the model counts in both: the env builds it inside reset()
        start = time.perf_counter()
        inline = solve_inline(env.last_instance, env.last_params,
                              lambda g: most_fractional_column(g.variable_features, g.candidates))
        ti = time.perf_counter() - start
        plain, tp = plain_solve(env.last_instance, env.last_params)
        same = inline["nodes"] == info["nodes"] and inline["lp_iterations"] == info["lp_iterations"]
        if not same:
            raise SystemExit(f"seed {seed}: env and inline trees differ: {info['nodes']} vs {inline['nodes']} nodes")
        t_env, t_inline, t_plain = t_env + te, t_inline + ti, t_plain + tp
        nodes_total += int(info["nodes"])
        print(f"{seed:>5} {int(info['nodes']):>7} {te:>8.2f} {ti:>9.2f} {tp:>8.2f} {same}")
    env.close()
    print(f"\n{args.instances} {args.problem}/{args.size} instances, {nodes_total} nodes, identical trees: True")
    print(f"env vs inline (same observation + policy): {100 * (t_env - t_inline) / t_inline:+.1f}% wall time")
    print(f"inline with observation vs plain rule without: {100 * (t_inline - t_plain) / t_plain:+.1f}% wall time "
          "(cost of building the bipartite graph; plain trees may differ on ties)")


if __name__ == "__main__":
    main()
