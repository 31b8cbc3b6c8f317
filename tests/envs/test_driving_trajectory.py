"""Recorded digests of Driving trajectories: the step's speed-ups must keep every observation,
reward, termination and end-of-episode record bit for bit, so the boards measured before them
stand. Recorded at commit b80f8d0 (before the kinematics speed-up); to print the digests of the
current code: ``python tests/envs/test_driving_trajectory.py``."""

import hashlib

import numpy as np
import pytest

from gauntlet.baselines.driving import IDMControllerAgent
from gauntlet.envs.driving.env import MODrivingEnv

# name -> (env kwargs, policy, seed, steps)
CASES = {
    "highway-random": ({"scenario": "highway"}, "random", 1, 400),
    "intersection-random": ({"scenario": "intersection"}, "random", 2, 400),
    "curvy-random": ({"scenario": "curvy"}, "random", 3, 400),
    "highway-idm": ({"scenario": "highway", "density": "high"}, "idm", 4, 400),
    "intersection-idm": ({"scenario": "intersection"}, "idm", 5, 400),
    "curvy-idm": ({"scenario": "curvy"}, "idm", 6, 400),
    "intersection-lidar-idm": ({"scenario": "intersection", "observation": "lidar"}, "idm", 7, 250),
    "highway-meta-random": ({"scenario": "highway", "action_type": "meta"}, "random", 8, 250),
}

DIGESTS = {
    "highway-random": "6626183e5138443c6e1be76a6bbd4c2ae34b7b0d0016ae1a79b16b07a757769f",
    "intersection-random": "1f9be162c81b907ed935ff84362abdf58dace87f4af96a0536cc200061592d40",
    "curvy-random": "632dd343afa6505302c9e510e9247e7e7735c447f2a8d7765eeb1fa2d3fa1fa3",
    "highway-idm": "28b6240f4e83b371f945c1d2c4270150517997b7e48b905b2ebd46f5e854e64d",
    "intersection-idm": "2b21038c1eda73dca58d460e6e6e9354d7a19981a114952f6ec4da92cf12a7da",
    "curvy-idm": "a3dcd36fb17917514c4c974b903d13d39d216b360200dcffd200c23ee922ceb6",
    "intersection-lidar-idm": "71f61b799b7d064a034371ac0cbcb386169cd59ff37c16e48764fe1c9772cf49",
    "highway-meta-random": "829b4bd6356dc291dca1f68648345ffcaa0dcfa9dcc9bf36d42175ca1da3346d",
}


def digest(kwargs, policy, seed, steps):
    env = MODrivingEnv(**kwargs)
    rng = np.random.default_rng(seed)
    agent = IDMControllerAgent(env)
    h = hashlib.sha256()
    obs, _ = env.reset(seed=seed)
    h.update(obs.tobytes())
    for _ in range(steps):
        action = int(rng.integers(env.action_space.n)) if policy == "random" else agent.predict(obs)[0]
        obs, reward, terminated, truncated, info = env.step(action)
        h.update(obs.tobytes() + reward.tobytes() + bytes([terminated, truncated]))
        h.update(np.array([info[k] for k in ("speed", "distance", "ttc", "route_completion")], np.float64).tobytes())
        if terminated or truncated:
            record = [*info["scores"].values(), info["mean_abs_jerk"]]
            for value in info["infractions"].values():
                record += [*value] if isinstance(value, list) else [value]
            h.update(np.array(record, np.float64).tobytes())
            obs, _ = env.reset()
            h.update(obs.tobytes())
    env.close()
    return h.hexdigest()


@pytest.mark.parametrize("name", sorted(CASES))
def test_trajectory_matches_the_recorded_digest(name):
    assert digest(*CASES[name]) == DIGESTS[name]


if __name__ == "__main__":
    for name, case in CASES.items():
        print(f'    "{name}": "{digest(*case)}",')
