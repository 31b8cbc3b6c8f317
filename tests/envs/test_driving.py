import importlib.util
import math
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import gauntlet  # noqa: F401  (registers the ids)
from gauntlet.envs.driving import traffic as tr
from gauntlet.envs.driving.env import DrivingEnv, MODrivingEnv, episode_metrics
from gauntlet.envs.driving.lidar import cast
from gauntlet.envs.driving.road import intersection
from gauntlet.registry import TASKS

HAS_BULLET = importlib.util.find_spec("pybullet") is not None
needs_bullet = pytest.mark.skipif(not HAS_BULLET, reason="needs the driving extra (pybullet)")


def rollout(env, seed, steps, policy_seed=0):
    rng = np.random.default_rng(policy_seed)
    obs, _ = env.reset(seed=seed)
    out, rewards = [obs], []
    for _ in range(steps):
        obs, reward, terminated, truncated, _ = env.step(int(rng.integers(env.action_space.n)))
        out.append(obs)
        rewards.append(reward)
        if terminated or truncated:
            obs, _ = env.reset()
            out.append(obs)
    return np.array(out), np.array(rewards)


def clear_traffic(env):
    env.active[:] = False


def put_npc(env, slot, s, d=None, v=0.0, path=None):
    scene = env.scene
    path = scene.route if path is None else path
    d = scene.route_lane if d is None else d
    env.active[slot], env.path[slot], env.s[slot], env.d[slot], env.d_target[slot] = True, path, s, d, d
    env.v[slot], env.v0[slot], env.timer[slot] = v, max(v, 0.1), 1.0
    env.x[slot], env.y[slot], env.yaw[slot] = scene.point(path, s, d)


# ----------------------------------------------------------------------------- API
@pytest.mark.parametrize("kwargs", [
    {"scenario": "highway"},
    {"scenario": "intersection", "observation": "lidar", "n_beams": 36},
    {"scenario": "curvy", "action_type": "continuous"},
    {"scenario": "highway", "action_type": "meta"},
])
def test_scalar_env_passes_gymnasium_and_sb3_checkers(kwargs):
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    check_env(DrivingEnv(**kwargs), skip_render_check=True)
    sb3_check_env(DrivingEnv(**kwargs))


def test_registered_ids_scenarios_and_benchmarks():
    ids = [t for t in TASKS if "Driving" in t]
    assert len(ids) == 20
    env = gym.make("gauntlet/Driving-Curvy-High-v0")
    assert env.unwrapped.scenario == "curvy" and env.unwrapped.density == 1.8
    benchmarked = sorted(t for t in ids if TASKS[t].benchmark is not None)
    assert benchmarked == ["gauntlet/Driving-Curvy-Medium-v0", "gauntlet/Driving-Highway-Medium-v0",
                           "gauntlet/Driving-Intersection-Medium-v0"]
    spec = TASKS["gauntlet/Driving-Intersection-Medium-v0"].benchmark
    assert spec.primary_metric == "success"
    assert {c.metric for c in spec.constraints} == {"collisions_per_km", "off_road_per_km"}


def test_mo_env_returns_the_vector_and_scalar_env_its_weighted_sum():
    from mo_gymnasium.wrappers import LinearReward

    mo = gym.make("gauntlet/mo-Driving-Highway-Medium-v0")
    assert mo.unwrapped.reward_dim == 3 and mo.unwrapped.reward_space.shape == (3,)
    assert mo.unwrapped.preorder == (0, 1, 2)
    scalar = gym.make("gauntlet/Driving-Highway-Medium-v0", weights=(0.2, 0.7, 0.1))
    _, vectors = rollout(mo.unwrapped, seed=3, steps=40)
    scalar.reset(seed=3)
    rng = np.random.default_rng(0)
    for vector in vectors:
        _, reward, terminated, truncated, info = scalar.step(int(rng.integers(9)))
        assert vector.dtype == np.float32 and vector.shape == (3,)
        np.testing.assert_array_equal(info["reward_vector"], vector)
        assert reward == pytest.approx(float(np.dot([0.2, 0.7, 0.1], vector)))
        if terminated or truncated:
            break
    wrapped = LinearReward(gym.make("gauntlet/mo-Driving-v0"), weight=np.array([0.5, 0.4, 0.1]))
    wrapped.reset(seed=0)
    _, reward, *_ = wrapped.step(4)
    assert isinstance(reward, float)


def test_vector_env_equals_the_single_envs_with_next_step_autoreset():
    envs = gym.make_vec("gauntlet/Driving-Intersection-High-v0", num_envs=3)
    singles = [DrivingEnv(scenario="intersection", density="high") for _ in range(3)]
    obs, _ = envs.reset(seed=7)
    for i, env in enumerate(singles):
        np.testing.assert_array_equal(obs[i], env.reset(seed=7 + i)[0])
    rng = np.random.default_rng(1)
    done = np.zeros(3, dtype=bool)
    for _ in range(150):
        actions = rng.integers(9, size=3)
        obs, rewards, terminated, truncated, infos = envs.step(actions)
        for i, env in enumerate(singles):
            if done[i]:
                expected, reward = env.reset()[0], 0.0
            else:
                expected, reward, te, trunc, info = env.step(int(actions[i]))
                np.testing.assert_array_equal(infos["reward_vector"][i], info["reward_vector"])
            np.testing.assert_array_equal(obs[i], expected)
            assert rewards[i] == reward
        done = terminated | truncated
    assert envs.unwrapped.action_masks().shape == (3, 9)
    mo = gym.make_vec("gauntlet/mo-Driving-v0", num_envs=2)
    mo.reset(seed=0)
    assert mo.step(np.array([4, 4]))[1].shape == (2, 3)


# ----------------------------------------------------------------------------- determinism
@pytest.mark.parametrize("scenario", ["highway", "intersection", "curvy"])
def test_same_seed_same_trajectory_and_seeds_differ(scenario):
    a, ra = rollout(MODrivingEnv(scenario=scenario), seed=5, steps=120)
    b, rb = rollout(MODrivingEnv(scenario=scenario), seed=5, steps=120)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ra, rb)
    c, _ = rollout(MODrivingEnv(scenario=scenario), seed=6, steps=120)
    assert not np.array_equal(a[:5], c[:5])


def test_trajectory_is_identical_in_another_process():
    code = (
        "import numpy as np\n"
        "from gauntlet.envs.driving.env import MODrivingEnv\n"
        "env = MODrivingEnv(scenario='intersection', observation='lidar')\n"
        "obs, _ = env.reset(seed=11)\n"
        "rng = np.random.default_rng(0)\n"
        "total = [obs.astype(np.float64).sum()]\n"
        "for _ in range(80):\n"
        "    obs, r, te, tr, _ = env.step(int(rng.integers(9)))\n"
        "    total.append(obs.astype(np.float64).sum() + float(r.astype(np.float64).sum()))\n"
        "    if te or tr: obs, _ = env.reset()\n"
        "print(repr(float(np.sum(total))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    env = MODrivingEnv(scenario="intersection", observation="lidar")
    obs, _ = env.reset(seed=11)
    rng = np.random.default_rng(0)
    total = [obs.astype(np.float64).sum()]
    for _ in range(80):
        obs, r, te, trunc, _ = env.step(int(rng.integers(9)))
        total.append(obs.astype(np.float64).sum() + float(r.astype(np.float64).sum()))
        if te or trunc:
            obs, _ = env.reset()
    assert out == repr(float(np.sum(total))) + "\n"


def test_roads_are_procedural_from_the_seed():
    env = MODrivingEnv(scenario="highway")
    lanes, widths = set(), set()
    for seed in range(12):
        env.reset(seed=seed)
        lanes.add(len(env.scene.lane_offsets[0]))
        widths.add(round(env.scene.lane_width, 3))
    assert lanes == {3, 4} and len(widths) == 12
    routes = {intersection(np.random.default_rng(s), 1.0).route for s in range(20)}
    assert len(routes) == 3  # left, straight and right turns are all drawn


# ----------------------------------------------------------------------------- dynamics and events
def test_idm_by_hand():
    assert tr.idm(10.0, 10.0, tr.FAR, 0.0) == pytest.approx(0.0)
    assert tr.idm(0.0, 10.0, tr.FAR, 0.0) == pytest.approx(tr.IDM_A)
    # v = 10, v0 = 20, gap 30 behind a car at 5 m/s: s* = 2 + 15 + 10 * 5 / (2 sqrt(3)).
    s_star = 2.0 + 15.0 + 50.0 / (2 * math.sqrt(3.0))
    assert tr.idm(10.0, 20.0, 30.0, 5.0) == pytest.approx(1.5 * (1 - 0.5**4 - (s_star / 30.0) ** 2))


def test_driving_into_a_stopped_car_is_a_vehicle_collision():
    env = MODrivingEnv(scenario="highway")
    env.reset(seed=0)
    clear_traffic(env)
    put_npc(env, 0, env.scene.route_start + 30.0)
    steer = 4  # keep speed and steering (the road is nearly straight over 30 m)
    for _ in range(100):
        _, reward, terminated, truncated, info = env.step(steer)
        env.steer = env.pursuit_steer(env.scene.route_lane)
        if terminated:
            break
    assert terminated and info["collision"] and not info["is_success"]
    assert reward[0] == -10.0
    assert info["infractions"]["collisions_vehicle"] == 1
    slow = info["infractions"]["min_speed_infractions"]
    expected = 0.6 * np.prod([1 - 0.3 * (1 - pct / 100) for pct in slow])
    assert info["scores"]["score_penalty"] == pytest.approx(expected)
    assert info["driving_score"] == pytest.approx(info["route_completion"] * info["scores"]["score_penalty"])


def test_steering_off_the_road_is_a_layout_collision():
    env = MODrivingEnv(scenario="curvy")
    env.reset(seed=0)
    clear_traffic(env)
    for _ in range(200):
        _, reward, terminated, _, info = env.step(5)  # keep speed, steer left
        if terminated:
            break
    assert terminated and info["off_road"] and info["infractions"]["collisions_layout"] == 1
    assert reward[0] == -10.0
    # It crossed the oncoming lane first: part of the route outside its lanes.
    assert info["infractions"]["outside_route_lanes"] and info["infractions"]["outside_route_lanes"][0] > 0


def test_completing_the_route_is_a_success():
    from gauntlet.baselines.driving import IDMControllerAgent

    env = MODrivingEnv(scenario="curvy", density="low")
    agent = IDMControllerAgent(env)
    obs, _ = env.reset(seed=0)
    total = np.zeros(3)
    while True:
        obs, reward, terminated, truncated, info = env.step(agent.predict(obs)[0])
        total += reward
        if terminated or truncated:
            break
    assert terminated and info["is_success"] and info["route_completion"] == pytest.approx(100.0)
    assert total[1] == pytest.approx(10.0, abs=0.05)  # efficiency: 10 for the whole route
    assert info["scores"]["score_route"] == pytest.approx(100.0)
    metrics = episode_metrics(np.zeros((1, 3)), [info])
    assert metrics["success"] == 1.0 and metrics["collisions_per_km"] == 0.0


def test_standing_still_ends_as_vehicle_blocked():
    env = MODrivingEnv(scenario="highway", density=0.0)
    env.reset(seed=1)
    for t in range(400):
        _, _, terminated, truncated, info = env.step(1)  # brake, keep steering
        if terminated or truncated:
            break
    assert terminated and info["infractions"]["vehicle_blocked"] == 1
    assert not info["is_success"] and info["speed"] == 0.0


def test_truncation_is_a_route_timeout():
    env = MODrivingEnv(scenario="highway", density=0.0, max_steps=5)
    env.reset(seed=0)
    for _ in range(5):
        _, _, terminated, truncated, info = env.step(4)
    assert truncated and not terminated and info["infractions"]["route_timeout"] == 1
    with pytest.raises(gym.error.ResetNeeded):
        env.step(4)


def test_npc_overtakes_a_slow_leader_by_mobil():
    env = MODrivingEnv(scenario="highway", density=0.0)
    env.reset(seed=2)
    lanes = env.scene.lane_offsets[0]
    put_npc(env, 0, 400.0, d=float(lanes[0]), v=10.0)
    put_npc(env, 1, 360.0, d=float(lanes[0]), v=28.0)
    env.v0[0], env.v0[1] = 10.0, 28.0
    env.ego[tr.EX] = 1e4  # out of the way
    for _ in range(30):
        tr.step_traffic(env.scene.paths, env.scene.headings, env.scene.lengths, env._lane_offsets, env._n_lanes,
                        env.scene.conflicts, env.active, env.path, env.s, env.d, env.d_target, env.v, env.v0,
                        env.timer, env.x, env.y, env.yaw, env.accel, env.ego, 0.1)
    assert env.d_target[1] == pytest.approx(lanes[1])
    assert env.d_target[0] == pytest.approx(lanes[0])


def test_meta_actions_change_lane_and_speed():
    env = MODrivingEnv(scenario="highway", density=0.0, action_type="meta")
    env.reset(seed=4)
    lanes = env.scene.lane_offsets[0]
    start = int(np.argmin(np.abs(lanes - env.scene.route_lane)))
    action = 0 if start < len(lanes) - 1 else 2
    target = lanes[start + 1] if action == 0 else lanes[start - 1]
    env.step(action)
    for _ in range(60):
        env.step(1)
    assert env.ego[tr.ED] == pytest.approx(target, abs=0.3)
    speed = env.ego[tr.EV]
    for _ in range(40):
        env.step(3)
    assert env.ego[tr.EV] > speed + 5.0


# ----------------------------------------------------------------------------- lidar
def test_lidar_by_hand():
    active = np.array([True, True])
    x, y, yaw = np.array([10.0, 0.0]), np.array([0.0, -20.0]), np.array([0.0, math.pi / 2])
    out = np.zeros(4)
    cast(0.0, 0.0, 0.0, 4, 50.0, active, x, y, yaw, tr.LENGTH / 2, tr.WIDTH / 2, out)
    # ahead: the rear face of the box at 10 - 2.25; left: nothing; behind: nothing; right
    # (-y): the box standing along y, its near face at 20 - 2.25.
    np.testing.assert_allclose(out, [10.0 - 2.25, 50.0, 50.0, 20.0 - 2.25])
    cast(0.0, 0.0, math.pi, 4, 5.0, active, x, y, yaw, tr.LENGTH / 2, tr.WIDTH / 2, out)
    np.testing.assert_allclose(out, [5.0, 5.0, 5.0, 5.0])


@needs_bullet
def test_lidar_analytic_equals_pybullet_ray_test_batch():
    from gauntlet.envs.driving.bullet import BulletWorld

    env = MODrivingEnv(scenario="intersection", density="high", observation="lidar", n_beams=240)
    for seed in range(3):
        env.reset(seed=seed)
        for _ in range(30):
            env.step(4)
        world = BulletWorld(env.scene, env.active.shape[0], 0.1, dynamic_ego=False, road_tiles=False)
        try:
            world.place_npcs(env.active, env.x, env.y, env.yaw)
            ego = env.ego
            pb = world.lidar(ego[tr.EX], ego[tr.EY], ego[tr.EYAW], 240, 50.0)
        finally:
            world.close()
        analytic = env.lidar()
        assert (analytic < 50.0).sum() > 5
        np.testing.assert_allclose(analytic, pb, atol=1e-3)


# ----------------------------------------------------------------------------- PyBullet
@needs_bullet
def test_bullet_physics_runs_the_same_scenarios_and_detects_collisions():
    env = MODrivingEnv(scenario="highway", physics="bullet", observation="lidar")
    try:
        checked = DrivingEnv(scenario="intersection", physics="bullet")
        check_env(checked, skip_render_check=True)
        checked.close()
        env.reset(seed=0)
        clear_traffic(env)
        put_npc(env, 0, env.scene.route_start + 25.0)
        for _ in range(100):
            obs, reward, terminated, _, info = env.step(4)
            env.steer = env.pursuit_steer(env.scene.route_lane)
            if terminated:
                break
        assert terminated and info["infractions"]["collisions_vehicle"] == 1 and reward[0] == -10.0
        assert obs[18] < 0.2  # the beam straight ahead sees the car just hit
    finally:
        env.close()


@needs_bullet
def test_camera_observation_is_a_headless_rgb_image():
    env = DrivingEnv(scenario="intersection", observation="camera", camera_size=(32, 24))
    try:
        obs, _ = env.reset(seed=0)
        assert obs.shape == (24, 32, 3) and obs.dtype == np.uint8
        assert env.observation_space.contains(obs) and obs.std() > 5
        obs2, *_ = env.step(4)
        assert obs2.shape == obs.shape
    finally:
        env.close()


@needs_bullet
def test_no_pybullet_client_leaks_after_make_close_cycles():
    import pybullet as p

    before = p.connect(p.DIRECT)
    p.disconnect(before)
    clients = []
    for k in range(100):
        env = gym.make("gauntlet/Driving-v0", physics="bullet")
        env.reset(seed=k)
        env.step(4)
        clients.append(env.unwrapped.world.client)
        env.close()
    camera = DrivingEnv(observation="camera", camera_size=(8, 8))
    for seed in range(3):
        camera.reset(seed=seed)  # a new road, a new world: the previous client must be gone
        clients.append(camera.world.client)
    camera.close()
    assert not any(p.isConnected(c) for c in clients)
    probe = p.connect(p.DIRECT)
    p.disconnect(probe)
    assert probe == before  # client ids are reused: the cycles left no client behind


# ----------------------------------------------------------------------------- rendering
def test_render_rgb_array():
    env = MODrivingEnv(scenario="intersection", observation="lidar", render_mode="rgb_array")
    env.reset(seed=0)
    for _ in range(10):
        env.step(4)
    before = env.ego.copy()
    image = env.render()
    assert image.shape == (480, 480, 3) and image.dtype == np.uint8 and image.std() > 10
    np.testing.assert_array_equal(env.ego, before)
    assert MODrivingEnv().render() is None


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, match", [
    ({"scenario": "roundabout"}, r"scenario='roundabout' is not supported; allowed: 'highway', 'intersection', 'curvy'"),
    ({"density": -0.5}, r"density=-0.5 is out of range"),
    ({"density": "rush"}, r"density='rush' is not supported"),
    ({"physics": "mujoco"}, r"physics='mujoco'"),
    ({"action_type": "joystick"}, r"action_type='joystick'"),
    ({"observation": "radar"}, r"observation='radar'"),
    ({"camera_size": (4, 84)}, r"camera_size=\(4, 84\) is invalid; allowed: \(width, height\), integers in \[8, 512\]"),
    ({"camera_size": 84}, r"camera_size=84"),
    ({"n_beams": 2}, r"n_beams=2"),
    ({"turn": "left", "scenario": "highway"}, r"turn='left' is invalid"),
    ({"weights": (1.0, 0.0)}, r"weights=\(1.0, 0.0\) is invalid"),
    ({"render_mode": "human"}, r"render_mode='human'"),
])
def test_bad_constructor_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MODrivingEnv(**kwargs)


@pytest.mark.parametrize("action_type, action", [
    ("discrete", float("nan")), ("discrete", 9), ("discrete", -1), ("discrete", 1.5), ("discrete", "4"),
    ("discrete", np.array([1, 2])), ("meta", 5), ("continuous", np.array([np.nan, 0.0])),
    ("continuous", np.array([2.0, 0.0])), ("continuous", np.array([0.0])),
])
def test_bad_actions(action_type, action):
    env = MODrivingEnv(action_type=action_type)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action=.* is invalid; allowed"):
        env.step(action)


def test_bullet_without_the_extra_names_it(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pybullet" else real(name, *a))
    for kwargs in ({"physics": "bullet"}, {"observation": "camera"}):
        with pytest.raises(ImportError, match=r'pip install "gauntlet-rl\[driving\]"'):
            MODrivingEnv(**kwargs)
