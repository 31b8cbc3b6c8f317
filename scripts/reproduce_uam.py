"""Reproduce CapTAIN's comparison on UAMFleet: daily profit of every agent and decision latency.

(Single-env throughput next to CartPole-v1: ``python scripts/bench_env_speed.py --ids "gauntlet/UAMFleet*"``.)

Runs each agent through the benchmark runner under the task's protocol (``--task``; the learners
once per training seed, the others once) on the 20 official test days, writes one board entry
per agent, a bar chart of daily profit (mean over runs with the board's 95% CI) next to the
decision latency per step (log scale), and a JSON summary; prints the board's aggregation. The
paper reports CapTAIN above random-feasible and the GA on daily profit, about 1000x faster per
decision than the GA; the authors' prototype did not show graph > MLP robustly.

    python scripts/reproduce_uam.py --agents greedy ga random-feasible  # the baselines
    python scripts/reproduce_uam.py --agents captain --steps 50000      # a learner, smaller budget
    python scripts/reproduce_uam.py --agents                            # table and chart from saved runs

Runs are saved under ``--out`` (default ``results/<task>``) and reused by later calls for the
agents not rerun; learners' weights go to ``--save`` (default ``<out>/weights``) with their
sha256 in the runs. A board entry whose config differs is only replaced with ``--replace``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

import gauntlet  # noqa: E402,F401
from gauntlet.bench import leaderboard  # noqa: E402
from gauntlet.bench.formatting import format_interval, format_mean_std  # noqa: E402
from gauntlet.bench.runner import RunRecord, run  # noqa: E402
from gauntlet.registry import AGENTS, get_agent, get_task  # noqa: E402

TASK = "gauntlet/UAMFleet-Small-v0"
ORDER = ["captain", "maskable-ppo-mlp", "ga", "greedy", "random-feasible"]


def day_interval(runs: list[RunRecord]) -> tuple[float, float, float]:
    """Mean daily profit and its 95% t-interval over the test days (each day averaged over the runs)."""
    per_day = np.mean([[m["daily_profit"] for m in r.episode_metrics] for r in runs], axis=0)
    half = stats.t.ppf(0.975, len(per_day) - 1) * per_day.std(ddof=1) / np.sqrt(len(per_day))
    return float(per_day.mean()), float(per_day.mean() - half), float(per_day.mean() + half)


def plot(task: str, records: dict[str, list[RunRecord]], results: dict[str, dict], path: Path) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = [n for n in ORDER if n in results] + [n for n in results if n not in ORDER]
    fig = Figure(figsize=(10, 4.2), dpi=100)
    FigureCanvasAgg(fig)
    ax_profit, ax_latency = fig.subplots(1, 2, gridspec_kw={"width_ratios": (3, 2)})
    y = np.arange(len(names))
    intervals = np.array([day_interval(records[n]) for n in names])
    means = intervals[:, 0]
    ax_profit.barh(y, means, xerr=np.abs(intervals[:, 1:].T - means), color="#4c78a8", capsize=4)
    for k, m in enumerate(means):
        ax_profit.annotate(f"${m:,.0f}", (m, k), xytext=(6, 6), textcoords="offset points", fontsize=8)
    ax_profit.set_yticks(y, names)
    ax_profit.invert_yaxis()
    ax_profit.set_xlabel("daily profit ($): mean, 95% t-interval over the test days")
    latency = [results[n].get("decision_latency_ms", {}).get("mean") for n in names]
    ax_latency.barh(y, [v or 0 for v in latency], color="#f58518", log=True)
    for k, v in enumerate(latency):
        if v:
            ax_latency.annotate(f"{v:.3g} ms", (v, k), xytext=(4, -3), textcoords="offset points", fontsize=8)
    ax_latency.set_yticks(y, [])
    ax_latency.invert_yaxis()
    ax_latency.set_xlabel("decision latency (ms per decision, planning included)")
    fig.suptitle(f"{task.split('/')[1]}: 20 unseen test days", fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default=TASK, choices=["gauntlet/UAMFleet-Small-v0", "gauntlet/UAMFleet-v0"])
    parser.add_argument("--agents", nargs="*", default=None,
                        help="agents to (re)run now (default: every registered UAMFleet agent); the others are "
                             "loaded from earlier runs in --out")
    parser.add_argument("--steps", type=int, default=None, help="learners' budget (default: the task's)")
    parser.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="training seeds of the learners (default: the task's); the other agents run once")
    parser.add_argument("--out", type=Path, default=None, help="run records (default: results/<task>)")
    parser.add_argument("--save", type=Path, default=None, help="learners' weights (default: <out>/weights)")
    parser.add_argument("--png", type=Path, default=None, help="chart (default: docs/img/uam_<task>.png)")
    parser.add_argument("--leaderboards", default="leaderboards")
    parser.add_argument("--no-leaderboard", action="store_true")
    parser.add_argument("--replace", action="store_true", help="replace board entries whose config differs")
    parser.add_argument("--progress", action="store_true", help="learners' progress bars")
    args = parser.parse_args()

    task = args.task
    spec = get_task(task).benchmark
    available = [a.name for a in AGENTS.values() if a.supports(task) and a.name != "random"]
    agents = available if args.agents is None else args.agents
    unknown = [a for a in agents if a not in available]
    if unknown:
        parser.error(f"agents {unknown} do not run on {task}; allowed: {', '.join(available)}")
    out = args.out or Path("results") / task.split("/")[1]
    out.mkdir(parents=True, exist_ok=True)
    seeds = spec.train_seeds if args.seeds is None else args.seeds
    budget = spec.train_timesteps if args.steps is None else args.steps

    records: dict[str, list[RunRecord]] = {}
    for name in agents:
        agent = get_agent(name)
        records[name] = []
        for seed in (seeds if agent.learns else seeds[:1]):
            start = time.perf_counter()
            record = run(task, name, train_seed=seed, total_timesteps=budget if agent.learns else 0,
                         save_dir=(args.save or out / "weights"), progress_bar=args.progress)
            record.agent_obj = None
            record.save(out / f"{name}-seed{seed}.json")
            profit = [m["daily_profit"] for m in record.episode_metrics]
            print(f"{name} seed {seed}: daily profit {np.mean(profit):,.0f} "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)
            records[name].append(record)
        if not args.no_leaderboard:
            leaderboard.record(records[name], kind=agent.kind, directory=args.leaderboards, replace=args.replace)
    for name in available:
        if name not in records:
            saved = [RunRecord.load(p) for p in sorted(out.glob(f"{name}-seed*.json"))]
            if saved:
                records[name] = saved

    # The board's aggregation: means over runs, sample std over training seeds, bootstrap CIs.
    results = {name: leaderboard.entry_from_runs(runs, kind="baseline")["results"] for name, runs in records.items()}
    metrics = ("daily_profit", "passengers_served", "demand_served_pct", "constraint_violations", "decision_latency_ms")
    print(f"\n{task}, {spec.eval_episodes} test days (seeds {spec.eval_seeds()[0]}..), learners' budget "
          f"{budget:,} steps, mean over runs (sample std over training seeds)")
    rows = sorted(results, key=lambda n: -results[n]["daily_profit"]["mean"])
    print(f"{'agent':18s} {'runs':>4s} " + " ".join(f"{m:>26s}" for m in metrics))
    for name in rows:
        cells = [format_mean_std(results[name][m]["mean"], results[name][m]["std"]) if m in results[name] else "-"
                 for m in metrics]
        mean, low, high = day_interval(records[name])
        print(f"{name:18s} {len(records[name]):4d} " + " ".join(f"{c:>26s}" for c in cells)
              + f"   profit {format_interval(mean, [low, high])} over days")
    png = plot(task, records, results, args.png or Path("docs/img") / f"uam_{task.split('/')[1]}.png")
    summary = {"task": task, "budget": budget, "seeds": seeds,
               "results": {n: {m: results[n].get(m) for m in metrics} for n in rows},
               "daily_profit_day_interval": {n: day_interval(records[n]) for n in rows},
               "train_steps_per_s": {n: [r.steps_per_s for r in records[n]] for n in rows
                                     if any(r.steps_per_s for r in records[n])}}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"\nwrote {png} and {out / 'summary.json'}")


if __name__ == "__main__":
    main()
