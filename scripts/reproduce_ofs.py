"""Reproduce the OFS study (arXiv 2512.22313) on gauntlet/FairThreshold-{Synthetic,German,COMPAS}-v0.

Every agent learns online during one long evaluation episode (the task's protocol: train
seeds 0..k-1 drive the agent, the official evaluation seed drives the env). For OFS and every
baseline the script prints cumulative reward, cumulative constraint violation (population-level
residuals), the fraction of feasible rounds (the feasibility flag of the leaderboard), regret against the oracle best feasible fixed
threshold on the same env seed, the steady-state (last ``--steady`` rounds) expected reward and
its gap to the oracle, and the final group-share drift; checks the targets (OFS steady state
within 0.01 of the oracle on the synthetic benchmark; OFS violation below UCB and primal-dual on
every benchmark); measures the env's throughput against CartPole-v1 in the same run; plots
cumulative regret and violation curves; and writes leaderboard entries.

German and COMPAS need the data files: they are downloaded (sha256-checked) into the data home
(``~/.cache/gauntlet``) on first use; offline, set GAUNTLET_DATA_HOME to a directory holding
fairness/german.data and fairness/compas-scores-two-years.csv (the repository's tests/data does).

    python scripts/reproduce_ofs.py   # 3 tasks x 6 agents x 10 seeds, ~3 min
    python scripts/reproduce_ofs.py --datasets synthetic --seeds 2 --no-leaderboard
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import gymnasium as gym
import numpy as np

import gauntlet  # noqa: F401  (registers the ids)
from gauntlet.bench import leaderboard
from gauntlet.bench.formatting import format_over_runs
from gauntlet.bench.artifacts import save_weights
from gauntlet.bench.runner import current_command, evaluate_run, make_agent, run_path
from gauntlet.registry import get_agent, get_task

TASKS = {"synthetic": "gauntlet/FairThreshold-Synthetic-v0", "german": "gauntlet/FairThreshold-German-v0",
         "compas": "gauntlet/FairThreshold-COMPAS-v0"}
AGENTS = ("ofs", "ucb", "primal-dual", "epsilon-greedy", "oracle-threshold", "random")
ORACLE = "oracle-threshold"


class Recorder:
    """Forwards the runner's calls to an agent and keeps the per-round reward and violation."""

    def __init__(self, agent: Any) -> None:
        self.agent = agent
        self.rewards: list[list[float]] = []
        self.violations: list[list[float]] = []
        self.expected_rewards: list[list[float]] = []

    def predict(self, observation, state=None, episode_start=None, deterministic=True):
        return self.agent.predict(observation, state=state, episode_start=episode_start, deterministic=deterministic)

    def on_reset(self, env, observation, info) -> None:
        self.rewards.append([])
        self.violations.append([])
        self.expected_rewards.append([])
        self.agent.on_reset(env, observation, info)

    def on_step(self, observation, reward, terminated, truncated, info) -> None:
        self.rewards[-1].append(float(reward))
        self.violations[-1].append(sum(max(v, 0.0) for v in info["expected_cost"].values()))
        self.expected_rewards[-1].append(info["expected_reward"])
        self.agent.on_step(observation, reward, terminated, truncated, info)


def throughput(task_id: str, n_steps: int, repeats: int) -> tuple[float, float]:
    """Steps/s of ``task_id`` and of CartPole-v1 through gym.make with pre-sampled random actions,
    alternating short chunks of both so that load from other processes hits both alike; the
    best chunk of each is reported."""
    envs = [gym.make(task_id), gym.make("CartPole-v1")]
    actions = []
    for env in envs:
        env.reset(seed=0)
        env.action_space.seed(0)
        actions.append([env.action_space.sample() for _ in range(1000)])
    best = [0.0, 0.0]
    for _ in range(repeats):
        for i, env in enumerate(envs):
            start = time.perf_counter()
            for k in range(n_steps):
                _, _, terminated, truncated, _ = env.step(actions[i][k % 1000])
                if terminated or truncated:
                    env.reset()
            best[i] = max(best[i], n_steps / (time.perf_counter() - start))
    return best[0], best[1]


def run_agent(task_id: str, name: str, seeds: list[int], command: str, save_dir: Path | None = None):
    """One RunRecord per train seed, with the per-round curves of every run. With ``save_dir`` a
    learning agent is saved before its episode (it learns online while evaluated, so the saved
    state is what ``gauntlet leaderboard evaluate`` replays)."""
    records, curves = [], []
    for seed in seeds:
        env = gym.make(task_id)
        learner = make_agent(get_agent(name), env, task_id, seed=seed)
        weights = None
        if save_dir is not None and get_agent(name).learns:
            weights = save_weights(learner, run_path(save_dir, task_id, name, seed).with_suffix(""))
        agent = Recorder(learner)
        records.append(evaluate_run(task_id, name, agent, train_seed=seed, command=command))
        if weights is not None:
            records[-1].attach_weights(weights)
        records[-1].agent_obj = agent.agent
        curves.append({k: np.asarray(getattr(agent, k)[0]) for k in ("rewards", "violations", "expected_rewards")})
        env.close()
    return records, curves


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(results), figsize=(5 * len(results), 7), squeeze=False)
    for col, (dataset, per_agent) in enumerate(results.items()):
        oracle = np.mean([c["rewards"] for c in per_agent[ORACLE][1]], axis=0)
        for name, (_, curves) in per_agent.items():
            regret = np.cumsum(oracle[None, :] - np.array([c["rewards"] for c in curves]), axis=1)
            violation = np.cumsum(np.array([c["violations"] for c in curves]), axis=1)
            for row, data in enumerate((regret, violation)):
                mean, std = data.mean(0), data.std(0, ddof=1)
                t = np.arange(1, len(mean) + 1)
                axes[row, col].plot(t, mean, label=name)
                axes[row, col].fill_between(t, mean - std, mean + std, alpha=0.2)
        axes[0, col].set_title(TASKS[dataset].split("/")[1])
        axes[0, col].set_ylabel("cumulative regret vs oracle")
        axes[1, col].set_ylabel("cumulative violation")
        axes[1, col].set_xlabel("round")
        axes[1, col].set_yscale("symlog", linthresh=1.0)
    axes[0, 0].legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", choices=list(TASKS), default=list(TASKS))
    parser.add_argument("--seeds", type=int, default=None, help="train seeds 0..k-1 (default: the task's 10)")
    parser.add_argument("--steady", type=int, default=500, help="rounds at the end that count as steady state")
    parser.add_argument("--plot", default="docs/img/ofs_curves.png")
    parser.add_argument("--leaderboard-dir", default="leaderboards")
    parser.add_argument("--no-leaderboard", action="store_true", help="do not write leaderboard entries")
    parser.add_argument("--replace", action="store_true", help="replace the agents' existing board entries")
    parser.add_argument("--save", type=Path, default=None,
                        help="keep each learning agent's state before its episode under this directory")
    parser.add_argument("--speed-steps", type=int, default=5000, help="steps per throughput chunk (0 = skip)")
    args = parser.parse_args(argv)
    command = current_command()

    results: dict[str, dict[str, tuple[list, list]]] = {}
    summary: dict[tuple[str, str], dict[str, float]] = {}
    for dataset in args.datasets:
        task_id = TASKS[dataset]
        spec = get_task(task_id).benchmark
        seeds = list(range(args.seeds)) if args.seeds else spec.train_seeds
        print(f"\n{task_id}  (train seeds {seeds[0]}..{seeds[-1]}, eval seed {spec.eval_seeds()[0]}, "
              f"{gym.make(task_id).unwrapped.horizon} rounds)")
        start = time.perf_counter()
        per_agent = {name: run_agent(task_id, name, seeds, command, args.save) for name in (ORACLE, *[a for a in AGENTS if a != ORACLE])}
        results[dataset] = per_agent
        oracle_returns = np.array([r.episode_metrics[0]["return"] for r in per_agent[ORACLE][0]])
        oracle_steady = np.mean([c["expected_rewards"][-args.steady:].mean() for c in per_agent[ORACLE][1]])
        print(f"  {'agent':<16}{'return':>19}{'violation':>19}{'feasible':>10}{'regret':>19}"
              f"{'steady E[r]':>13}{'gap':>9}{'drift':>8}")
        for name in AGENTS:
            records, curves = per_agent[name]
            metrics = [r.episode_metrics[0] for r in records]
            returns = np.array([m["return"] for m in metrics])
            steady = np.mean([c["expected_rewards"][-args.steady:].mean() for c in curves])
            row = {"return": returns.mean(), "violation": np.mean([m["violation"] for m in metrics]),
                   "steady": steady, "gap": steady - oracle_steady}
            summary[(dataset, name)] = row
            print(f"  {name:<16}{format_over_runs(returns):>19}{format_over_runs([m['violation'] for m in metrics]):>19}"
                  f"{np.mean([m['feasible'] for m in metrics]):>10.3f}{format_over_runs(oracle_returns.mean() - returns):>19}"
                  f"{steady:>13.4f}{row['gap']:>+9.4f}{np.mean([m['final_disparity'] for m in metrics]):>8.3f}")
            if not args.no_leaderboard and len(seeds) == spec.n_train_seeds:
                kind = "reference" if get_agent(name).kind == "reference" else "baseline"
                leaderboard.record(records, kind=kind, directory=args.leaderboard_dir, replace=args.replace)
        oracle_threshold = per_agent[ORACLE][0][0].agent_obj.threshold
        print(f"  oracle threshold {oracle_threshold:.2f}; {time.perf_counter() - start:.0f} s")

    print("\nTargets")
    if "synthetic" in args.datasets:
        gap = summary[("synthetic", "ofs")]["gap"]
        print(f"  OFS steady-state expected reward vs oracle on synthetic: gap {gap:+.4f} "
              f"-> {'met' if abs(gap) <= 0.01 else 'NOT met'} (target |gap| <= 0.01)")
    for dataset in args.datasets:
        ofs = summary[(dataset, "ofs")]["violation"]
        others = {n: summary[(dataset, n)]["violation"] for n in ("ucb", "primal-dual")}
        verdict = "met" if all(ofs < v for v in others.values()) else "NOT met"
        print(f"  {dataset}: OFS violation {ofs:.2f} vs " + ", ".join(f"{n} {v:.2f}" for n, v in others.items())
              + f" -> {verdict}")

    if args.speed_steps > 0:
        fair, cartpole = throughput("gauntlet/FairThreshold-v0", args.speed_steps, repeats=5)
        print(f"\nThroughput: FairThreshold-v0 {fair:,.0f} steps/s, CartPole-v1 {cartpole:,.0f} steps/s "
              f"-> {fair / cartpole:.2f}x (target >= 0.5x)")

    plot(results, Path(args.plot))
    print(f"\nplot: {args.plot}")
    if not args.no_leaderboard:
        print(f"leaderboard entries written under {args.leaderboard_dir}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
