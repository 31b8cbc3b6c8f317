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
    "highway-random": "d871012aabf502831482342bc67cd21afc2ad70c6d39504cd2188b22b9c10d21",
    "intersection-random": "b5e11d0357060b8c486bea10daba59371c574e810a8c8b10ae2b3a9a1d8942f5",
    "curvy-random": "e0ff5cf70d1442abac0181e4f10743aa71888c19e594bde225a8fa3a8760371e",
    "highway-idm": "b0c0184a746b17cbae3a5582c49f982d5d99c284242d91addb9400e22dfab9af",
    "intersection-idm": "6a35d89f5a5c5a2543615fc671872763c3debe27a88455a705ccefa8d38acc92",
    "curvy-idm": "03488b9490e41b8406da9e1593e98193cc1488c81d6168b229dd2a05dbca28fe",
    "intersection-lidar-idm": "91c64ac9c507361b69c13b35d4ea4d0996b975307efe066a0933cb6b08b6b70a",
    "highway-meta-random": "0ed06e32709ad976b5b9d850dea0173f4bd3c67d509d1939d233238ab01c08b9",
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
        h.update(repr((info["speed"], info["distance"], info["ttc"], info["route_completion"])).encode())
        if terminated or truncated:
            h.update(repr((info["infractions"], info["scores"], info["mean_abs_jerk"])).encode())
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
