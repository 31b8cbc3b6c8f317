"""Reproduce the PDPPO paper's lot-sizing comparison: PDPPO (each advantage option), its
one-critic variant and PPO.

Trains every learning agent on every task over several seeds, evaluates it on the task's
official evaluation seeds, evaluates the registry's LotSizing baselines too, prints a table
(mean ± sample std over seeds, as the boards aggregate them, of the best training-episode
cost, the final training cost and the evaluation cost), writes leaderboard entries, run records,
the raw learning curves (JSON) and a learning-curve plot: per agent the mean over seeds of each
seed's smoothed episode cost interpolated at common timesteps, with a band of ± one sample std,
next to the boards' idle, base-stock and perfect-information bound.

Every finished run is kept under ``--out`` (its run record and its training curve) and a rerun
of the same command skips the runs already there with the same config, so a long job can be
cut and resumed; board entries are written once every seed of an agent is done. Use a fresh
``--out`` after changing an agent's code.

The paper's protocol is 1M steps per run and 20 seeds (the task budget is 1M, 5 seeds)::

    python scripts/reproduce_pdppo.py                                  # full budget
    python scripts/reproduce_pdppo.py --timesteps 20000 --seeds 2 \\
        --baselines random --leaderboard-dir /tmp/boards               # smoke run

The paper reports (authors' logs, run 1, best episode cost) 15x5: PDPPO -2688 vs PPO -2991;
25x15: PDPPO -6363 vs PPO -9370.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import gauntlet  # noqa: E402,F401  (registers the env ids)
from gauntlet.bench import leaderboard  # noqa: E402
from gauntlet.bench.artifacts import load_weights, save_weights, weights_suffix  # noqa: E402
from gauntlet.bench.formatting import format_number, format_over_runs  # noqa: E402
from gauntlet.bench.runner import (  # noqa: E402
    RunRecord, evaluate_run, learning_curve, make_agent, run, run_config, run_path,
)
from gauntlet.registry import get_agent, get_task  # noqa: E402

DEFAULT_TASKS = ("gauntlet/LotSizing-15x5-v0", "gauntlet/LotSizing-25x15-v0")
DEFAULT_AGENTS = ("pdppo", "pdppo-postdecision", "pdppo-1critic", "ppo")
BOARD_LINES = ("idle", "base-stock")  # drawn from the board next to the learners, with the bound
DEFAULT_BASELINES = ("random", "idle", "base-stock", "newsvendor", "rolling-milp", "perfect-info")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tasks", nargs="+", default=list(DEFAULT_TASKS),
                   help="task ids, or short names such as 15x5 (default: %(default)s)")
    p.add_argument("--agents", nargs="+", default=list(DEFAULT_AGENTS), help="learning agents (default: %(default)s)")
    p.add_argument("--baselines", nargs="*", default=list(DEFAULT_BASELINES),
                   help="non-learning agents to evaluate; none with an empty list (default: %(default)s)")
    p.add_argument("--seeds", type=int, default=None,
                   help="number of training seeds 0..k-1 (default: the task's benchmark spec)")
    p.add_argument("--timesteps", type=int, default=None, help="training steps per run (default: the task's budget)")
    p.add_argument("--only-seeds", type=int, nargs="+", default=None,
                   help="train (or resume) only these of the seeds and write no board entries: to split one job "
                        "across processes sharing --out; rerun without it to gather the runs onto the boards")
    p.add_argument("--out", type=Path, default=Path("runs/reproduce_pdppo"),
                   help="directory for run records, curves.json and learning_curves.png (default: %(default)s)")
    p.add_argument("--leaderboard-dir", type=Path, default=Path("leaderboards"),
                   help="leaderboard directory (default: %(default)s)")
    p.add_argument("--no-leaderboard", action="store_true", help="do not write leaderboard entries")
    p.add_argument("--replace", action="store_true",
                   help="replace the agents' existing board entries (e.g. to add weights to them)")
    p.add_argument("--save", type=Path, default=None,
                   help="keep each trained agent's weights under this directory (sha256 on the board)")
    p.add_argument("--recover", action="store_true",
                   help="rebuild a run missing from --out from the weights it kept under --save (trained for the "
                        "budget): evaluated again, its curve from the weights' episode log (PDPPO keeps one, SB3's "
                        "PPO does not, so its runs are trained); training time not known, so no steps/s")
    p.add_argument("--progress-bar", action="store_true", help="show a progress bar while training")
    p.add_argument("--torch-threads", type=int, default=1,
                   help="torch CPU threads; small MLPs train fastest on one (default: %(default)s)")
    args = p.parse_args()
    args.tasks = [t if t.startswith("gauntlet/") else f"gauntlet/LotSizing-{t}-v0" for t in args.tasks]
    for task in args.tasks:
        get_task(task)
    for name in [*args.agents, *args.baselines]:
        get_agent(name)
    if args.seeds is not None and args.seeds < 1:
        p.error(f"--seeds must be >= 1, got {args.seeds}")
    if args.timesteps is not None and args.timesteps < 1:
        p.error(f"--timesteps must be >= 1, got {args.timesteps}")
    if args.only_seeds is not None:
        if min(args.only_seeds) < 0:
            p.error(f"--only-seeds must be >= 0, got {args.only_seeds}")
        args.no_leaderboard = True
    if args.recover and args.save is None:
        p.error("--recover reads the weights under --save DIR: give --save")
    return args


def train_and_evaluate(task: str, agent: str, seed: int, budget: int, progress_bar: bool,
                       save_dir: Path | None) -> tuple[RunRecord, list]:
    """Like ``runner.run`` but also returns the whole training curve (the record keeps a
    downsampled copy for the board)."""
    start = time.perf_counter()
    env = gym.make(task)
    env.reset(seed=seed)
    env.action_space.seed(seed)
    model = make_agent(get_agent(agent), env, task, seed)
    model.learn(total_timesteps=budget, progress_bar=progress_bar)
    train_time = time.perf_counter() - start
    curve = learning_curve(model) or []
    env.close()
    record = evaluate_run(task, agent, model, train_seed=seed, train_timesteps=budget, train_time_s=train_time)
    if save_dir is not None:
        record.attach_weights(save_weights(model, run_path(save_dir, task, agent, seed).with_suffix("")))
    record.attach_learning_curve(curve)
    return record, curve


def resumed_run(out: Path, task: str, agent: str, seed: int, budget: int) -> tuple[RunRecord, list] | None:
    """The run already under ``out`` with this config (record and curve), or ``None``."""
    path = run_path(out, task, agent, seed)
    curve_path = path.with_suffix(".curve.json")
    if not (path.is_file() and curve_path.is_file()):
        return None
    record = RunRecord.load(path)
    if record.config != run_config(task, agent, total_timesteps=budget):
        return None
    curve = [tuple(x) for x in json.loads(curve_path.read_text())]
    if record.learning_curve is None:  # a run recorded before records carried their curve
        record.attach_learning_curve(curve)
    return record, curve


def recovered_run(save_dir: Path, task: str, agent: str, seed: int, budget: int) -> tuple[RunRecord, list] | None:
    """The run whose weights ``save_dir`` kept, evaluated again, or ``None`` when there are no
    such weights, they trained another budget or other hyperparameters, or they log no episodes."""
    spec = get_agent(agent)
    env = gym.make(task)
    fresh = make_agent(spec, env, task, seed)
    path = run_path(save_dir, task, agent, seed).with_suffix(weights_suffix(fresh))
    model = load_weights(spec, path, env, task) if path.is_file() else None
    env.close()
    if model is None:
        return None
    curve = learning_curve(model)
    if (model.num_timesteps < budget or not curve
            or getattr(model, "hyperparameters", None) != getattr(fresh, "hyperparameters", None)):
        return None
    record = evaluate_run(task, agent, model, train_seed=seed, train_timesteps=budget)
    record.attach_weights(path)
    record.attach_learning_curve(curve)
    return record, curve


def eval_costs(record: RunRecord) -> np.ndarray:
    return np.array([m["cost"] for m in record.episode_metrics])


def smooth(costs: np.ndarray, window: int) -> np.ndarray:
    if window <= 1 or len(costs) < window:
        return costs
    return np.convolve(costs, np.ones(window) / window, mode="valid")


def mean_curve(runs: list[list], points: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Each run's episode cost smoothed over its own episodes (window 2% of them), interpolated at
    ``points`` timesteps common to all runs; returns (x, mean, sample std over runs)."""
    runs = [r for r in runs if len(r) >= 2]
    if not runs:
        return None
    per_run = []
    for r in runs:
        steps = np.array([t for t, _ in r], float)
        costs = -np.array([ret for _, ret in r], float)
        window = max(1, len(costs) // 50)
        per_run.append((steps[window - 1 :], smooth(costs, window)))
    lo, hi = max(x[0] for x, _ in per_run), min(x[-1] for x, _ in per_run)
    if hi <= lo:
        return None
    grid = np.linspace(lo, hi, points)
    ys = np.stack([np.interp(grid, x, y) for x, y in per_run])
    std = ys.std(0, ddof=1) if len(ys) > 1 else np.zeros(points)
    return grid, ys.mean(0), std


def board_lines(directory: Path, task: str) -> dict[str, float]:
    """Mean evaluation cost of the board's idle and base-stock entries, and the bound's mean
    ``cost_lower_bound``, for the plot."""
    path = leaderboard.board_path(directory, task)
    if not path.is_file():
        return {}
    lines = {}
    for entry in json.loads(path.read_text())["entries"]:
        if entry["agent"] in BOARD_LINES:
            lines[entry["agent"]] = entry["results"]["cost"]["mean"]
        elif entry["kind"] == "bound" and "cost_lower_bound" in entry["results"]:
            lines[f"{entry['agent']} lower bound"] = entry["results"]["cost_lower_bound"]["mean"]
    return lines


def plot(curves: dict[str, dict[str, list]], lines: dict[str, dict[str, float]], path: Path) -> None:
    fig, axes = plt.subplots(1, len(curves), figsize=(6.5 * len(curves), 4.5), squeeze=False)
    for ax, (task, per_agent) in zip(axes[0], curves.items()):
        for agent, runs in per_agent.items():
            curve = mean_curve(runs)
            if curve is None:
                continue
            x, mean, std = curve
            ax.plot(x, mean, label=f"{agent} (mean of {len(runs)} seeds ± std)")
            ax.fill_between(x, mean - std, mean + std, alpha=0.2)
        for i, (name, cost) in enumerate(lines.get(task, {}).items()):
            ax.axhline(cost, linestyle="--", linewidth=1, color=f"C{len(per_agent) + i}", label=f"{name} (eval)")
        ax.set_title(task.removeprefix("gauntlet/"))
        ax.set_xlabel("timesteps")
        ax.set_ylabel("training episode cost (lower is better)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    args = parse_args()
    import torch

    torch.set_num_threads(args.torch_threads)
    args.out.mkdir(parents=True, exist_ok=True)
    curves: dict[str, dict[str, list]] = {}
    baseline_costs: dict[str, dict[str, float]] = {}
    for task in args.tasks:
        spec = get_task(task).benchmark
        budget = args.timesteps or spec.train_timesteps
        seeds = range(args.seeds or spec.n_train_seeds)
        if args.only_seeds is not None:
            seeds = [s for s in seeds if s in args.only_seeds]
        print(f"\n=== {task}: {budget} steps x {len(seeds)} seeds, eval on {spec.eval_episodes} official seeds")
        print(f"{'agent':<16}{'best train episode cost':>28}{'final train cost':>26}{'eval cost':>26}{'train s/run':>13}")
        curves[task] = {}
        for agent in args.agents if seeds else []:
            records, agent_curves = [], []
            for seed in seeds:
                done = resumed_run(args.out, task, agent, seed, budget)
                if done is None:
                    recovered = recovered_run(args.save, task, agent, seed, budget) if args.recover else None
                    record, curve = recovered or train_and_evaluate(task, agent, seed, budget, args.progress_bar,
                                                                    args.save)
                    path = record.save(run_path(args.out, task, agent, seed))
                    path.with_suffix(".curve.json").write_text(json.dumps(curve))
                    source, took = (f"recovered from {record.artifact_path}, ", "") if recovered else \
                        ("", f", {record.train_time_s:.0f} s")
                    print(f"  {agent} seed {seed}: {source}eval cost {eval_costs(record).mean():,.1f}, "
                          f"best training episode {-max(r for _, r in curve):,.1f}{took}", flush=True)
                else:
                    record, curve = done
                records.append(record)
                agent_curves.append(curve)
            curves[task][agent] = agent_curves
            best = [-max(r for _, r in c) for c in agent_curves]
            final = [-np.mean([r for _, r in c[-max(1, len(c) // 10):]]) for c in agent_curves]
            evals = [eval_costs(r).mean() for r in records]
            known = all(r.steps_per_s for r in records)  # a recovered run's training time is not known
            train_s = f"{np.mean([r.train_time_s for r in records]):.0f}" if known else "-"
            print(f"{agent:<16}{format_over_runs(best):>28}{format_over_runs(final):>26}{format_over_runs(evals):>26}"
                  f"{train_s:>13}", flush=True)
            if not args.no_leaderboard:
                leaderboard.record(records, kind="reference", directory=args.leaderboard_dir, replace=args.replace)
        baseline_costs[task] = {}
        for name in args.baselines:
            try:
                record = run(task, name, train_seed=0)
            except Exception as exc:  # a broken or missing baseline must not sink a long run
                print(f"{name:<16}skipped: {type(exc).__name__}: {exc}")
                continue
            record.save(run_path(args.out, task, name, 0))
            cost = eval_costs(record)
            baseline_costs[task][name] = float(cost.mean())
            print(f"{name:<16}{'-':>28}{'-':>26}{format_number(cost.mean()):>26}{'-':>13}", flush=True)
            if not args.no_leaderboard:
                leaderboard.record([record], kind="baseline", directory=args.leaderboard_dir)
    lines = {task: board_lines(args.leaderboard_dir, task) for task in args.tasks}
    (args.out / "curves.json").write_text(json.dumps({"curves": curves, "baselines": baseline_costs, "board_lines": lines}))
    plot(curves, lines, args.out / "learning_curves.png")
    print(f"\nwrote {args.out / 'learning_curves.png'}, {args.out / 'curves.json'} and run records under {args.out}")
    if not args.no_leaderboard:
        print(f"leaderboard entries merged into {args.leaderboard_dir}/")


if __name__ == "__main__":
    main()
