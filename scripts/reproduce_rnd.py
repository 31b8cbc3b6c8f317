"""Reproduce the AGV paper's comparison on its protocol (fixed maps): PPO vs PPO + RND with sparse
rewards at an equal budget, next to the baselines (random, straight-to-goal, A* + pure pursuit).

For every scene: trains ``ppo`` and ``ppo-rnd`` (identical PPO hyperparameters from the registry)
for ``--timesteps`` steps over ``--seeds`` training seeds, one run at a time, evaluates them and
the baselines on the task's official evaluation seeds and writes their board entries. During
training it logs every episode (success, collision, length), the exploration measure -- the
fraction of the fixed map's free 1 m cells the robot centre has entered so far -- after every
rollout, and PPO+RND's mean raw intrinsic reward per rollout. Then it prints, from every run found
under ``--out`` (so scenes and agents can be run by separate invocations), success, collision,
steps to goal, path length relative to A* on the same episodes, episodes to 80% success (first
training episode at which the success rate of the last 20 training episodes is >= 0.8) and the
coverage at the end of training, and draws the curves (mean over seeds, band = min..max, at
common timesteps).

    python scripts/reproduce_rnd.py --scenes simple-static --timesteps 150000 --save models/agv_warehouse
    python scripts/reproduce_rnd.py --scenes complex-static --agents ppo --timesteps 150000
    python scripts/reproduce_rnd.py --report-only --scenes simple-static complex-static

The paper reports (its own maps, not public) that RND-PPO reaches the goal faster than PPO with
continuous actions; it gives no numbers that transfer to this formulation.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from stable_baselines3.common.callbacks import BaseCallback  # noqa: E402

import gauntlet  # noqa: E402,F401  (registers the env ids)
from gauntlet.bench import leaderboard  # noqa: E402
from gauntlet.bench.artifacts import load_weights, save_weights  # noqa: E402
from gauntlet.bench.formatting import format_over_runs  # noqa: E402
from gauntlet.bench.runner import RunRecord, evaluate, evaluate_run, make_agent, run, run_path  # noqa: E402
from gauntlet.envs.agv_warehouse.env import episode_metrics  # noqa: E402
from gauntlet.registry import get_agent, get_task  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TASKS = {
    "simple-static": "gauntlet/AGVWarehouse-SimpleStatic-v1",
    "simple-dynamic": "gauntlet/AGVWarehouse-SimpleDynamic-v1",
    "complex-static": "gauntlet/AGVWarehouse-ComplexStatic-v1",
    "complex-dynamic": "gauntlet/AGVWarehouse-ComplexDynamic-v1",
}
LEARNERS = ("ppo", "ppo-rnd")
BASELINES = ("random", "straight-to-goal", "astar")
WINDOW = 20
COLORS = {"ppo": "tab:blue", "ppo-rnd": "tab:orange"}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenes", nargs="+", default=["simple-static", "complex-static"], choices=list(TASKS),
                   help="(default: %(default)s)")
    p.add_argument("--agents", nargs="+", default=[*BASELINES, *LEARNERS], choices=[*BASELINES, *LEARNERS],
                   help="(default: all)")
    p.add_argument("--seeds", type=int, default=None, help="training seeds 0..k-1 (default: the task's spec)")
    p.add_argument("--timesteps", type=int, default=None, help="training steps per run (default: the task's budget)")
    p.add_argument("--rnd-kwargs", type=json.loads, default={},
                   help="extra PPORND arguments such as int_coef, ext_coef, rnd_lr, JSON (default: the agent's)")
    p.add_argument("--out", type=Path, default=ROOT / "runs" / "reproduce_rnd", help="(default: %(default)s)")
    p.add_argument("--img-dir", type=Path, default=ROOT / "docs" / "img", help="(default: %(default)s)")
    p.add_argument("--leaderboard-dir", type=Path, default=ROOT / "leaderboards", help="(default: %(default)s)")
    p.add_argument("--no-leaderboard", action="store_true", help="do not write leaderboard entries")
    p.add_argument("--replace", action="store_true", help="replace the agents' existing board entries")
    p.add_argument("--save", type=Path, default=None, help="keep each learner's weights under this directory")
    p.add_argument("--report-only", action="store_true", help="no runs: table and curves from the runs under --out")
    p.add_argument("--stochastic", action="store_true",
                   help="also evaluate each saved learner with its stochastic policy on the official seeds (a diagnostic, "
                        "not a board figure)")
    p.add_argument("--tensorboard-log", type=str, default=None, help="TensorBoard directory for the learners")
    args = p.parse_args()
    for name in ("seeds", "timesteps"):
        value = getattr(args, name)
        if value is not None and value < 1:
            p.error(f"--{name} must be >= 1, got {value}")
    return args


# ------------------------------------------------------------------------------ training
class TrainingLog(BaseCallback):
    """Every finished training episode as (timestep, success, collision, length, closest approach
    to the goal in m); after every
    rollout the fraction of the map's free cells visited so far; PPO+RND's mean raw intrinsic
    reward of every rollout (known only once ``collect_rollouts`` returns, so read at the start of
    the next rollout and at the end of training)."""

    def __init__(self, free: np.ndarray) -> None:
        super().__init__()
        self.free = free
        self.visited = np.zeros_like(free)
        self.episodes: list[tuple[int, bool, bool, int, float]] = []
        self._closest: np.ndarray | None = None
        self.coverage: list[tuple[int, float]] = []
        self.intrinsic: list[tuple[int, float]] = []

    def _on_step(self) -> bool:
        h, w = self.free.shape
        if self._closest is None:
            self._closest = np.full(len(self.locals["dones"]), np.inf)
        for i, (done, info) in enumerate(zip(self.locals["dones"], self.locals["infos"])):
            x, y = info["position"]
            self.visited[min(max(int(y), 0), h - 1), min(max(int(x), 0), w - 1)] = True
            self._closest[i] = min(self._closest[i], info["distance_to_goal"])
            if done:
                self.episodes.append((self.num_timesteps, bool(info["is_success"]), bool(info["collision"]),
                                      int(info["steps"]), float(self._closest[i])))
                self._closest[i] = np.inf
        return True

    def _record_intrinsic(self) -> None:
        raw = getattr(self.model, "intrinsic", {}).get("raw_rewards")
        if raw is not None:
            self.intrinsic.append((self.num_timesteps, float(np.mean(raw))))

    def _on_rollout_start(self) -> None:
        self._record_intrinsic()

    def _on_rollout_end(self) -> None:
        self.coverage.append((self.num_timesteps, float((self.visited & self.free).sum() / self.free.sum())))

    def _on_training_end(self) -> None:
        self._record_intrinsic()


def train(task_id: str, agent: str, seed: int, timesteps: int, kwargs: dict, args: argparse.Namespace) -> RunRecord:
    env = gym.make(task_id)
    env.reset(seed=seed)
    env.action_space.seed(seed)
    model = make_agent(get_agent(agent), env, task_id, seed, kwargs, args.tensorboard_log)
    log = TrainingLog(~env.unwrapped.fixed_layout.grid)
    start = time.perf_counter()
    model.learn(total_timesteps=timesteps, callback=log)
    train_time = time.perf_counter() - start
    record = evaluate_run(task_id, agent, model, train_seed=seed, train_timesteps=timesteps,
                          train_time_s=train_time, agent_kwargs=kwargs)
    if args.save is not None:
        record.attach_weights(save_weights(model, run_path(args.save, task_id, agent, seed).with_suffix("")))
    record.agent_obj = None
    curve = {"episodes": log.episodes, "coverage": log.coverage, "intrinsic": log.intrinsic,
             "train_time_s": train_time, "timesteps": timesteps}
    curve_path(args.out, task_id, agent, seed).parent.mkdir(parents=True, exist_ok=True)
    curve_path(args.out, task_id, agent, seed).write_text(json.dumps(curve))
    success = np.mean([e[1] for e in log.episodes]) if log.episodes else 0.0
    print(f"{task_id} {agent} seed {seed}: {timesteps} steps in {train_time:.0f}s ({timesteps / train_time:,.0f} "
          f"steps/s incl. updates), {len(log.episodes)} training episodes ({success:.2f} success), coverage "
          f"{log.coverage[-1][1]:.2f}, eval success {np.mean([m['success'] for m in record.episode_metrics]):.2f}",
          flush=True)
    return record


def curve_path(out: Path, task_id: str, agent: str, seed: int) -> Path:
    return out / "curves" / task_id.replace("/", "__") / agent / f"seed{seed}.json"


# ------------------------------------------------------------------------------ summary
def episodes_to(threshold: float, episodes: list) -> float:
    success = np.array([e[1] for e in episodes], dtype=float)
    if len(success) < WINDOW:
        return math.nan
    rolling = np.convolve(success, np.ones(WINDOW) / WINDOW, mode="valid")
    hit = np.flatnonzero(rolling >= threshold)
    return float(hit[0] + WINDOW) if len(hit) else math.nan


def per_run(records: list[RunRecord], name: str) -> list[float]:
    """Each run's mean of an episode metric over the episodes where it is defined (NaN if none)."""
    out = []
    for r in records:
        values = [m[name] for m in r.episode_metrics if m[name] is not None and np.isfinite(m[name])]
        out.append(float(np.mean(values)) if values else math.nan)
    return out


def path_ratio(records: list[RunRecord], astar: RunRecord) -> float:
    """Mean over runs and episodes of (path length / A*'s path length) where both reached the goal."""
    ratios = [m["path_length"] / a["path_length"] for r in records
              for m, a in zip(r.episode_metrics, astar.episode_metrics) if m["success"] and a["success"]]
    return float(np.mean(ratios)) if ratios else math.nan


def stochastic_success(record: RunRecord) -> float:
    """Success of the run's saved policy sampling its actions (SB3 ``deterministic=False``, torch
    seeded with the training seed) on the official evaluation seeds; NaN without weights."""
    if not record.artifact_path or not Path(record.artifact_path).is_file():
        return math.nan
    env = gym.make(record.task)
    model = load_weights(get_agent(record.agent), record.artifact_path, env, record.task)
    model.set_random_seed(record.train_seed)
    seeds = get_task(record.task).benchmark.eval_seeds(official=True)
    results = evaluate(model, env, seeds, deterministic=False, episode_metrics=episode_metrics)
    return float(np.mean([r.metrics["success"] for r in results]))


def fmt(x: float, digits: int = 2) -> str:
    return "–" if not np.isfinite(x) else f"{x:.{digits}f}"


def over_runs(values: list[float]) -> str:
    finite = [v for v in values if np.isfinite(v)]
    if not finite:
        return "–"
    text = format_over_runs(finite)
    return text if len(finite) == len(values) else f"{text} ({len(finite)}/{len(values)} runs)"


def load_runs(out: Path, task_id: str, agent: str) -> tuple[list[RunRecord], list[dict]]:
    records, curves = [], []
    folder = run_path(out, task_id, agent, 0).parent
    for seed in range(100):
        path = folder / f"seed{seed}.json"
        if not path.is_file():
            continue
        records.append(RunRecord.load(path))
        cpath = curve_path(out, task_id, agent, seed)
        if cpath.is_file():
            curves.append(json.loads(cpath.read_text()))
    return records, curves


def table(scene: str, task_id: str, out: Path, stochastic: bool) -> tuple[list[str], dict[str, list[dict]]]:
    astar = load_runs(out, task_id, "astar")[0]
    lines = [f"#### {scene} ({task_id})", "",
             "| agent | runs | success | collision | steps to goal | path / A* | episodes to 80% success "
             "| coverage at the end of training | training episodes within 1 m of the goal | training steps/s "
             "| success of the stochastic policy |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    all_curves = {}
    for agent in (*BASELINES, *LEARNERS):
        records, curves = load_runs(out, task_id, agent)
        if not records:
            continue
        to80, coverage, near, speed, sampled = "n/a (no training)", "–", "–", "–", "–"
        if curves:
            all_curves[agent] = curves
            reached = [episodes_to(0.8, c["episodes"]) for c in curves]
            hits = [x for x in reached if np.isfinite(x)]
            to80 = (f"{np.median(hits):.0f} (median of {len(hits)}/{len(reached)} seeds)" if hits
                    else f"not reached (0/{len(reached)} seeds)")
            coverage = over_runs([c["coverage"][-1][1] for c in curves])
            if all(len(e) > 4 for c in curves for e in c["episodes"]):
                near = over_runs([float(np.mean([e[4] <= 1.0 for e in c["episodes"]])) for c in curves])
            speed = over_runs([c["timesteps"] / c["train_time_s"] for c in curves])
            if stochastic:
                values = [stochastic_success(r) for r in records]
                sampled = f"{over_runs(values)} ({', '.join(fmt(v) for v in values)})"
        ratio = fmt(path_ratio(records, astar[0])) if astar else "–"
        lines.append(f"| {agent} | {len(records)} | {over_runs(per_run(records, 'success'))} | "
                     f"{over_runs(per_run(records, 'collision'))} | {over_runs(per_run(records, 'steps_to_goal'))} | "
                     f"{ratio} | {to80} | {coverage} | {near} | {speed} | {sampled} |")
    return lines, all_curves


def _band(ax, grid: np.ndarray, ys: list[np.ndarray], label: str) -> None:
    ys = np.array(ys)
    ax.plot(grid, np.nanmean(ys, axis=0), label=f"{label} ({len(ys)} seeds)", color=COLORS[label])
    ax.fill_between(grid, np.nanmin(ys, axis=0), np.nanmax(ys, axis=0), alpha=0.2, color=COLORS[label])


def plot_curves(all_curves: dict[str, dict[str, list[dict]]], path: Path) -> None:
    """Per scene: training success (last 20 episodes), coverage and intrinsic reward against
    timesteps, each the mean over seeds at common timesteps with a min..max band."""
    fig, axes = plt.subplots(3, len(all_curves), figsize=(5 * len(all_curves), 9), squeeze=False)
    for col, (scene, curves) in enumerate(all_curves.items()):
        top = max(c["timesteps"] for runs in curves.values() for c in runs)
        grid = np.linspace(0, top, 80)
        for agent, runs in curves.items():
            success = []
            for c in runs:
                if len(c["episodes"]) >= WINDOW:
                    t = np.array([e[0] for e in c["episodes"]])
                    s = np.convolve([e[1] for e in c["episodes"]], np.ones(WINDOW) / WINDOW, mode="valid")
                    success.append(np.interp(grid, t[WINDOW - 1:], s, left=np.nan))
            if success:
                _band(axes[0, col], grid, success, agent)
            _band(axes[1, col], grid, [np.interp(grid, *np.array(c["coverage"]).T, left=np.nan) for c in runs], agent)
            if all(c["intrinsic"] for c in runs):
                _band(axes[2, col], grid, [np.interp(grid, *np.array(c["intrinsic"]).T, left=np.nan) for c in runs],
                      agent)
        axes[0, col].set_title(f"{scene} (fixed map), sparse reward")
        axes[0, col].set_ylabel(f"training success (last {WINDOW} episodes)")
        axes[0, col].set_ylim(-0.02, 1.02)
        axes[1, col].set_ylabel("free 1 m cells visited (fraction)")
        axes[1, col].set_ylim(0, 1.02)
        axes[2, col].set_ylabel("raw intrinsic reward (rollout mean)")
        if any(np.nanmax(line.get_ydata(), initial=0) > 0 for line in axes[2, col].get_lines()):
            axes[2, col].set_yscale("log")  # a log axis with no positive value cannot place its ticks
        axes[2, col].set_xlabel("training timesteps")
        for ax in axes[:, col]:
            ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x / 1000:.0f}k"))
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def episode_strip(path: Path, seed: int = 10_000, frames: int = 5) -> None:
    """Top-down frames of an A* episode on the complex-dynamic fixed map, left to right."""
    from gauntlet.baselines.agv_warehouse import AStarAgent

    env = gym.make(TASKS["complex-dynamic"], render_mode="rgb_array")
    agent = AStarAgent(env)
    obs, info = env.reset(seed=seed)
    agent.on_reset(env, obs, info)
    images, done = [env.render()], False
    while not done:
        obs, _, term, trunc, info = env.step(agent.predict(obs)[0])
        done = term or trunc
        images.append(env.render())
    picks = np.linspace(0, len(images) - 1, frames).round().astype(int)
    gap = np.full((images[0].shape[0], 8, 3), 255, dtype=np.uint8)
    strip = np.concatenate([x for i in picks for x in (images[i], gap)][:-1], axis=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    plt.imsave(path, strip)
    outcome = "reached the goal" if info["is_success"] else "collided" if info["collision"] else "timed out"
    print(f"wrote {path} ({len(images) - 1} steps, A* {outcome}; frames at steps {picks.tolist()})")


def run_scene(scene: str, args: argparse.Namespace) -> None:
    task_id = TASKS[scene]
    spec = get_task(task_id).benchmark
    seeds = range(args.seeds if args.seeds is not None else spec.n_train_seeds)
    budget = args.timesteps if args.timesteps is not None else spec.train_timesteps
    for agent in args.agents:
        if agent in BASELINES:
            records = [run(task_id, agent, train_seed=0)]
            records[0].save(run_path(args.out, task_id, agent, 0))
        else:
            kwargs = dict(args.rnd_kwargs) if agent == "ppo-rnd" else {}
            records = []
            for seed in seeds:
                records.append(train(task_id, agent, seed, budget, kwargs, args))
                records[-1].save(run_path(args.out, task_id, agent, seed))
        if not args.no_leaderboard:
            kind = "baseline" if agent in BASELINES else "reference"
            path = leaderboard.record(records, kind=kind, directory=args.leaderboard_dir, replace=args.replace)
            print(f"{task_id} {agent}: board entry written to {path}", flush=True)


def main() -> None:
    args = parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        for scene in args.scenes:
            run_scene(scene, args)
    all_curves, lines = {}, []
    for scene in args.scenes:
        scene_lines, curves = table(scene, TASKS[scene], args.out, args.stochastic)
        lines += scene_lines + [""]
        if curves:
            all_curves[scene] = curves
    print("\nEvaluation on the official seeds (deterministic policies); mean ± sample std over training seeds.")
    print("\n".join(lines))
    (args.out / "summary.md").write_text("\n".join(lines))
    if all_curves:
        plot_curves(all_curves, args.img_dir / "agv_rnd_learning_curve.png")
        print(f"wrote {args.img_dir / 'agv_rnd_learning_curve.png'} and {args.out / 'summary.md'}")
    if not args.report_only:
        episode_strip(args.img_dir / "agv_episode.png")


if __name__ == "__main__":
    main()
