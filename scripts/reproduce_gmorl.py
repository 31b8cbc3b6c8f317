"""Reproduce GMORL's comparison on MECOffloading (E = 6 test contexts) and measure env speed.

Runs GMORL, LinUCB and every baseline through the benchmark runner under the task's protocol
(``--task``: ``gauntlet/mo-MECOffloading-v1`` by default, whose cloud is reached through a
backhaul, or ``gauntlet/mo-MECOffloading-v0``; the task's benchmark spec): the learners train with the spec's
``train_env_kwargs`` (the training context distribution, E in 1..8) and every agent is
evaluated with its ``eval_env_kwargs`` (E = 6, test context distribution), over the spec's
preference weights, hypervolume at the spec's fixed reference point, as in the paper's
generalization setting. The learners (GMORL, LinUCB) run once per training seed of the task,
the other agents once. Writes one leaderboard entry per agent, a Pareto-front PNG and a JSON
summary, and prints the board's means over seeds and hypervolume ratios next to the paper's
(GMORL 64.1, LinUCB 57.9, random 29.0; units not stated, so compare ratios), and GMORL's
training speed (env steps per second of training, updates included).

    python scripts/reproduce_gmorl.py                      # full run (GMORL at the spec's budget)
    python scripts/reproduce_gmorl.py --task gauntlet/mo-MECOffloading-v0 --png docs/img/mec_front.png
    python scripts/reproduce_gmorl.py --gmorl-steps 20000  # quicker
    python scripts/reproduce_gmorl.py --speed-only         # throughput figures only
    python scripts/reproduce_gmorl.py --agents gmorl       # rerun GMORL, reuse the saved baseline runs

The learners' weights are written under ``--save`` (default ``<out>/weights``; the official
ones are in ``models/mec_offloading``) and their sha256 recorded in the runs. A board entry
whose config (budget, agent or env kwargs) differs from the new run's is only overwritten with
``--replace``; a run of the same config must reproduce the entry's.
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
from gauntlet.registry import get_agent, get_task  # noqa: E402

TASK = "gauntlet/mo-MECOffloading-v1"
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


def vector_steps_per_second(task: str, num_envs: int, seconds: float) -> float:
    envs = gym.make_vec(task, num_envs=num_envs, vectorization_mode="vector_entry_point")
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


def speed(task: str, seconds: float) -> dict[str, float]:
    cart = steps_per_second(gym.make("CartPole-v1"), seconds, masked=False)
    mec = steps_per_second(gym.make(task.replace("/mo-", "/")), seconds, masked=True)
    vec = vector_steps_per_second(task, 1024, seconds)
    out = {"cartpole_steps_per_s": cart, "mec_single_steps_per_s": mec, "mec_single_vs_cartpole": mec / cart,
           "mec_vector1024_steps_per_s": vec}
    for k, v in out.items():
        print(f"  {k:28s} {v:12.3f}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default=TASK, choices=["gauntlet/mo-MECOffloading-v1", "gauntlet/mo-MECOffloading-v0"])
    parser.add_argument("--gmorl-steps", type=int, default=None, help="GMORL's budget (default: the task's)")
    parser.add_argument("--linucb-steps", type=int, default=11_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="training seeds of the learners (default: the task's); the other agents run once, "
                             "with the first")
    parser.add_argument("--out", default=None, help="run records (default: results/<task>)")
    parser.add_argument("--png", default="docs/img/mec_front_v1.png", help="Pareto-front plot")
    parser.add_argument("--save", type=Path, default=None,
                        help="directory for the learners' weights (default: <out>/weights; the official ones: "
                             "models/mec_offloading)")
    parser.add_argument("--leaderboards", default="leaderboards")
    parser.add_argument("--speed-seconds", type=float, default=5.0)
    parser.add_argument("--speed-only", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--no-leaderboard", action="store_true")
    parser.add_argument("--replace", action="store_true",
                        help="replace board entries whose config differs (as gauntlet run --replace)")
    parser.add_argument("--agents", nargs="*", default=["gmorl", *BASELINES],
                        help="agents to (re)run now; the others are loaded from earlier runs in --out")
    args = parser.parse_args()
    task = args.task
    out = Path(args.out or f"results/{task.split('/')[1]}")
    out.mkdir(parents=True, exist_ok=True)

    summary: dict = {}
    if not args.skip_speed:
        print("throughput (random valid actions, same run):")
        summary["speed"] = speed(task, args.speed_seconds)
    if args.speed_only:
        print(json.dumps(summary, indent=2))
        return

    spec = get_task(task).benchmark
    ref = spec.hv_ref_point
    gmorl_steps = spec.train_timesteps if args.gmorl_steps is None else args.gmorl_steps
    seeds = spec.train_seeds if args.seeds is None else args.seeds
    budgets = {"gmorl": gmorl_steps, "linucb": args.linucb_steps}
    save_dir = out / "weights" if args.save is None else args.save
    records: dict[str, list[RunRecord]] = {}
    for name in ["gmorl", *BASELINES]:
        if name not in args.agents:
            continue
        agent_seeds = seeds if get_agent(name).learns else seeds[:1]
        records[name] = [run(task, name, train_seed=seed, total_timesteps=budgets.get(name, 0),
                             progress_bar=name == "gmorl", save_dir=save_dir) for seed in agent_seeds]
        for rec in records[name]:
            rec.agent_obj = None
            rec.save(out / f"{name}-seed{rec.train_seed}.json")
            print(f"{name} seed {rec.train_seed}: HV {rec.mo_metrics['hypervolume']:.1f} ({rec.wall_time_s:.0f} s)")
        if not args.no_leaderboard:
            leaderboard.record(records[name], kind="reference" if name == "gmorl" else "baseline",
                               directory=args.leaderboards, replace=args.replace)
    for name in ["gmorl", *BASELINES]:
        if name not in records:
            records[name] = [RunRecord.load(p) for p in sorted(out.glob(f"{name}-seed*.json"))]
    missing = [name for name, runs in records.items() if not runs]
    if missing:
        print(f"no runs yet of {missing} in {out}: run them with --agents to get the comparison")
        return

    # The board's own aggregation over training seeds (means; std over seeds when there are several).
    results = {name: leaderboard.entry_from_runs(runs, kind="baseline")["results"] for name, runs in records.items()}
    rows = [{"agent": name, "seeds": [r.train_seed for r in records[name]],
             "train_timesteps": records[name][0].train_timesteps,
             **{metric: res[metric]["mean"] for metric in ("hypervolume", "eum", "cardinality", "mean_delay", "mean_energy")},
             "hypervolume_std": res["hypervolume"]["std"]} for name, res in results.items()]
    hv = {r["agent"]: r["hypervolume"] for r in rows}
    print(f"\nreference point {ref}, weights {len(spec.preference_weights)}, "
          f"eval seeds {records['gmorl'][0].eval_seeds}; means over training seeds (std over seeds)")
    print(f"{'agent':20s} {'seeds':>7s} {'HV':>18s} {'EUM':>10s} {'card':>5s} {'delay/task s':>13s} {'energy/task J':>14s}")
    for r in sorted(rows, key=lambda r: -r["hypervolume"]):
        std = "" if r["hypervolume_std"] is None else f" ({r['hypervolume_std']:.1f})"
        print(f"{r['agent']:20s} {len(r['seeds']):7d} {r['hypervolume']:10.1f}{std:>8s} {r['eum']:10.2f} "
              f"{r['cardinality']:5.1f} {r['mean_delay']:13.2f} {r['mean_energy']:14.4f}")

    def ratio(a: str, b: str) -> float:
        return hv[a] / hv[b] if hv[b] > 0 else float("inf")

    ratios = {"gmorl/linucb": ratio("gmorl", "linucb"), "gmorl/random": ratio("gmorl", "random"),
              "paper gmorl/linucb": PAPER_HV["gmorl"] / PAPER_HV["linucb"],
              "paper gmorl/random": PAPER_HV["gmorl"] / PAPER_HV["random"]}
    for k, v in ratios.items():
        print(f"  {k:20s} {v:8.3f}")
    speeds = [r.steps_per_s for r in records["gmorl"] if r.steps_per_s]
    if speeds:
        print(f"  GMORL training speed: {np.mean(speeds):.0f} env steps/s incl. updates "
              f"(per seed: {', '.join(f'{v:.0f}' for v in speeds)})")
    summary["gmorl_train_steps_per_s"] = speeds
    summary.update({"task": task, "ref_point": list(ref), "rows": rows, "ratios": ratios,
                    "gmorl_steps": gmorl_steps, "linucb_steps": args.linucb_steps})

    # The plot shows each agent's run with the first training seed.
    first = {name: runs[0] for name, runs in records.items()}
    weights_n = len(spec.preference_weights)
    all_points = {name: np.asarray(rec.episode_returns, dtype=float).reshape(weights_n, -1, 2).mean(1)
                  for name, rec in first.items()}
    shown = [n for n in first if first[n].mo_metrics["hypervolume"] > 0]
    png = plot_front({n: first[n].mo_metrics["front"] for n in shown}, Path(args.png), ref_point=ref,
                     objective_names=("delay return (-0.01 x s)", "energy return (-50 x J)"),
                     title=f"{task.split('/')[1]}, E=6 test contexts: fronts (train seed {seeds[0]})",
                     all_points={n: all_points[n] for n in shown})
    # The reference box can dwarf the front; a second plot zooms in on the strong agents.
    best = max(first[n].mo_metrics["hypervolume"] for n in shown)
    strong = [n for n in shown if first[n].mo_metrics["hypervolume"] >= best / 2]
    zoom = plot_front({n: first[n].mo_metrics["front"] for n in strong}, png.with_name(f"{png.stem}_zoom{png.suffix}"),
                      objective_names=("delay return (-0.01 x s)", "energy return (-50 x J)"),
                      title=f"{task.split('/')[1]}: agents with >= half the best hypervolume",
                      all_points={n: all_points[n] for n in strong})
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"\nwrote {png}, {zoom} and {out / 'summary.json'} (agents outside the reference box are omitted from the "
          f"plot: {[n for n in first if n not in shown]})")


if __name__ == "__main__":
    main()
