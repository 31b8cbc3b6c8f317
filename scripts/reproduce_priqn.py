"""Reproduce Pr-IQN's comparison on a Driving scenario, and draw one episode per scenario.

Runs each agent through the benchmark runner under the task's protocol (the learners once per
training seed, the rule-based and random agents once, as the boards do) on the task's 20
official evaluation episodes, writes one board entry per agent (unless ``--no-leaderboard``)
and prints the board's aggregation of success, collisions and road departures per km, route
completion and driving score: the mean over runs of each run's episode mean, ± the sample std
(ddof=1) over the runs.

    python scripts/reproduce_priqn.py --agents idm-controller random           # the baselines
    python scripts/reproduce_priqn.py --agents pr-iqn iqn --seeds 0 1 2 --save models/driving
    python scripts/reproduce_priqn.py --agents --strip docs/img/driving_strip.png  # the strip only

``--strip PATH`` writes a PNG of one episode of ``idm-controller`` per scenario (Highway,
Intersection, Curvy at medium density), a few ``rgb_array`` frames side by side. A board entry
whose config differs from the new run's is only replaced with ``--replace``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402

import gauntlet  # noqa: E402,F401
from gauntlet.bench import leaderboard  # noqa: E402
from gauntlet.bench.formatting import format_over_runs  # noqa: E402
from gauntlet.bench.runner import RunRecord, make_agent, run  # noqa: E402
from gauntlet.registry import AGENTS, get_agent, get_task  # noqa: E402

SCENARIOS = ("Highway", "Intersection", "Curvy")
TASKS = [f"gauntlet/Driving-{s}-Medium-v0" for s in SCENARIOS]
METRICS = ("success", "collisions_per_km", "off_road_per_km", "route_completion", "driving_score")


def table(task: str, records: dict[str, list[RunRecord]]) -> str:
    """The board's aggregation, one row per agent: mean ± sample std over runs of the episode means."""
    lines = [f"{'agent':16s} {'runs':>4s} " + " ".join(f"{m:>22s}" for m in METRICS)]
    for name, runs in records.items():
        cells = [format_over_runs([np.mean([e[m] for e in r.episode_metrics]) for r in runs]) for m in METRICS]
        lines.append(f"{name:16s} {len(runs):4d} " + " ".join(f"{c:>22s}" for c in cells))
    return f"{task}, mean ± sample std over runs\n" + "\n".join(lines)


def episode_frames(task: str, n_frames: int, every: int, seed: int) -> list[np.ndarray]:
    """``n_frames`` frames, ``every`` steps apart, of ``idm-controller`` on ``task`` (the last
    frame of the episode if it ends earlier)."""
    env = gym.make(task, render_mode="rgb_array")
    agent = make_agent(get_agent("idm-controller"), env, task, seed=seed)
    obs, _ = env.reset(seed=seed)
    frames = [env.render()]
    done = False
    while len(frames) < n_frames:
        for _ in range(every):
            action, _ = agent.predict(obs, deterministic=True)
            obs, _, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
            if done:
                break
        frames.append(env.render())
        if done:
            break
    env.close()
    return frames


def strip(path: Path, n_frames: int = 4, every: int = 25, seed: int = 0) -> Path:
    """One row per scenario, ``n_frames`` frames of its episode side by side (Agg canvas)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    path.parent.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(2.6 * n_frames, 2.7 * len(TASKS)), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(TASKS), n_frames, squeeze=False)
    for row, (label, task) in enumerate(zip(SCENARIOS, TASKS)):
        frames = episode_frames(task, n_frames, every, seed)
        for col, ax in enumerate(axes[row]):
            ax.set_xticks([])
            ax.set_yticks([])
            if col < len(frames):
                ax.imshow(frames[col])
            else:
                ax.axis("off")
        axes[row][0].set_ylabel(label)
    fig.tight_layout()
    fig.savefig(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="gauntlet/Driving-Intersection-Medium-v0", choices=TASKS)
    parser.add_argument("--agents", nargs="*", default=None,
                        help="agents to run (default: every agent registered for the task)")
    parser.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="training seeds of the learners (default: the task's); the others run once, with the first")
    parser.add_argument("--timesteps", type=int, default=None, help="learners' budget (default: the task's)")
    parser.add_argument("--save", type=Path, default=None, help="directory for the learners' weights")
    parser.add_argument("--leaderboard-dir", default="leaderboards")
    parser.add_argument("--no-leaderboard", action="store_true")
    parser.add_argument("--replace", action="store_true", help="replace board entries whose config differs")
    parser.add_argument("--strip", type=Path, default=None, help="write a PNG strip of one episode per scenario")
    args = parser.parse_args()

    task = args.task
    spec = get_task(task).benchmark
    available = [a.name for a in AGENTS.values() if a.supports(task)]
    agents = available if args.agents is None else args.agents
    unknown = [a for a in agents if a not in available]
    if unknown:
        parser.error(f"agents {unknown} do not run on {task}; allowed: {', '.join(available)}")
    seeds = spec.train_seeds if args.seeds is None else args.seeds
    budget = spec.train_timesteps if args.timesteps is None else args.timesteps

    records: dict[str, list[RunRecord]] = {}
    for name in agents:
        agent = get_agent(name)
        records[name] = [run(task, name, train_seed=seed, total_timesteps=budget if agent.learns else 0,
                             save_dir=args.save) for seed in (seeds if agent.learns else seeds[:1])]
        for record in records[name]:
            record.agent_obj = None
            print(f"{name} seed {record.train_seed}: success "
                  f"{np.mean([e['success'] for e in record.episode_metrics]):.2f} ({record.wall_time_s:.0f} s)",
                  flush=True)
        if not args.no_leaderboard:
            leaderboard.record(records[name], kind=agent.kind, directory=args.leaderboard_dir, replace=args.replace)
    if records:
        print("\n" + table(task, records))
    if args.strip is not None:
        print(f"wrote {strip(args.strip)}")


if __name__ == "__main__":
    main()
