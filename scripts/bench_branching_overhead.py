"""Overhead of driving SCIP through ``gauntlet/MILPBranching`` versus an inline branching rule.

The same instances are solved (a) through the env (solver thread + queues + padded
observation) and (b) by an ordinary PySCIPOpt branching rule that extracts the same node
graph and applies the same deterministic policy (most fractional) in SCIP's own thread.
Both must build identical trees (same node and LP iteration counts); the overhead is the
relative difference in time: process CPU time (robust on a shared machine; covers both
threads) and wall time, each the minimum over ``--repeats`` interleaved runs. A third run uses a plain most-fractional rule without
any observation, to show what the graph extraction itself costs (its tree can differ on ties).

    python scripts/bench_branching_overhead.py --problem setcover --size train --instances 5
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from gauntlet.envs.milp_branching.env import MILPBranchingEnv, make_model, most_fractional_column, solve_inline  # noqa: E402


def timed(fn, *args):
    """(result, cpu seconds, wall seconds) of ``fn(*args)``."""
    cpu, wall = time.process_time(), time.perf_counter()
    out = fn(*args)
    return out, time.process_time() - cpu, time.perf_counter() - wall


def env_solve(env: MILPBranchingEnv, seed: int) -> dict:
    obs, info = env.reset(seed=seed)
    while True:
        obs, _, terminated, truncated, info = env.step(most_fractional_column(obs["variable_features"], obs["candidates"]))
        if terminated or truncated:
            return info


def inline_solve(instance, params) -> dict:
    return solve_inline(instance, params, lambda g: most_fractional_column(g.variable_features, g.candidates))


def plain_solve(instance, params) -> dict:
    from pyscipopt import SCIP_RESULT, Branchrule

    class PlainMostFractional(Branchrule):
        def branchexeclp(self, allowaddcons):
            cands, _, fracs, *_ = self.model.getLPBranchCands()
            f = np.asarray(fracs, dtype=np.float64)
            self.model.branchVar(cands[int(np.argmax(np.minimum(f, 1 - f)))])
            return {"result": SCIP_RESULT.BRANCHED}

    model = make_model(instance, params)
    model.includeBranchrule(PlainMostFractional(), "plain", "plain", priority=666_666, maxdepth=-1, maxbounddist=1.0)
    model.optimize()
    return {"nodes": model.getNNodes()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problem", default="setcover")
    parser.add_argument("--size", default="train")
    parser.add_argument("--instances", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2, help="interleaved runs per instance; the minimum counts")
    parser.add_argument("--node-limit", type=int, default=1000, help="SCIP limits/nodes for every solve")
    args = parser.parse_args()

    env = MILPBranchingEnv(problem=args.problem, size=args.size, scip_params={"limits/nodes": args.node_limit})
    totals = np.zeros((3, 2))  # rows: env, inline, plain; columns: cpu, wall
    nodes_total = 0
    print(f"{'seed':>5} {'nodes':>7} {'env cpu/wall s':>15} {'inline cpu/wall s':>18} {'plain cpu/wall s':>17} identical")
    for seed in range(args.instances):
        best = np.full((3, 2), np.inf)
        for _ in range(args.repeats):
            # the env builds the model inside reset(); the inline runs build theirs too
            info, *t_env = timed(env_solve, env, seed)
            inline, *t_inline = timed(inline_solve, env.last_instance, env.last_params)
            _, *t_plain = timed(plain_solve, env.last_instance, env.last_params)
            if inline["nodes"] != info["nodes"] or inline["lp_iterations"] != info["lp_iterations"]:
                raise SystemExit(f"seed {seed}: env and inline trees differ: {info['nodes']} vs {inline['nodes']} nodes")
            best = np.minimum(best, [t_env, t_inline, t_plain])
        totals += best
        nodes_total += int(info["nodes"])
        print(f"{seed:>5} {int(info['nodes']):>7} {best[0, 0]:>7.2f}/{best[0, 1]:<7.2f} {best[1, 0]:>9.2f}/{best[1, 1]:<8.2f}"
              f" {best[2, 0]:>8.2f}/{best[2, 1]:<8.2f} True")
    env.close()
    over = 100 * (totals[0] - totals[1]) / totals[1]
    extract = 100 * (totals[1] - totals[2]) / totals[2]
    print(f"\n{args.instances} {args.problem}/{args.size} instances, {nodes_total} nodes, identical trees: True")
    print(f"env vs inline (same observation + policy): {over[0]:+.1f}% CPU time, {over[1]:+.1f}% wall time")
    print(f"inline with observation vs plain rule without: {extract[0]:+.1f}% CPU, {extract[1]:+.1f}% wall "
          "(cost of building the bipartite graph; plain trees may differ on ties)")


if __name__ == "__main__":
    main()
