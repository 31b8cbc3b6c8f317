"""Reproduce GMORL's comparison on MECOffloading (E = 6 test contexts) and measure env speed.

Runs GMORL, LinUCB and every baseline through the benchmark runner under the task's protocol
(``gauntlet/mo-MECOffloading-v0``'s benchmark spec): the learners train with the spec's
``train_env_kwargs`` (the training context distribution, E in 1..8) and every agent is
evaluated with its ``eval_env_kwargs`` (E = 6, test context distribution), over the spec's
preference weights, hypervolume at the spec's fixed reference point, as in the paper's
generalization setting. Writes one leaderboard entry per agent, a Pareto-front PNG and a JSON
summary, and prints hypervolume ratios next to the paper's (GMORL 64.1, LinUCB 57.9, random
29.0; units not stated, so compare ratios).

    python scripts/reproduce_gmorl.py                      # full run (GMORL at the spec's budget)
    python scripts/reproduce_gmorl.py --gmorl-steps 20000  # quicker
    python scripts/reproduce_gmorl.py --speed-only         # throughput figures only
    python scripts/reproduce_gmorl.py --agents gmorl       # rerun GMORL, reuse the saved baseline runs
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402

import gauntlet  # noqa: E402,F401
from gauntlet.bench import leaderboard  # noqa: E402
from gauntlet.bench.multi_objective import plot_front  # noqa: E402
from gauntlet.bench.runner import RunRecord, run  # noqa: E402
from gauntlet.registry import get_task  # noqa: E402

TASK = "gauntlet/mo-MECOffloading-v0"
BASELINES = ["linucb", "random", "all-cloud", "nearest-edge", "greedy-min-delay", "greedy-min-energy",
             "greedy-scalarized", "least-loaded"]
PAPER_HV = {"gmorl": 64.1, "linucb": 57.9, "random": 29.0}


def steps_per_second(env: gym.Env, seconds: float, masked: bool) -> float:
    rng = np.random.default_rng(0)
    _, info = env.reset(seed=0)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        action = int(rng.choice(np.flatnonzero(info["action_mask"]))) if masked else int(rng.integers(2))
        _, _, terminated, truncated, info = env.step(action)
        n += 1
        if terminated or truncated:
            _, info = env.reset()
    return n / (time.perf_counter() - start)


def vector_steps_per_second(num_envs: int, seconds: float) -> float:
    envs = gym.make_vec(TASK, num_envs=num_envs, vectorization_mode="vector_entry_point")
    _, info = envs.reset(seed=0)
    rng = np.random.default_rng(0)
    edges = info["action_mask"].sum(1)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        # Uniform over the present servers of each copy (masks only change at resets).
        actions = (rng.random(num_envs) * edges).astype(np.int64)
        _, _, _, _, info = envs.step(actions)
        edges = info["action_mask"].sum(1)
        n += 1
    return n * num_envs / (time.perf_counter() - start)


def speed(seconds: float) -> dict[str, float]:
    cart = steps_per_second(gym.make("CartPole-v1"), seconds, masked=False)
    mec = steps_per_second(gym.make("gauntlet/MECOffloading-v0"), seconds, masked=True)
    vec = vector_steps_per_second(1024, seconds)
    out = {"cartpole_steps_per_s": cart, "mec_single_steps_per_s": mec, "mec_single_vs_cartpole": mec / cart,
           "mec_vector1024_steps_per_s": vec}
    for k, v in out.items():
        print(f"  {k:28s} {v:12.3f}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gmorl-steps", type=int, default=None, help="GMORL's budget (default: the task's)")
    parser.add_argument("--linucb-steps", type=int, default=11_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="results/mec_offloading")
    parser.add_argument("--png", default="docs/img/mec_front.png", help="Pareto-front plot")
    parser.add_argument("--leaderboards", default="leaderboards")
    parser.add_argument("--speed-seconds", type=float, default=5.0)
    parser.add_argument("--speed-only", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--no-leaderboard", action="store_true")
    parser.add_argument("--agents", nargs="*", default=["gmorl", *BASELINES],
                        help="agents to (re)run now; the others are loaded from earlier runs in --out")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    summary: dict = {}
    if not args.skip_speed:
        print("throughput (random valid actions, same run):")
        summary["speed"] = speed(args.speed_seconds)
    if args.speed_only:
        print(json.dumps(summary, indent=2))
        return

    spec = get_task(TASK).benchmark
    ref = spec.hv_ref_point
    gmorl_steps = spec.train_timesteps if args.gmorl_steps is None else args.gmorl_steps
    records: dict[str, RunRecord] = {}
    if "gmorl" in args.agents:
        records["gmorl"] = run(TASK, "gmorl", train_seed=args.seed, total_timesteps=gmorl_steps, progress_bar=True)
        records["gmorl"].agent_obj.save(out / "gmorl.pt")
    for name in BASELINES:
        if name in args.agents:
            budget = args.linucb_steps if name == "linucb" else 0
            records[name] = run(TASK, name, train_seed=args.seed, total_timesteps=budget)
    for name, rec in records.items():
        rec.agent_obj = None
        rec.save(out / f"{name}.json")
        print(f"{name}: HV {rec.mo_metrics['hypervolume']:.1f} ({rec.wall_time_s:.0f} s)")
        if not args.no_leaderboard:
            leaderboard.record([rec], kind="reference" if name == "gmorl" else "baseline", directory=args.leaderboards)
    missing = [n for n in ["gmorl", *BASELINES] if n not in records and not (out / f"{n}.json").exists()]
    if missing:
        print(f"no runs yet of {missing} in {out}: run them with --agents to get the comparison")
        return
    for name in ["gmorl", *BASELINES]:
        if name not in records:
            records[name] = RunRecord.load(out / f"{name}.json")

    rows = []
    for name, rec in records.items():
        m = rec.mo_metrics
        delay = float(np.mean([e["mean_delay"] for e in rec.episode_metrics]))
        energy = float(np.mean([e["mean_energy"] for e in rec.episode_metrics]))
        rows.append({"agent": name, "hypervolume": m["hypervolume"], "eum": m["eum"], "cardinality": m["cardinality"],
                     "mean_delay_s": delay, "mean_energy_j": energy, "train_timesteps": rec.train_timesteps,
                     "front": m["front"]})

    hv = {r["agent"]: r["hypervolume"] for r in rows}
    print(f"\nreference point {ref}, weights {len(spec.preference_weights)}, eval seeds {records['gmorl'].eval_seeds}")
    print(f"{'agent':20s} {'HV':>12s} {'EUM':>10s} {'card':>5s} {'delay/task s':>13s} {'energy/task J':>14s}")
    for r in sorted(rows, key=lambda r: -r["hypervolume"]):
        print(f"{r['agent']:20s} {r['hypervolume']:12.1f} {r['eum']:10.2f} {r['cardinality']:5d} "
              f"{r['mean_delay_s']:13.2f} {r['mean_energy_j']:14.4f}")

    def ratio(a: str, b: str) -> float:
        return hv[a] / hv[b] if hv[b] > 0 else float("inf")

    ratios = {"gmorl/linucb": ratio("gmorl", "linucb"), "gmorl/random": ratio("gmorl", "random"),
              "paper gmorl/linucb": PAPER_HV["gmorl"] / PAPER_HV["linucb"],
              "paper gmorl/random": PAPER_HV["gmorl"] / PAPER_HV["random"]}
    for k, v in ratios.items():
        print(f"  {k:20s} {v:8.3f}")
    summary.update({"task": TASK, "ref_point": list(ref), "rows": rows, "ratios": ratios,
                    "gmorl_steps": gmorl_steps, "linucb_steps": args.linucb_steps})

    weights_n = len(spec.preference_weights)
    all_points = {}
    for name, rec in records.items():
        returns = np.asarray(rec.episode_returns, dtype=float)
        all_points[name] = returns.reshape(weights_n, -1, 2).mean(1)
    shown = [n for n in records if hv[n] > 0]
    png = plot_front({n: records[n].mo_metrics["front"] for n in shown}, Path(args.png), ref_point=ref,
                     objective_names=("delay return (-0.01 x s)", "energy return (-50 x J)"),
                     title="MECOffloading E=6 test contexts: fronts over the preference weights",
                     all_points={n: all_points[n] for n in shown})
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"\nwrote {png} and {out / 'summary.json'} (agents outside the reference box are omitted from the plot: "
          f"{[n for n in records if n not in shown]})")


if __name__ == "__main__":
    main()
