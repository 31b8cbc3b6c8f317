import math

import gymnasium as gym
import numpy as np
import pytest

import gauntlet  # noqa: F401  (registers the ids)
from gauntlet.baselines.driving import IDMControllerAgent
from gauntlet.envs.driving import traffic as tr
from gauntlet.envs.driving.env import MODrivingEnv
from gauntlet.envs.driving.road import SIDEWALK


def drive(env, agent, seed):
    obs, info = env.reset(seed=seed)
    agent.on_reset(env, obs, info)
    while True:
        action, _ = agent.predict(obs)
        assert env.action_space.contains(action)
        obs, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            return info


@pytest.mark.parametrize("action_type", ["discrete", "meta", "continuous"])
def test_idm_controller_drives_the_empty_highway_for_every_action_type(action_type):
    env = MODrivingEnv(scenario="highway", density=0.0, action_type=action_type)
    info = drive(env, IDMControllerAgent(env), seed=3)
    assert info["is_success"] and info["driving_score"] > 90.0


def test_idm_controller_follows_a_slow_leader_without_hitting_it():
    env = MODrivingEnv(scenario="highway", density=0.0)
    agent = IDMControllerAgent(env)
    obs, _ = env.reset(seed=0)
    env.active[0], env.path[0], env.s[0], env.d[0], env.d_target[0] = True, 0, env.scene.route_start + 40, env.scene.route_lane, env.scene.route_lane
    env.v[0] = env.v0[0] = 8.0
    tr.place_all(env.scene.paths, env.scene.headings, env.scene.lengths, env.active, env.path, env.s, env.d, env.v,
                 env.x, env.y, env.yaw)
    for _ in range(200):
        obs, _, terminated, _, info = env.step(agent.predict(obs)[0])
        assert not info["collision"]
    assert abs(env.ego[tr.EV] - 8.0) < 1.5  # it settled behind the leader at its speed


def test_idm_controller_yields_at_the_junction():
    env = gym.make("gauntlet/Driving-Intersection-Medium-v0")
    agent = IDMControllerAgent(env)
    results = [drive(env, agent, seed) for seed in range(6)]
    assert sum(r["is_success"] for r in results) >= 4


def test_qrdqn_factory_trains_on_the_scalar_reward(tmp_path):
    from gauntlet.baselines.driving import make_qrdqn

    env = gym.make("gauntlet/Driving-Highway-Low-v0")
    model = make_qrdqn(env, seed=0, learning_starts=20, buffer_size=200, policy_kwargs={"n_quantiles": 8})
    model.learn(60)
    obs, _ = env.reset(seed=0)
    assert env.action_space.contains(int(model.predict(obs, deterministic=True)[0]))


def test_idm_controller_waits_for_a_pedestrian_on_its_crosswalk_then_drives_on():
    env = MODrivingEnv(scenario="intersection", density=0.0, turn="straight", pedestrians=1e-3)
    agent = IDMControllerAgent(env)
    obs, info = env.reset(seed=0)
    agent.on_reset(env, obs, info)
    arm = env.scene.arms[0]
    k = env.place_pedestrian(0, SIDEWALK + arm[4] + env.scene.lane_width / 2, speed=0.0)  # on the entering lane
    closest = np.inf
    for _ in range(300):
        obs, _, terminated, truncated, info = env.step(agent.predict(obs)[0])
        assert not info["collision"]
        closest = min(closest, math.hypot(env.ego[tr.EX] - env.ped_x[k], env.ego[tr.EY] - env.ped_y[k]))
    assert env.ego[tr.EV] < 0.1 and closest > tr.LENGTH / 2 + 1.0  # stopped short of it
    env.ped_active[k] = False  # the pedestrian has crossed
    for _ in range(600):
        obs, _, terminated, truncated, info = env.step(agent.predict(obs)[0])
        if terminated or truncated:
            break
    assert info["is_success"]
