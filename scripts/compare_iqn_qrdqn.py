"""Check our IQN (``gauntlet.agents.pr_iqn.IQN``, the Driving ``iqn`` baseline) against
sb3-contrib's QR-DQN on CartPole-v1 at an equal budget.

Both learners get the same env steps, the same DQN-level settings (``SHARED``: learning rate,
replay buffer, batch, discount, warm-up, one gradient step every ``train_freq`` steps, hard
target updates, linear epsilon decay) and MLPs of the same width; each keeps its own
distributional part (IQN: cosine tau embedding, N = N' = 8 sampled levels, acting on a fixed
grid of 32; QR-DQN: sb3-contrib's 200 fixed quantiles). Every run is trained with its own seed
and evaluated greedily on the same ``--eval-episodes`` CartPole episodes (reset seeds 10,000 +
i). Printed per learner: the mean over runs of each run's mean evaluation return, ± the sample
std (ddof=1) over runs, the 95% stratified-bootstrap CI of that mean (as the boards compute it,
``gauntlet.bench.aggregate.summarize``), and the mean wall time of a run (training +
evaluation).

    python scripts/compare_iqn_qrdqn.py --timesteps 30000 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from gauntlet.agents.pr_iqn import IQN  # noqa: E402
from gauntlet.bench.aggregate import summarize  # noqa: E402
from gauntlet.bench.formatting import format_interval, format_mean_std, format_number  # noqa: E402

ENV_ID = "CartPole-v1"
HIDDEN = 128
SHARED: dict[str, Any] = dict(learning_rate=1e-3, buffer_size=50_000, batch_size=64, gamma=0.99,
                              learning_starts=1_000, train_freq=4, target_update_interval=500,
                              exploration_fraction=0.2, exploration_final_eps=0.05)
LEARNERS = ("iqn", "qrdqn")


def make_learner(name: str, env: gym.Env, seed: int) -> Any:
    if name == "iqn":
        return IQN(env, seed=seed, hidden=HIDDEN, **SHARED)
    from sb3_contrib import QRDQN

    return QRDQN("MlpPolicy", env, seed=seed, policy_kwargs={"net_arch": [HIDDEN, HIDDEN]}, verbose=0, **SHARED)


def evaluate(agent: Any, episodes: int) -> np.ndarray:
    """Undiscounted return of each greedy episode, reset seeds 10,000 + i."""
    env = gym.make(ENV_ID)
    returns = np.zeros(episodes)
    for i in range(episodes):
        obs, _ = env.reset(seed=10_000 + i)
        done = False
        while not done:
            action, _ = agent.predict(obs, deterministic=True)
            obs, reward, terminated, truncated, _ = env.step(int(action))
            returns[i] += reward
            done = terminated or truncated
    env.close()
    return returns


def run(name: str, seed: int, timesteps: int, episodes: int) -> tuple[np.ndarray, float]:
    """Train ``name`` with ``seed`` for ``timesteps`` steps; its evaluation returns and wall time."""
    torch.set_num_threads(1)
    start = time.perf_counter()
    env = gym.make(ENV_ID)
    agent = make_learner(name, env, seed)
    agent.learn(total_timesteps=timesteps)
    returns = evaluate(agent, episodes)
    env.close()
    return returns, time.perf_counter() - start


def table(results: dict[str, list[tuple[np.ndarray, float]]]) -> str:
    lines = [f"{'learner':8s} {'runs':>4s} {'eval return (mean ± std)':>26s} {'95% CI of the mean':>26s} "
             f"{'wall s/run':>10s}"]
    for name, runs in results.items():
        summary = summarize(np.stack([r for r, _ in runs]))
        lines.append(f"{name:8s} {len(runs):4d} {format_mean_std(summary['mean'], summary['std']):>26s} "
                     f"{format_interval(summary['mean'], summary['mean_ci95']):>26s} "
                     f"{format_number(np.mean([w for _, w in runs])):>10s}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timesteps", type=int, default=30_000, help="env steps per run (both learners)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds")
    parser.add_argument("--eval-episodes", type=int, default=10)
    args = parser.parse_args(argv)
    if args.timesteps < 1 or args.eval_episodes < 1:
        parser.error(f"--timesteps={args.timesteps} and --eval-episodes={args.eval_episodes} must be >= 1")

    results: dict[str, list[tuple[np.ndarray, float]]] = {name: [] for name in LEARNERS}
    for seed in args.seeds:
        for name in LEARNERS:
            returns, wall = run(name, seed, args.timesteps, args.eval_episodes)
            results[name].append((returns, wall))
            print(f"{name} seed {seed}: eval return {returns.mean():.1f} ({wall:.0f} s)", flush=True)
    print(f"\n{ENV_ID}, {args.timesteps} steps per run, {args.eval_episodes} evaluation episodes, "
          f"mean ± sample std over {len(args.seeds)} seeds\n" + table(results))


if __name__ == "__main__":
    main()
