"""MO-MIX against outer-loop QMIX on a MOCoop task (navigation by default) at matched environment steps.

Runs every learner through the benchmark runner under the task's protocol (its spec's budget,
11 preference weights, hypervolume at the fixed reference point, official evaluation seeds):
``mo-mix`` (one preference-conditioned model), ``outer-loop-qmix`` (one QMIX per weight, each
trained for 1/11 of the same total joint steps), ``iql-scalarized`` (one w-conditioned network,
no mixer) over the training seeds, and once each ``random-joint`` and the task's hand-written
controller (``landmark-greedy`` or ``chase``). Prints each agent's means over
seeds (sample std, ddof 1) of hypervolume, EUM, cardinality, sparsity, spacing, spread, training
wall time and steps/s; writes one board entry per agent, a front plot (the first seed's fronts)
and ``<out>/summary.json``. The paper reports +17% hypervolume for MO-MIX over outer-loop QMIX in
MPE with far fewer episodes; this prints what we measure.

    OMP_NUM_THREADS=1 python scripts/reproduce_momix.py --save models/mo_coop
    python scripts/reproduce_momix.py --steps 20000 --seeds 0 --no-leaderboard   # quick look
    python scripts/reproduce_momix.py --agents mo-mix --replace                  # rerun one agent

Exploration (epsilon 1 -> 0.05) anneals over half of each learner's steps (EPyMARL anneals over
50k of a 100k-step run), for outer-loop QMIX over half of each member's 1/11 share: the registry's
defaults at the task's budget, passed explicitly so that other ``--steps`` keep the rule.

A board entry whose config differs from the new runs' is only overwritten with ``--replace``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import gauntlet  # noqa: E402,F401
from gauntlet.bench import leaderboard  # noqa: E402
from gauntlet.bench.formatting import format_over_runs  # noqa: E402
from gauntlet.bench.multi_objective import plot_front  # noqa: E402
from gauntlet.bench.runner import RunRecord, run  # noqa: E402
from gauntlet.registry import get_agent, get_task  # noqa: E402

TASKS = ("gauntlet/MOCoopNavigation-v0", "gauntlet/MOPredatorPrey-v0")
AGENTS = ["mo-mix", "outer-loop-qmix", "iql-scalarized", "random-joint"]
CONTROLLERS = {TASKS[0]: "landmark-greedy", TASKS[1]: "chase"}
"""The hand-written preference-aware baseline of each task."""
COLUMNS = ("hypervolume", "eum", "cardinality", "sparsity", "spacing", "spread")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default=TASKS[0], choices=TASKS)
    parser.add_argument("--steps", type=int, default=None, help="total joint steps per learner (default: the task's)")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="training seeds (default: the task's)")
    parser.add_argument("--agents", nargs="+", default=None, choices=[*AGENTS, *CONTROLLERS.values()],
                        help="agents to (re)run now; the others are read from earlier runs in --out")
    parser.add_argument("--out", type=Path, default=None, help="run records (default: results/<task>)")
    parser.add_argument("--save", type=Path, default=None, help="learners' weights (default: <out>/weights)")
    parser.add_argument("--png", type=Path, default=None,
                        help="front plot (default: docs/img/mo_coop_front.png for navigation, else <out>/front.png)")
    parser.add_argument("--leaderboards", default="leaderboards")
    parser.add_argument("--no-leaderboard", action="store_true")
    parser.add_argument("--replace", action="store_true", help="replace board entries whose config differs")
    args = parser.parse_args()
    torch.set_num_threads(1)
    task = args.task
    agents = [*AGENTS, CONTROLLERS[task]]
    args.agents = agents if args.agents is None else args.agents
    if set(args.agents) - set(agents):
        parser.error(f"--agents {sorted(set(args.agents) - set(agents))} do not run on {task}; allowed: {', '.join(agents)}")
    spec = get_task(task).benchmark
    args.out = args.out or Path("results") / task.split("/")[1]
    png_path = args.png or (Path("docs/img/mo_coop_front.png") if task == TASKS[0] else args.out / "front.png")
    steps = spec.train_timesteps if args.steps is None else args.steps
    seeds = spec.train_seeds if args.seeds is None else args.seeds
    args.out.mkdir(parents=True, exist_ok=True)
    save_dir = args.save or args.out / "weights"

    # Every learner's exploration anneals over half of its steps; each outer-loop member has 1/11 of them.
    anneal = {"mo-mix": steps // 2, "iql-scalarized": steps // 2,
              "outer-loop-qmix": steps // len(spec.preference_weights) // 2}
    records: dict[str, list[RunRecord]] = {}
    for name in agents:
        if name in args.agents:
            learns = get_agent(name).learns
            records[name] = []
            kwargs = {"epsilon_anneal_steps": anneal[name]} if learns else {}
            for seed in seeds if learns else seeds[:1]:
                rec = run(task, name, train_seed=seed, total_timesteps=steps if learns else 0, save_dir=save_dir,
                          agent_kwargs=kwargs)
                rec.agent_obj = None
                rec.save(args.out / f"{name}-seed{seed}.json")
                print(f"{name} seed {seed}: HV {rec.mo_metrics['hypervolume']:.1f}, train {rec.train_time_s:.0f} s", flush=True)
                records[name].append(rec)
            if not args.no_leaderboard:
                leaderboard.record(records[name], kind="reference" if name == "mo-mix" else "baseline",
                                   directory=args.leaderboards, replace=args.replace)
        else:
            records[name] = [RunRecord.load(p) for p in sorted(args.out.glob(f"{name}-seed*.json"))]
    records = {name: runs for name, runs in records.items() if runs}

    print(f"\n{task}: reference point {spec.hv_ref_point}, {len(spec.preference_weights)} weights, "
          f"{len(spec.eval_seeds())} official episodes per weight; mean ± sample std over training seeds")
    print("| agent | seeds | joint steps | " + " | ".join(COLUMNS) + " | train wall s | train steps/s |")
    print("|---|---|---|" + "---|" * (len(COLUMNS) + 2))
    rows = []
    for name, runs in records.items():
        values = {c: [r.mo_metrics[c] for r in runs] for c in COLUMNS}
        wall = [r.train_time_s for r in runs]
        speed = [r.steps_per_s for r in runs if r.steps_per_s]
        rows.append({"agent": name, "seeds": [r.train_seed for r in runs], "train_timesteps": runs[0].train_timesteps,
                     **values, "train_time_s": wall, "steps_per_s": speed})
        cells = [format_over_runs(values[c]) for c in COLUMNS]
        print(f"| {name} | {len(runs)} | {runs[0].train_timesteps:,} | " + " | ".join(cells) +
              f" | {format_over_runs(wall)} | {format_over_runs(speed) if speed else '–'} |")
    hv = {row["agent"]: float(np.mean(row["hypervolume"])) for row in rows}
    if "mo-mix" in hv and hv.get("outer-loop-qmix"):
        print(f"\nMO-MIX / outer-loop QMIX hypervolume: {hv['mo-mix'] / hv['outer-loop-qmix']:.3f} (paper, MPE: 1.17)")

    first = {name: runs[0] for name, runs in records.items()}
    n_w = len(spec.preference_weights)
    points = {name: np.asarray(r.episode_returns, dtype=float).reshape(n_w, -1, 2).mean(1) for name, r in first.items()}
    objectives = gauntlet.make_parallel(task).objectives
    png = plot_front({name: r.mo_metrics["front"] for name, r in first.items()}, png_path, ref_point=spec.hv_ref_point,
                     objective_names=tuple(f"{o} return" for o in objectives), all_points=points,
                     title=f"{task.split('/')[1]}, {steps:,} joint steps per learner (train seed {seeds[0]})")
    (args.out / "summary.json").write_text(json.dumps({"task": task, "steps": steps, "rows": rows}, indent=1))
    print(f"wrote {png} and {args.out / 'summary.json'}")


if __name__ == "__main__":
    main()
