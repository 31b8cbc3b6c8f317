"""Reproduce the ESG portfolio study (arXiv 2307.09631) on gauntlet/ESGPortfolio-*.

Trains A2C (the paper's main agent) and PPO with FinRL's hyperparameters on the training period
(2010-2019) for several seeds, and evaluates them and the classical baselines on the test period
(2020-2022) in the ESG-regulated and unregulated markets, with and without ESG features in the
state; the same learners trained with a turnover penalty in the reward (``a2c-turnover-penalty``,
``ppo-turnover-penalty``: reward - 0.1 * daily turnover, evaluated on the task's reward) against
churn. Prints annualized return, Sharpe, max drawdown, turnover, transaction costs paid, the
yearly cost drag and portfolio ESG for every agent; whether the regulated market improves the
agents' Sharpe beyond the spread over training seeds (Welch's 95% CI on the difference of the
mean Sharpe, regulated minus unregulated) and how much of that is the grant itself (the
regulated-trained agents are also evaluated in the unregulated market); what the penalty changes
(the same CI, penalized minus unpenalized); and the env's throughput against CartPole-v1
measured in the same run. Writes leaderboard entries (sp500 data only) and a wealth-curve PNG.

    python scripts/reproduce_esg.py --save models/esg_portfolio --reuse-weights --replace   # 18 min, loaded 2-core machine
    python scripts/reproduce_esg.py --data synthetic --timesteps 2000 --seeds 1 --no-leaderboard

``--reuse-weights`` (with ``--save``) loads a learner run whose weights file is already under
``--save`` and recorded on its board instead of training it again (training is deterministic
given the seed, and the file's sha256 is the run's); the run keeps the training time the board
recorded, and everything is evaluated afresh.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import gymnasium as gym
import numpy as np
from scipy import stats

import gauntlet  # noqa: F401  (registers the ids)
from gauntlet.bench import leaderboard
from gauntlet.bench.artifacts import load_weights, save_weights
from gauntlet.data.fetch import sha256_of
from gauntlet.bench.formatting import format_over_runs
from gauntlet.bench.runner import current_command, evaluate_run, make_agent, run_path
from gauntlet.registry import get_agent, get_task

VARIANTS = {
    "Regulated": "gauntlet/ESGPortfolio-Regulated-v0",
    "Regulated-NoESG": "gauntlet/ESGPortfolio-Regulated-NoESG-v0",
    "Unregulated": "gauntlet/ESGPortfolio-Unregulated-v0",
    "Unregulated-NoESG": "gauntlet/ESGPortfolio-Unregulated-NoESG-v0",
}
LEARNERS = ("a2c", "ppo", "a2c-turnover-penalty", "ppo-turnover-penalty")
PENALIZED = {"a2c-turnover-penalty": "a2c", "ppo-turnover-penalty": "ppo"}
BASELINES = ("equal-weight", "buy-and-hold", "min-variance", "max-sharpe", "esg-tilted")
COLUMNS = ("sharpe", "annualized_return", "max_drawdown", "turnover", "transaction_costs", "cost_drag",
           "portfolio_esg", "final_wealth")


def throughput(task_id: str, env_kwargs: dict, n_steps: int) -> tuple[float, float]:
    """Steps/s of the ESG env and of CartPole-v1, both through gym.make, stepping random actions
    sampled before the clock starts (Box.sample alone costs more than a step of either env)."""
    out = []
    for make in (lambda: gym.make(task_id, **env_kwargs), lambda: gym.make("CartPole-v1")):
        env = make()
        env.reset(seed=0)
        env.action_space.seed(0)
        actions = [env.action_space.sample() for _ in range(1000)]
        start = time.perf_counter()
        for k in range(n_steps):
            _, _, terminated, truncated, _ = env.step(actions[k % 1000])
            if terminated or truncated:
                env.reset()
        out.append(n_steps / (time.perf_counter() - start))
        env.close()
    return out[0], out[1]


def wealth_curve(model, task_id: str, env_kwargs: dict) -> tuple[np.ndarray, np.ndarray]:
    env = gym.make(task_id, **env_kwargs)
    obs, info = env.reset(seed=0)
    if hasattr(model, "on_reset"):
        model.on_reset(env, obs, info)
    dates, wealth, done = [np.datetime64(info["date"])], [1.0], False
    while not done:
        obs, _, terminated, truncated, info = env.step(model.predict(obs, deterministic=True)[0])
        dates.append(np.datetime64(info["date"]))
        wealth.append(info["portfolio_value"])
        done = terminated or truncated
    env.close()
    return np.array(dates), np.array(wealth)


def board_run(directory: str, task_id: str, agent: str, seed: int | None = None) -> dict | None:
    """The gauntlet entry of ``agent`` on the task's board (or, with ``seed``, its run of that seed)."""
    path = leaderboard.board_path(directory, task_id)
    if not path.exists():
        return None
    for entry in leaderboard.load(path)["entries"]:
        if entry["agent"] == agent and entry["submitter"] == "gauntlet":
            return entry if seed is None else next((r for r in entry["runs"] if r["train_seed"] == seed), None)
    return None


def saved_run(args: argparse.Namespace, task_id: str, agent: str, seed: int) -> tuple[Path, float] | None:
    """The weights file under ``--save`` of this run and the training time its board run recorded,
    when the board's run is of that very file (same sha256); None otherwise."""
    weights = run_path(args.save, task_id, agent, seed).with_suffix(".zip")
    run = board_run(args.leaderboard_dir, task_id, agent, seed)
    if not weights.is_file() or run is None or run.get("artifact_sha256") != sha256_of(weights):
        return None
    # the board keeps steps_per_s = trained_timesteps / training time (wall_time_s adds the evaluation)
    return weights, float(run["trained_timesteps"]) / float(run["steps_per_s"])


def summary(records) -> dict[str, list[float]]:
    """Each column's value in every run (the one test-period episode of each)."""
    return {c: [r.episode_metrics[0][c] for r in records] for c in COLUMNS}


def print_table(title: str, rows: dict[str, dict[str, list[float]]]) -> None:
    print(f"\n{title}")
    print(f"{'agent':<22}" + "".join(f"{c:>22}" for c in COLUMNS))
    for name, values in rows.items():
        print(f"{name:<22}" + "".join(f"{format_over_runs(values[c]):>22}" for c in COLUMNS))


def difference_ci(a: np.ndarray, b: np.ndarray) -> str:
    """``mean(a) - mean(b)`` with Welch's 95% CI over the runs, and whether it excludes 0."""
    diff = a.mean() - b.mean()
    if len(a) < 2 or len(b) < 2:
        return f"{diff:+.3f} (one run: no CI)"
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    verdict = "excludes 0" if ci.low > 0 or ci.high < 0 else "includes 0: within the seed spread"
    return f"{diff:+.3f}, 95% CI [{ci.low:+.3f}, {ci.high:+.3f}] {verdict}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timesteps", type=int, default=8192, help="training steps per learning run")
    parser.add_argument("--seeds", type=int, default=3, help="training seeds 0..k-1 per learning agent")
    parser.add_argument("--agents", nargs="+", default=list(LEARNERS), choices=LEARNERS)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--data", choices=("sp500", "synthetic"), default="sp500")
    parser.add_argument("--leaderboard-dir", default="leaderboards")
    parser.add_argument("--no-leaderboard", action="store_true", help="do not write leaderboard entries")
    parser.add_argument("--replace", action="store_true", help="replace the agents' existing board entries")
    parser.add_argument("--save", type=Path, default=None,
                        help="keep each trained learner's weights under this directory (sha256 on the board)")
    parser.add_argument("--reuse-weights", action="store_true",
                        help="load learner runs whose weights are under --save and on the board instead of training")
    parser.add_argument("--png", default="docs/img/esg_wealth_curves.png")
    parser.add_argument("--throughput-steps", type=int, default=20_000)
    args = parser.parse_args(argv)
    if args.data != "sp500" and not args.no_leaderboard:
        parser.error("leaderboard entries are for the sp500 data; add --no-leaderboard with --data synthetic")
    if args.reuse_weights and args.save is None:
        parser.error("--reuse-weights loads from the --save directory: pass --save")

    import torch

    torch.set_num_threads(1)
    data_kwargs = {} if args.data == "sp500" else {"data": "synthetic", "synthetic_assets": 10, "synthetic_days": 2000}
    # evaluate_run adds the protocol's eval_env_kwargs (the test period) to these.
    train_kwargs = {**data_kwargs, "period": "train"}
    test_kwargs = {**data_kwargs, "period": "test"}
    command = current_command()

    esg_sps, cartpole_sps = throughput(VARIANTS["Regulated"], test_kwargs, args.throughput_steps)
    print(f"throughput: ESGPortfolio {esg_sps:,.0f} steps/s, CartPole-v1 {cartpole_sps:,.0f} steps/s, "
          f"ratio {esg_sps / cartpole_sps:.2f} (target >= 0.3)")

    eval_seeds = get_task(VARIANTS["Regulated"]).benchmark.eval_seeds(official=True)
    tables, curves, sharpe_by_seed, cross = {}, {}, {}, {}
    for variant in args.variants:
        task_id = VARIANTS[variant]
        rows, curves[variant] = {}, {}
        for name in BASELINES:
            # Built on the training period, as the protocol builds every agent; evaluated on the test period.
            env = gym.make(task_id, **train_kwargs)
            model = make_agent(get_agent(name), env, task_id, seed=0)
            record = evaluate_run(task_id, name, model, eval_seeds=eval_seeds, env_kwargs=data_kwargs, command=command)
            rows[name] = summary([record])
            curves[variant][name] = wealth_curve(model, task_id, test_kwargs)
            if not args.no_leaderboard:
                leaderboard.record([record], kind="baseline", directory=args.leaderboard_dir, replace=args.replace)
        for name in args.agents:
            records = []
            for seed in range(args.seeds):
                train_env = gym.make(task_id, **train_kwargs)
                train_env.reset(seed=seed)
                reused = saved_run(args, task_id, name, seed) if args.reuse_weights else None
                if reused is not None:
                    weights, train_time = reused
                    model = load_weights(get_agent(name), weights, train_env, task_id)
                else:
                    start = time.perf_counter()
                    model = make_agent(get_agent(name), train_env, task_id, seed)
                    model.learn(total_timesteps=args.timesteps)
                    train_time = time.perf_counter() - start
                records.append(evaluate_run(
                    task_id, name, model, train_seed=seed, train_timesteps=args.timesteps, train_time_s=train_time,
                    eval_seeds=eval_seeds, env_kwargs=data_kwargs, command=command,
                ))
                if args.save is not None:
                    if reused is None:
                        weights = save_weights(model, run_path(args.save, task_id, name, seed).with_suffix(""))
                    records[-1].attach_weights(weights)
                print(f"  {variant:<18} {name} seed {seed}: sharpe {records[-1].episode_metrics[0]['sharpe']:.3f} "
                      f"({args.timesteps} steps in {train_time:.0f} s{', weights reused' if reused else ''})", flush=True)
                if seed == 0:
                    curves[variant][name] = wealth_curve(model, task_id, test_kwargs)
                if variant.startswith("Regulated"):
                    other = VARIANTS[variant.replace("Regulated", "Unregulated")]
                    crossed = evaluate_run(other, name, model, eval_seeds=eval_seeds, env_kwargs=data_kwargs)
                    cross.setdefault((variant, name), []).append(crossed.episode_metrics[0]["sharpe"])
                train_env.close()
            rows[name] = summary(records)
            sharpe_by_seed[(variant, name)] = [r.episode_metrics[0]["sharpe"] for r in records]
            if not args.no_leaderboard:
                replace = args.replace and board_run(args.leaderboard_dir, task_id, name) is not None
                leaderboard.record(records, kind="reference", directory=args.leaderboard_dir, replace=replace)
        tables[variant] = rows
        print_table(f"{task_id} -- test period, mean ± sample std over training seeds", rows)

    print("\nDoes the ESG-regulated market improve the agents' Sharpe (paper: yes)? Regulated minus unregulated "
          "mean Sharpe over the training seeds, Welch's 95% CI")
    for name in args.agents:
        for state in ("", "-NoESG"):
            reg, unreg = (f"Regulated{state}", f"Unregulated{state}")
            if (reg, name) not in sharpe_by_seed or (unreg, name) not in sharpe_by_seed:
                continue
            a, b = np.array(sharpe_by_seed[(reg, name)]), np.array(sharpe_by_seed[(unreg, name)])
            c = np.array(cross[(reg, name)])
            print(f"  {name:<20} {('ESG in state' if not state else 'no ESG in state'):<16} regulated {a.mean():.3f} "
                  f"vs unregulated {b.mean():.3f}: {difference_ci(a, b)}; seeds better {int((a > b).sum())}/{len(a)}; "
                  f"regulated-trained agent in the unregulated market {c.mean():.3f} (learned-policy effect "
                  f"{difference_ci(c, b)})")

    print("\nWhat the turnover penalty changes (penalized minus unpenalized, Welch's 95% CI over the training seeds)")
    for penalized, plain in PENALIZED.items():
        for variant in args.variants:
            if (variant, penalized) not in sharpe_by_seed or (variant, plain) not in sharpe_by_seed:
                continue
            with_penalty, without = tables[variant][penalized], tables[variant][plain]
            print(f"  {plain:<4} {variant:<18} sharpe {format_over_runs(without['sharpe'])} -> "
                  f"{format_over_runs(with_penalty['sharpe'])} "
                  f"({difference_ci(np.array(with_penalty['sharpe']), np.array(without['sharpe']))}); turnover "
                  f"{format_over_runs(without['turnover'])} -> {format_over_runs(with_penalty['turnover'])}/day; "
                  f"costs paid {format_over_runs(without['transaction_costs'])} -> "
                  f"{format_over_runs(with_penalty['transaction_costs'])}")

    write_png(curves, args.png)
    print(f"\nwealth curves: {args.png}")
    if not args.no_leaderboard:
        print(f"leaderboard entries written under {args.leaderboard_dir}/")
    return 0


def write_png(curves: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variants = list(curves)
    cols = min(2, len(variants))
    rows = (len(variants) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(7 * cols, 4 * rows), squeeze=False, sharey=True)
    for ax, variant in zip(axes.ravel(), variants):
        for name, (dates, wealth) in curves[variant].items():
            style = "-" if name in LEARNERS else "--"
            ax.plot(dates, wealth, style, lw=1.6 if name in LEARNERS else 1.0, label=name)
        ax.set_title(f"ESGPortfolio-{variant} (test period)")
        ax.set_ylabel("wealth")
        ax.grid(alpha=0.3)
    axes.ravel()[0].legend(fontsize=8)
    for ax in axes.ravel()[len(variants):]:
        ax.set_visible(False)
    fig.autofmt_xdate()
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
