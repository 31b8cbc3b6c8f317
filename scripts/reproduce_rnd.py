"""Reproduce the AGV paper's comparison: PPO vs PPO + RND with sparse rewards, next to the
classical baselines (random, straight-to-goal, A* + pure pursuit), plus the env's throughput.

For every scene: trains ``ppo`` and ``ppo-rnd`` with equal budgets and identical PPO
hyperparameters over ``--seeds`` training seeds, evaluates them and the baselines on the task's
official evaluation seeds, and prints success rate, collision rate, steps to goal, path length
relative to A* on the same episodes (episodes both reached), and episodes to 80% success
(first training episode at which the success rate of the last 20 training episodes is >= 0.8).
Writes leaderboard entries, run records, the training curves (JSON), a learning-curve PNG and a
picture strip of an A* episode for the README. Throughput: single env vs CartPole-v1 in the
same run, and the native batched env at 1024 AGVs (wall clock and process CPU time; the latter
is what the code costs on an otherwise idle core).

    python scripts/reproduce_rnd.py                                        # task budget, all scenes
    python scripts/reproduce_rnd.py --scenes complex-static --timesteps 20000   # small budget

The paper reports (its own maps, not public) that RND-PPO reaches the goal faster than PPO with
continuous actions; it gives no numbers that transfer to this formulation.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
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
from gauntlet.bench.runner import RunRecord, evaluate_run, make_agent, run, run_path  # noqa: E402
from gauntlet.registry import get_agent, get_task  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TASKS = {
    "simple-static": "gauntlet/AGVWarehouse-SimpleStatic-v0",
    "simple-dynamic": "gauntlet/AGVWarehouse-SimpleDynamic-v0",
    "complex-static": "gauntlet/AGVWarehouse-ComplexStatic-v0",
    "complex-dynamic": "gauntlet/AGVWarehouse-ComplexDynamic-v0",
}
LEARNERS = ("ppo", "ppo-rnd")
BASELINES = ("random", "straight-to-goal", "astar")
WINDOW = 20


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenes", nargs="+", default=list(TASKS), choices=list(TASKS), help="(default: all four)")
    p.add_argument("--seeds", type=int, default=None, help="training seeds 0..k-1 (default: the task's spec)")
    p.add_argument("--timesteps", type=int, default=None, help="training steps per run (default: the task's budget)")
    p.add_argument("--ppo-kwargs", type=json.loads, default={},
                   help="PPO hyperparameters given to both learners on top of the registry's shared AGV settings, JSON")
    p.add_argument("--rnd-kwargs", type=json.loads, default={},
                   help="extra PPORND arguments such as int_coef, ext_coef, rnd_lr, JSON (default: the agent's)")
    p.add_argument("--out", type=Path, default=ROOT / "runs" / "reproduce_rnd", help="(default: %(default)s)")
    p.add_argument("--img-dir", type=Path, default=ROOT / "docs" / "img", help="(default: %(default)s)")
    p.add_argument("--leaderboard-dir", type=Path, default=ROOT / "leaderboards", help="(default: %(default)s)")
    p.add_argument("--no-leaderboard", action="store_true", help="do not write leaderboard entries")
    p.add_argument("--speed-steps", type=int, default=20_000, help="single-env steps timed (0 skips the speed test)")
    p.add_argument("--tensorboard-log", type=str, default=None, help="TensorBoard directory for the learners")
    p.add_argument("--workers", type=int, default=1, help="training runs in parallel processes (default: %(default)s)")
    args = p.parse_args()
    if args.seeds is not None and args.seeds < 1:
        p.error(f"--seeds must be >= 1, got {args.seeds}")
    if args.timesteps is not None and args.timesteps < 1:
        p.error(f"--timesteps must be >= 1, got {args.timesteps}")
    if args.workers < 1:
        p.error(f"--workers must be >= 1, got {args.workers}")
    return args


# ------------------------------------------------------------------------------ speed
def _time(fn, n: int) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return n / (time.perf_counter() - wall), n / max(time.process_time() - cpu, 1e-9)


def single_env_speed(env_id: str, steps: int) -> tuple[float, float]:
    env = gym.make(env_id)
    env.reset(seed=0)
    env.action_space.seed(0)
    actions = [env.action_space.sample() for _ in range(steps)]

    def loop() -> None:
        for a in actions:
            _, _, term, trunc, _ = env.step(a)
            if term or trunc:
                env.reset()

    return _time(loop, steps)


def vector_speed(task_id: str, num_envs: int = 1024, steps: int = 100) -> tuple[float, float]:
    env = gym.make_vec(task_id, num_envs=num_envs, vectorization_mode="vector_entry_point")
    env.reset(seed=0)
    env.action_space.seed(0)
    actions = [env.action_space.sample() for _ in range(steps)]

    def loop() -> None:
        for a in actions:
            env.step(a)

    return _time(loop, steps * num_envs)


def speed_report(scenes: list[str], steps: int) -> dict[str, Any]:
    cart = single_env_speed("CartPole-v1", steps)
    agv = single_env_speed("gauntlet/AGVWarehouse-v0", steps)
    report: dict[str, Any] = {
        "cartpole_steps_per_s": cart,
        "agv_single_steps_per_s": agv,
        "ratio_wall": agv[0] / cart[0],
        "ratio_cpu": agv[1] / cart[1],
        "vector_1024": {},
    }
    print(f"single env (random actions, {steps} steps): CartPole-v1 {cart[0]:,.0f} steps/s "
          f"({cart[1]:,.0f}/cpu-s); AGVWarehouse-v0 {agv[0]:,.0f} steps/s ({agv[1]:,.0f}/cpu-s); "
          f"ratio {report['ratio_wall']:.2f}x wall, {report['ratio_cpu']:.2f}x cpu")
    for scene in dict.fromkeys(["simple-static", *scenes]):
        wall, cpu = vector_speed(TASKS[scene])
        report["vector_1024"][scene] = (wall, cpu)
        print(f"native vector, 1024 AGVs, {scene}: {wall:,.0f} steps/s wall, {cpu:,.0f} steps/cpu-s")
    return report


# ------------------------------------------------------------------------------ training
class SuccessLog(BaseCallback):
    """(timestep, success) of every finished training episode."""

    def __init__(self) -> None:
        super().__init__()
        self.episodes: list[tuple[int, bool]] = []

    def _on_step(self) -> bool:
        for done, info in zip(self.locals["dones"], self.locals["infos"]):
            if done:
                self.episodes.append((self.num_timesteps, bool(info.get("is_success", False))))
        return True


def train(task_id: str, agent: str, seed: int, timesteps: int, kwargs: dict, tb: str | None) -> tuple[RunRecord, list]:
    env = gym.make(task_id)
    env.reset(seed=seed)
    env.action_space.seed(seed)
    model = make_agent(get_agent(agent), env, task_id, seed, kwargs, tb)
    log = SuccessLog()
    start = time.perf_counter()
    model.learn(total_timesteps=timesteps, callback=log)
    train_time = time.perf_counter() - start
    record = evaluate_run(task_id, agent, model, train_seed=seed, train_timesteps=timesteps,
                          train_time_s=train_time, agent_kwargs=kwargs)
    record.agent_obj = None  # the record goes back to the parent process; the model stays here
    return record, log.episodes


def train_job(job: tuple) -> tuple[RunRecord, list, float]:
    start = time.perf_counter()
    record, episodes = train(*job)
    return record, episodes, time.perf_counter() - start


def episodes_to(threshold: float, episodes: list[tuple[int, bool]]) -> float:
    success = np.array([s for _, s in episodes], dtype=float)
    if len(success) < WINDOW:
        return math.nan
    rolling = np.convolve(success, np.ones(WINDOW) / WINDOW, mode="valid")
    hit = np.flatnonzero(rolling >= threshold)
    return float(hit[0] + WINDOW) if len(hit) else math.nan


# ------------------------------------------------------------------------------ summary
def metric(records: list[RunRecord], name: str) -> tuple[float, float]:
    per_run = [np.nanmean([m[name] for m in r.episode_metrics]) if any(np.isfinite(m[name]) for m in r.episode_metrics)
               else np.nan for r in records]
    per_run = np.array(per_run, dtype=float)
    if not np.isfinite(per_run).any():
        return math.nan, math.nan
    finite = per_run[np.isfinite(per_run)]
    # Sample std over runs (ddof=1), as the boards aggregate; one run has no spread.
    return float(finite.mean()), float(finite.std(ddof=1)) if finite.size > 1 else math.nan


def path_ratio(records: list[RunRecord], astar: RunRecord) -> float:
    """Mean over runs and episodes of (path length / A*'s path length) where both reached the goal."""
    ratios = []
    for r in records:
        for m, a in zip(r.episode_metrics, astar.episode_metrics):
            if m["success"] and a["success"]:
                ratios.append(m["path_length"] / a["path_length"])
    return float(np.mean(ratios)) if ratios else math.nan


def fmt(x: float, digits: int = 2) -> str:
    return "–" if not np.isfinite(x) else f"{x:.{digits}f}"


def table(scene: str, records: dict[str, list[RunRecord]], curves: dict[str, list]) -> list[str]:
    astar = records["astar"][0]
    lines = [f"#### {scene}", "",
             "| agent | success | collision | steps to goal | path / A* | episodes to 80% success |",
             "|---|---|---|---|---|---|"]
    for agent, recs in records.items():
        s, s_sd = metric(recs, "success")
        c, c_sd = metric(recs, "collision")
        steps, _ = metric(recs, "steps_to_goal")
        to80 = "n/a (no training)"
        if agent in curves:
            reached = [episodes_to(0.8, ep) for ep in curves[agent]]
            hits = [x for x in reached if np.isfinite(x)]
            to80 = f"{np.median(hits):.0f} ({len(hits)}/{len(reached)} seeds)" if hits else f"not reached (0/{len(reached)} seeds)"
        lines.append(f"| {agent} | {fmt(s)} ± {fmt(s_sd)} | {fmt(c)} ± {fmt(c_sd)} | {fmt(steps, 0)} | "
                     f"{fmt(path_ratio(recs, astar))} | {to80} |")
    return lines


def plot_curves(all_curves: dict[str, dict[str, list]], timesteps: int, path: Path) -> None:
    fig, axes = plt.subplots(1, len(all_curves), figsize=(5 * len(all_curves), 3.6), squeeze=False)
    grid = np.linspace(0, timesteps, 60)
    for ax, (scene, curves) in zip(axes[0], all_curves.items()):
        for agent, runs in curves.items():
            ys = []
            for episodes in runs:
                if len(episodes) < WINDOW:
                    continue
                t = np.array([e[0] for e in episodes])
                s = np.convolve([e[1] for e in episodes], np.ones(WINDOW) / WINDOW, mode="valid")
                ys.append(np.interp(grid, t[WINDOW - 1:], s, left=np.nan))
            if not ys:
                continue
            ys = np.array(ys)
            mean = np.nanmean(ys, axis=0)
            ax.plot(grid, mean, label=f"{agent} ({len(ys)} seeds)")
            ax.fill_between(grid, np.nanmin(ys, axis=0), np.nanmax(ys, axis=0), alpha=0.2)
        ax.set_title(f"{scene}, sparse reward")
        ax.set_xlabel("training timesteps")
        ax.set_ylabel(f"success (last {WINDOW} training episodes)")
        ax.set_ylim(-0.02, 1.02)
        ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def episode_strip(path: Path, seed: int = 10_000, frames: int = 5) -> None:
    """Top-down frames of an A* episode on complex-dynamic, left to right."""
    from gauntlet.baselines.agv_warehouse import AStarAgent

    env = gym.make("gauntlet/AGVWarehouse-ComplexDynamic-v0", render_mode="rgb_array")
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


def main() -> None:
    args = parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}
    if args.speed_steps > 0:
        summary["speed"] = speed_report(args.scenes, args.speed_steps)

    lines: list[str] = []
    all_curves: dict[str, dict[str, list]] = {}
    budget = 0
    for scene in args.scenes:
        task_id = TASKS[scene]
        spec = get_task(task_id).benchmark
        seeds = range(args.seeds if args.seeds is not None else spec.n_train_seeds)
        budget = args.timesteps if args.timesteps is not None else spec.train_timesteps
        records: dict[str, list[RunRecord]] = {}
        for agent in BASELINES:
            rec = run(task_id, agent, train_seed=0)
            records[agent] = [rec]
            rec.save(run_path(args.out, task_id, agent, 0))
        jobs = [
            (task_id, agent, seed, budget, dict(args.ppo_kwargs, **(args.rnd_kwargs if agent == "ppo-rnd" else {})),
             args.tensorboard_log)
            for agent in LEARNERS for seed in seeds
        ]
        if args.workers > 1:
            with ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
                results = list(pool.map(train_job, jobs))
        else:
            results = [train_job(job) for job in jobs]
        curves: dict[str, list] = {agent: [] for agent in LEARNERS}
        for agent in LEARNERS:
            records[agent] = []
        for job, (rec, episodes, seconds) in zip(jobs, results):
            agent, seed = job[1], job[2]
            rec.save(run_path(args.out, task_id, agent, seed))
            records[agent].append(rec)
            curves[agent].append(episodes)
            train_success = np.mean([e[1] for e in episodes]) if episodes else 0.0
            print(f"{scene} {agent} seed {seed}: {budget} steps + evaluation in {seconds:.0f}s, {len(episodes)} "
                  f"training episodes ({train_success:.2f} success), eval success "
                  f"{np.mean([m['success'] for m in rec.episode_metrics]):.2f}")
        all_curves[scene] = curves
        lines += table(scene, records, curves) + [""]
        if not args.no_leaderboard:
            for agent, recs in records.items():
                kind = "baseline" if agent in BASELINES else "reference"
                leaderboard.record(recs, kind=kind, directory=args.leaderboard_dir)
    summary["curves"] = {s: {a: [[list(e) for e in run_] for run_ in runs] for a, runs in c.items()}
                         for s, c in all_curves.items()}
    report = "\n".join(lines)
    print()
    print(f"Budget: {budget} timesteps per run, PPO kwargs {args.ppo_kwargs or 'registry defaults'}, RND kwargs {args.rnd_kwargs or 'defaults'}; "
          f"evaluation on the official seeds (success/collision: mean ± sample std over training seeds).")
    print(report)
    summary["table"] = report
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1, default=float))
    plot_curves(all_curves, budget, args.img_dir / "agv_rnd_learning_curve.png")
    print(f"wrote {args.img_dir / 'agv_rnd_learning_curve.png'} and {args.out / 'summary.json'}")
    episode_strip(args.img_dir / "agv_episode.png")


if __name__ == "__main__":
    main()
