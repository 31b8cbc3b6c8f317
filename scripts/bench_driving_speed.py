"""Steps per second of the Driving env next to highway-env's ``highway-fast-v0`` in the same run.

Each configuration (scenario x observation x physics) is stepped with random actions drawn
before timing, resetting at episode end, for ``--seconds`` of process CPU time (steadier than
wall time on a shared machine), best of ``--repeats`` windows. highway-env (an optional benchmark
dependency: ``pip install highway-env``) is measured the same way right before our rows, with
its default config (its Discrete(5) meta-actions and kinematics observation); without it the
ratio column is empty.

    python scripts/bench_driving_speed.py --seconds 5
    python scripts/bench_driving_speed.py --observations kinematics --physics kinematic  # 3 rows
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from typing import Any

import gymnasium as gym

import gauntlet  # noqa: F401  (registers the ids)

CONFIGS = (
    ("highway", "kinematics", "kinematic"),
    ("intersection", "kinematics", "kinematic"),
    ("curvy", "kinematics", "kinematic"),
    ("highway", "lidar", "kinematic"),
    ("intersection", "lidar", "kinematic"),
    ("intersection", "lidar", "bullet"),
    ("intersection", "kinematics", "bullet"),
    ("intersection", "camera", "kinematic"),
)


def steps_per_second(env: gym.Env, seconds: float, repeats: int, seed: int = 0) -> float:
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(1000)]
    env.reset(seed=seed)
    best = 0.0
    for _ in range(repeats):
        n, start = 0, time.process_time()
        while time.process_time() - start < seconds / repeats:
            _, _, terminated, truncated, _ = env.step(actions[n % len(actions)])
            n += 1
            if terminated or truncated:
                env.reset()
        best = max(best, n / (time.process_time() - start))
    return best


def main(argv: Any = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="CPU seconds per configuration")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--observations", nargs="+", choices=("kinematics", "lidar", "camera"),
                        default=("kinematics", "lidar", "camera"), help="measure only these observations")
    parser.add_argument("--physics", nargs="+", choices=("kinematic", "bullet"), default=("kinematic", "bullet"),
                        help="measure only these physics")
    args = parser.parse_args(argv)

    reference = None
    if importlib.util.find_spec("highway_env") is not None:
        import highway_env  # noqa: F401  (registers highway-fast-v0)

        env = gym.make("highway-fast-v0")
        reference = steps_per_second(env, args.seconds, args.repeats)
        env.close()
        print(f"highway-env highway-fast-v0: {reference:,.1f} steps/s")
    else:
        print("highway-env is not installed (pip install highway-env): no reference row")
    print(f"{'scenario':14s} {'observation':12s} {'physics':10s} {'steps/s':>10s} {'x highway-fast':>15s}")
    for scenario, observation, physics in CONFIGS:
        if observation not in args.observations or physics not in args.physics:
            continue
        kwargs = {"scenario": scenario, "observation": observation, "physics": physics}
        if observation == "camera":
            kwargs["camera_size"] = (84, 84)
        env = gym.make("gauntlet/Driving-v0", **kwargs)
        rate = steps_per_second(env, args.seconds, args.repeats)
        env.close()
        ratio = f"{rate / reference:,.0f}" if reference else ""
        print(f"{scenario:14s} {observation:12s} {physics:10s} {rate:10,.0f} {ratio:>15s}")


if __name__ == "__main__":
    main()
