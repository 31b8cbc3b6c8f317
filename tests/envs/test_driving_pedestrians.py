"""Pedestrians at crossings in the Driving env (``pedestrians`` = mean pedestrians per crosswalk per
minute). With the default 0 the trajectories are the recorded ones (test_driving_trajectory.py)."""

import math

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import gauntlet  # noqa: F401  (registers the ids)
from gauntlet.envs.driving import traffic as tr
from gauntlet.envs.driving.env import PEDESTRIANS_OBS, DrivingEnv, MODrivingEnv
from gauntlet.envs.driving.observation import ROUTE_FEATURES, VEHICLE_FEATURES
from gauntlet.envs.driving.road import SIDEWALK

# A rate this low adds no pedestrian of its own within a test's few hundred steps (p ~ 1e-6 per
# step), so the hand-made scenes hold only the pedestrians placed in them.
QUIET = 1e-3


def rollout(env, seed, steps, policy_seed=0):
    rng = np.random.default_rng(policy_seed)
    obs, _ = env.reset(seed=seed)
    out, rewards, peds = [obs], [], 0
    for _ in range(steps):
        obs, reward, terminated, truncated, _ = env.step(int(rng.integers(env.action_space.n)))
        out.append(obs)
        rewards.append(reward)
        peds += int(env.ped_active.sum())
        if terminated or truncated:
            obs, _ = env.reset()
            out.append(obs)
    return np.array(out), np.array(rewards), peds


def lane_walked(env, crosswalk):
    """Metres along intersection crosswalk ``crosswalk`` to the centre of its entering lane: the
    sidewalk, the arm's right half (one lane width) and half a lane."""
    return SIDEWALK + env.scene.arms[crosswalk, 4] + env.scene.lane_width / 2


def test_default_off_leaves_the_observation_space_unchanged():
    base = ROUTE_FEATURES + VEHICLE_FEATURES * 8
    for observation, dim in (("kinematics", base), ("lidar", ROUTE_FEATURES + 72)):
        default = MODrivingEnv(observation=observation)
        off = MODrivingEnv(observation=observation, pedestrians=0.0)
        assert default.observation_space == off.observation_space
        assert default.observation_space.shape == (dim,)
        assert default.ped_active.shape == (0,)
    assert MODrivingEnv(pedestrians=2.0).observation_space.shape == (base + VEHICLE_FEATURES * PEDESTRIANS_OBS,)
    # The lidar sees pedestrians in its beams: no extra entries.
    assert MODrivingEnv(observation="lidar", pedestrians=2.0).observation_space.shape == (ROUTE_FEATURES + 72,)


@pytest.mark.parametrize("kwargs", [
    {"scenario": "intersection"},
    {"scenario": "curvy", "observation": "lidar", "n_beams": 36},
    {"scenario": "intersection", "preference_in_obs": True, "action_type": "continuous"},
])
def test_checker_passes_with_pedestrians(kwargs):
    check_env(DrivingEnv(pedestrians=20.0, **kwargs), skip_render_check=True)


@pytest.mark.parametrize("scenario", ["intersection", "curvy"])
def test_same_seed_same_pedestrians_and_seeds_differ(scenario):
    a = rollout(MODrivingEnv(scenario=scenario, pedestrians=30.0), 3, 300)
    b = rollout(MODrivingEnv(scenario=scenario, pedestrians=30.0), 3, 300)
    c = rollout(MODrivingEnv(scenario=scenario, pedestrians=30.0), 4, 300)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert a[2] == b[2] > 0
    assert a[0].shape != c[0].shape or not np.array_equal(a[0], c[0])


def test_highway_has_no_crossings_and_drives_as_without_pedestrians():
    on = MODrivingEnv(scenario="highway", pedestrians=30.0)
    off = MODrivingEnv(scenario="highway")
    obs_on, rewards_on, peds = rollout(on, 5, 300)
    obs_off, rewards_off, _ = rollout(off, 5, 300)
    assert on.crosswalks.shape == (0, 5) and peds == 0
    np.testing.assert_array_equal(obs_on[:, : obs_off.shape[1]], obs_off)
    assert not obs_on[:, obs_off.shape[1]:].any()
    np.testing.assert_array_equal(rewards_on, rewards_off)


def test_crosswalks_on_each_intersection_arm_and_mid_route_on_the_curvy_road():
    env = MODrivingEnv(scenario="intersection", pedestrians=1.0)
    env.reset(seed=0)
    cx, cy, r = env.scene.junction
    assert env.crosswalks.shape == (4, 5)
    for k, (x0, y0, ux, uy, length) in enumerate(env.crosswalks):
        mid = np.array([x0 + ux * length / 2, y0 + uy * length / 2])
        assert r < math.hypot(mid[0] - cx, mid[1] - cy) < r + 4.0  # just outside the junction
        heading = env.scene.arms[k, 2]
        assert abs(ux * math.cos(heading) + uy * math.sin(heading)) < 1e-9  # across the arm
        assert length == pytest.approx(2 * (env.scene.arms[k, 4] + SIDEWALK))
    env = MODrivingEnv(scenario="curvy", pedestrians=1.0)
    env.reset(seed=0)
    (x0, y0, ux, uy, length), = env.crosswalks
    scene = env.scene
    s, d, _ = tr.project(scene.paths, scene.headings, scene.lengths, scene.route, x0, y0, -1)
    assert s == pytest.approx(0.5 * (scene.route_start + scene.route_end), abs=1e-6)
    assert d == pytest.approx(scene.right_edge - SIDEWALK)


def test_pedestrians_cross_at_walking_speed_and_leave_on_the_far_side():
    env = MODrivingEnv(scenario="intersection", density=0.0, pedestrians=QUIET)
    env.reset(seed=1)
    k = env.place_pedestrian(2, forward=False)
    x0, y0, ux, uy, length = env.crosswalks[2]
    steps = int(math.ceil(length / tr.PEDESTRIAN_SPEED / 0.1))
    for _ in range(steps - 1):
        env.step(1)
    assert env.ped_active[k]
    assert (env.ped_x[k], env.ped_y[k]) == pytest.approx((x0 + ux * 0.14, y0 + uy * 0.14), abs=0.15)
    env.step(1)
    assert not env.ped_active[k]


def test_reset_puts_the_long_run_number_of_pedestrians_on_the_crosswalks():
    env = MODrivingEnv(scenario="intersection", pedestrians=30.0)
    counts, expected = [], []
    for seed in range(200):
        env.reset(seed=seed)
        counts.append(env.ped_active.sum())
        # Per crosswalk a Poisson number with mean rate x crossing time (lengths vary with the lanes).
        expected.append(30.0 / 60.0 * env.crosswalks[:, 4].sum() / tr.PEDESTRIAN_SPEED)
        on = env.ped_walked[env.ped_active] / env.ped_length[env.ped_active]
        assert ((0.0 <= on) & (on < 1.0)).all()
    assert np.mean(counts) == pytest.approx(np.mean(expected), rel=0.1)


def test_driving_into_a_pedestrian_on_the_crosswalk_is_a_pedestrian_collision():
    env = MODrivingEnv(scenario="intersection", density=0.0, turn="straight", pedestrians=QUIET)
    env.reset(seed=0)
    k = env.place_pedestrian(0, lane_walked(env, 0), speed=0.0)
    near_misses = []
    for _ in range(300):
        _, reward, terminated, truncated, info = env.step(4)  # keep speed and steering
        if terminated or truncated:
            break
        gap = math.hypot(env.ego[tr.EX] - env.ped_x[k], env.ego[tr.EY] - env.ped_y[k])
        if info["ttc"] < 3.0:
            # The time to collision counts the pedestrian: gap to its box over the ego's speed.
            assert info["ttc"] == pytest.approx((gap - tr.LENGTH / 2 - tr.PEDESTRIAN_SIZE / 2) / info["speed"], abs=0.02)
            near_misses.append(reward[0])
    assert len(near_misses) > 5 and all(-0.1 <= r < 0.0 for r in near_misses)
    assert terminated and info["collision"] and not info["off_road"]
    assert info["infractions"]["collisions_pedestrian"] == 1
    assert info["infractions"]["collisions_vehicle"] == 0
    assert reward[0] == -10.0
    assert info["scores"]["score_penalty"] == pytest.approx(0.5)
    assert math.hypot(env.ego[tr.EX] - env.ped_x[k], env.ego[tr.EY] - env.ped_y[k]) < tr.LENGTH


def test_npc_stops_before_a_pedestrian_on_its_crosswalk_and_then_drives_on():
    env = MODrivingEnv(scenario="intersection", density=0.0, turn="straight", pedestrians=QUIET)
    env.reset(seed=0)
    scene = env.scene
    k = env.place_pedestrian(0, lane_walked(env, 0), speed=0.0)
    ped_s = tr.project(scene.paths, scene.headings, scene.lengths, scene.route, env.ped_x[k], env.ped_y[k], -1)[0]
    slot = 0
    env.active[slot], env.path[slot], env.s[slot], env.d[slot], env.d_target[slot] = True, scene.route, 20.0, 0.0, 0.0
    env.v[slot], env.v0[slot], env.timer[slot] = 10.0, 10.0, 1.0
    env.x[slot], env.y[slot], env.yaw[slot] = scene.point(scene.route, 20.0)

    def run(steps):
        for _ in range(steps):
            tr.step_traffic_with(scene.paths, scene.headings, scene.lengths, env._lane_offsets, env._n_lanes,
                                 scene.conflicts, env.active, env.path, env.s, env.d, env.d_target, env.v, env.v0,
                                 env.timer, env.x, env.y, env.yaw, env.accel, env.ego, env.ped_active, env.ped_x,
                                 env.ped_y, 0.1)

    env.ego[tr.ES] = 0.0  # behind the NPC: a follower, not a leader
    run(200)
    assert env.v[slot] < 0.05
    front = env.s[slot] + tr.LENGTH / 2
    assert ped_s - tr.PEDESTRIAN_SIZE / 2 - 4.0 < front < ped_s - tr.PEDESTRIAN_SIZE / 2
    env.ped_active[k] = False  # crossed
    run(100)
    assert env.s[slot] > ped_s + tr.LENGTH and env.v[slot] > 5.0


def test_lidar_and_kinematics_see_a_pedestrian_box():
    lidar_env = MODrivingEnv(scenario="intersection", density=0.0, observation="lidar", pedestrians=QUIET)
    kin_env = MODrivingEnv(scenario="intersection", density=0.0, pedestrians=QUIET)
    for env in (lidar_env, kin_env):
        env.reset(seed=0)
        k = env.place_pedestrian(0)
        ex, ey, eyaw = env.ego[tr.EX], env.ego[tr.EY], env.ego[tr.EYAW]
        # 10 m straight ahead, its sides square to the beam.
        env.ped_x[k], env.ped_y[k], env.ped_yaw[k] = ex + 10.0 * math.cos(eyaw), ey + 10.0 * math.sin(eyaw), eyaw
        env.ped_v[k] = 0.0
    beams = lidar_env.lidar()
    assert beams[0] == pytest.approx(10.0 - tr.PEDESTRIAN_SIZE / 2)
    assert beams[len(beams) // 4] == lidar_env.lidar_range
    assert lidar_env._observe()[ROUTE_FEATURES] == pytest.approx((10.0 - tr.PEDESTRIAN_SIZE / 2) / 50.0, rel=1e-6)
    obs = kin_env._observe()
    row = obs[ROUTE_FEATURES + VEHICLE_FEATURES * 8:][:VEHICLE_FEATURES]
    np.testing.assert_allclose(row[:3], [1.0, 10.0 / 60.0, 0.0], atol=1e-6)
    assert not obs[ROUTE_FEATURES + VEHICLE_FEATURES * 9:].any()  # one pedestrian, the other rows empty


def test_render_draws_the_pedestrians():
    env = MODrivingEnv(scenario="intersection", density=0.0, pedestrians=QUIET, render_mode="rgb_array")
    env.reset(seed=0)
    x0, y0, ux, uy, length = env.crosswalks[0]
    env.ego[tr.EX], env.ego[tr.EY] = x0 + ux * length / 2, y0 + uy * length / 2 - 10.0  # the window around it
    empty = env.render()
    for walked in np.linspace(0.0, length, 8):
        env.place_pedestrian(0, float(walked), speed=0.0)
    frame = env.render()
    assert frame.shape == empty.shape and frame.dtype == np.uint8
    orange = (np.abs(frame.astype(int) - [0xF5, 0x82, 0x31]).sum(axis=2) < 30).sum()
    assert orange > 8 and not (np.abs(empty.astype(int) - [0xF5, 0x82, 0x31]).sum(axis=2) < 30).any()


def test_vector_env_carries_pedestrians():
    venv = gym.make_vec("gauntlet/mo-Driving-v0", num_envs=2, pedestrians=30.0)
    obs, _ = venv.reset(seed=0)
    assert obs.shape == (2, ROUTE_FEATURES + VEHICLE_FEATURES * (8 + PEDESTRIANS_OBS))
    for _ in range(50):
        obs, *_ = venv.step(np.full(2, 4))
    venv.close()


@pytest.mark.parametrize("kwargs, match", [
    ({"pedestrians": -1.0}, r"pedestrians=-1\.0 is out of range; allowed: .*per crosswalk per minute"),
    ({"pedestrians": float("nan")}, r"pedestrians=nan is out of range"),
    ({"pedestrians": math.inf}, r"pedestrians=inf is out of range"),
    ({"pedestrians": 61.0}, r"pedestrians=61\.0 is out of range"),
    ({"pedestrians": "few"}, r"pedestrians='few' is not a number"),
    ({"pedestrians": True}, r"pedestrians=True is not a number"),
    ({"pedestrians": 1.0, "physics": "bullet"}, r"pedestrians=1\.0 is invalid; allowed: 0 with physics=\"bullet\""),
    ({"pedestrians": 1.0, "observation": "camera"}, r"pedestrians=1\.0 is invalid; allowed: 0 with .*camera"),
])
def test_bad_pedestrian_rates_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MODrivingEnv(**kwargs)
