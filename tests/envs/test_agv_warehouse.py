"""AGVWarehouse: API compliance, determinism, ray casting and collisions against hand-computed
geometry, moving obstacles, the batched env against SyncVectorEnv, and input validation."""

import math
import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import gauntlet  # noqa: F401  (registers the ids)
from gauntlet.envs.agv_warehouse import geometry as geo
from gauntlet.envs.agv_warehouse import kernels
from gauntlet.envs.agv_warehouse.env import AGVWarehouseEnv, check_actions, episode_metrics, to_action
from gauntlet.envs.agv_warehouse.vector import AGVWarehouseVectorEnv

SCENES = ["simple-static", "simple-dynamic", "complex-static", "complex-dynamic"]
# 5 x 3 m room with one shelf cell covering [2, 3] x [1, 2]
ROOM = """
.....
..#..
.....
"""


def rollout(env, seed, n=60, action_seed=0):
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(action_seed)
    out = [obs]
    for _ in range(n):
        a = rng.uniform(-1, 1, size=2).astype(np.float32)
        obs, r, term, trunc, info = env.step(a)
        out.append(np.append(obs, [r, term, trunc]))
        if term or trunc:
            obs, _ = env.reset()
            out.append(obs)
    return np.concatenate(out)


@pytest.mark.parametrize("scene, layout_seed", [(s, None) for s in SCENES] + [(s, 0) for s in SCENES])
def test_env_checkers(scene, layout_seed):
    env = AGVWarehouseEnv(scene=scene, layout_seed=layout_seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env)
        sb3_check_env(env)
    assert not [w for w in caught if "symmetric" in str(w.message)]  # v0's box made both checkers recommend one


@pytest.mark.parametrize("env_id", ["gauntlet/AGVWarehouse-v1"] + [
    f"gauntlet/AGVWarehouse-{scene}{kind}-v1"
    for scene in ("SimpleStatic", "SimpleDynamic", "ComplexStatic", "ComplexDynamic") for kind in ("", "-Procedural")
])
def test_registered_ids_and_spaces(env_id):
    env = gym.make(env_id)
    obs, info = env.reset(seed=0)
    assert obs.shape == (24 + 5,) and obs.dtype == np.float32
    assert env.observation_space.contains(obs)
    assert env.action_space == gym.spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
    assert set(info) >= {"is_success", "collision", "distance_to_goal", "path_length", "steps", "position"}
    assert (env.unwrapped.fixed_layout is None) is env_id.endswith("-Procedural-v1")


def test_actions_are_rescaled_from_the_symmetric_box():
    commands = check_actions(np.array([[-1, -1], [0, 0], [1, 1], [0.5, -0.2]], dtype=np.float32), 4)
    assert np.allclose(commands, [[0, -1.5], [0.5, 0], [1, 1.5], [0.75, -0.3]])
    assert np.allclose(to_action(commands[:, 0], commands[:, 1]), [[-1, -1], [0, 0], [1, 1], [0.5, -0.2]])
    env = AGVWarehouseEnv(layout=ROOM)
    env.reset(seed=0, options={"start": (0.5, 0.5, 0.0), "goal": (4.5, 2.5)})
    obs, *_ = env.step(np.zeros(2, dtype=np.float32))  # the centre of the box drives at half speed
    assert env.pose == pytest.approx([0.55, 0.5, 0.0]) and obs[-2:] == pytest.approx([0.5, 0.0])


def test_fixed_map_keeps_layout_start_and_goal_and_draws_the_heading():
    env = gym.make("gauntlet/AGVWarehouse-ComplexStatic-v1").unwrapped
    layout = geo.fixed_map("complex-static", 0)
    headings = []
    for seed in range(4):
        _, info = env.reset(seed=seed)
        assert np.array_equal(env.layout.grid, layout.grid) and env.layout is env.fixed_layout
        assert env.pose[:2] == pytest.approx(np.add(layout.start, 0.5))
        assert env.goal == pytest.approx(np.add(layout.goal, 0.5))
        assert info["position"] == pytest.approx(tuple(env.pose[:2]))
        headings.append(env.pose[2])
    assert len(set(headings)) == 4
    assert not np.array_equal(geo.fixed_map("complex-static", 1).grid, layout.grid)


@pytest.mark.parametrize("scene", SCENES)
def test_fixed_maps_start_and_goal_are_free_connected_and_in_the_distance_band(scene):
    labels, sizes = np.empty((1, 400), dtype=np.int64), np.empty((1, 401), dtype=np.int64)
    for layout_seed in range(5):
        layout = geo.fixed_map(scene, layout_seed)
        again = geo.fixed_map(scene, layout_seed)
        assert np.array_equal(layout.grid, again.grid) and (layout.start, layout.goal) == (again.start, again.goal)
        (sx, sy), (gx, gy) = layout.start, layout.goal
        kernels.label_regions(layout.grid[None], labels, sizes)
        assert labels[0, sy * 20 + sx] == labels[0, gy * 20 + gx] == np.argmax(sizes[0])
        assert geo.FIXED_GOAL_DISTANCE[0] <= math.hypot(gx - sx, gy - sy) <= geo.FIXED_GOAL_DISTANCE[1]
        segment = np.linspace([sx + 0.5, sy + 0.5], [gx + 0.5, gy + 0.5], 200)
        assert geo.point_clearance(segment, layout.rects, 20.0, 20.0).min() < geo.ROBOT_RADIUS  # no straight drive


@pytest.mark.parametrize("scene", ["simple-dynamic", "complex-static"])
def test_same_seed_same_trajectory_and_reset_reseeds(scene):
    a = rollout(AGVWarehouseEnv(scene=scene), seed=7)
    env = AGVWarehouseEnv(scene=scene)
    rollout(env, seed=3)
    assert np.array_equal(a, rollout(env, seed=7))
    assert not np.array_equal(a, rollout(AGVWarehouseEnv(scene=scene), seed=8))


def test_trajectory_is_identical_in_another_process():
    import hashlib
    import inspect

    code = "\n".join([
        "import hashlib",
        "import numpy as np",
        "from gauntlet.envs.agv_warehouse.env import AGVWarehouseEnv",
        inspect.getsource(rollout),
        "print(hashlib.sha256(rollout(AGVWarehouseEnv(scene='complex-dynamic'), seed=11).tobytes()).hexdigest())",
    ])
    here = hashlib.sha256(rollout(AGVWarehouseEnv(scene="complex-dynamic"), seed=11).tobytes()).hexdigest()
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert here == there


def test_layout_is_procedural_from_the_seed():
    env = AGVWarehouseEnv(scene="complex-static")
    env.reset(seed=1)
    first = env.layout.grid.copy()
    env.reset(seed=2)
    assert not np.array_equal(first, env.layout.grid)
    env.reset(seed=1)
    assert np.array_equal(first, env.layout.grid)


def test_rectangles_cover_exactly_the_obstacle_cells():
    env = AGVWarehouseEnv(scene="complex-static")
    for seed in range(5):
        env.reset(seed=seed)
        layout = env.layout
        covered = np.zeros_like(layout.grid)
        for x0, y0, x1, y1 in layout.rects.astype(int):
            covered[y0:y1, x0:x1] = True
        assert np.array_equal(covered, layout.grid)
        parsed = geo.parse_layout(geo.layout_to_string(layout))
        assert np.array_equal(parsed.grid, layout.grid)


def test_start_and_goal_are_free_reachable_and_apart():
    env = AGVWarehouseEnv(scene="complex-static", min_goal_distance=4.0)
    for seed in range(10):
        env.reset(seed=seed)
        start, goal = env.pose[:2].astype(int), env.goal.astype(int)
        assert not env.layout.grid[start[1], start[0]] and not env.layout.grid[goal[1], goal[0]]
        assert np.hypot(*(env.goal - env.pose[:2])) >= 4.0


# ------------------------------------------------------------------ ray casting
@pytest.mark.parametrize("n_beams, expected", [
    (4, [1.5, 1.5, 0.5, 1.5]),  # +x hits the shelf face x=2; +y, -x, -y hit the walls
    (8, [1.5, 1.5 * math.sqrt(2), 1.5, 0.5 * math.sqrt(2), 0.5, 0.5 * math.sqrt(2), 1.5, 1.5 * math.sqrt(2)]),
])
def test_lidar_matches_hand_computed_distances(n_beams, expected):
    env = AGVWarehouseEnv(layout=ROOM, n_beams=n_beams, lidar_range=5.0)
    obs, _ = env.reset(seed=0, options={"start": (0.5, 1.5, 0.0), "goal": (4.5, 1.5)})
    assert obs[:n_beams] * 5.0 == pytest.approx(expected, abs=1e-5)


def test_lidar_is_capped_at_range_and_rotates_with_heading():
    env = AGVWarehouseEnv(layout=ROOM, n_beams=4, lidar_range=1.0)
    obs, _ = env.reset(seed=0, options={"start": (0.5, 1.5, math.pi / 2), "goal": (4.5, 1.5)})
    # beams at pi/2, pi, 3pi/2, 0: wall 1.5 (capped to 1), wall 0.5, wall 1.5 (capped), shelf 1.5 (capped)
    assert obs[:4] == pytest.approx([1.0, 0.5, 1.0, 1.0], abs=1e-5)


def test_lidar_against_a_disc():
    # robot at (5, 5) looking along +x in an empty 10 x 10 m room; a disc of radius 0.35 parked on a
    # zero-length lane at (8, 5.2) is hit at t = 3 - sqrt(0.35^2 - 0.2^2); mirrored behind the robot
    # it is missed and the wall at x = 10 is hit
    room = geo.parse_layout("\n".join(["." * 10] * 10))
    batch = geo.WarehouseBatch(2, 1, 6.0)
    for i, centre in enumerate(((8.0, 5.2), (2.0, 4.8))):
        lane = np.array([[*centre, *centre]])
        start, goal = np.array([5.0, 5.0, 0.0]), np.array([9.5, 9.5])
        batch.load(i, geo.Episode(room, start, goal, lane, np.array([0.5]), np.array([0.0])))
    assert batch.lidar()[:, 0] == pytest.approx([3 - math.sqrt(0.35**2 - 0.2**2), 5.0], abs=1e-6)


@pytest.mark.parametrize("scene", ["complex-static", "complex-dynamic"])
def test_batched_lidar_equals_one_robot_at_a_time_and_pruning_changes_no_beam(scene):
    # shelves beyond the lidar range are skipped; casting against every shelf gives the same beams
    n = 64
    rng = np.random.default_rng(3)
    batch = geo.WarehouseBatch(n, 24, 3.0)
    episodes = geo.sample_episodes([np.random.default_rng(s) for s in range(n)], scene, None, 2.0)
    singles = []
    for i, episode in enumerate(episodes):
        batch.load(i, episode)
        free = np.argwhere(~episode.layout.grid)
        iy, ix = free[rng.integers(len(free))]
        batch.pose[i] = (ix + rng.uniform(), iy + rng.uniform(), rng.uniform(-np.pi, np.pi))
        batch.steps[i] = rng.integers(100)
        single = geo.WarehouseBatch(1, 24, 3.0)
        single.load(0, episode)
        single.pose[0], single.steps[0] = batch.pose[i], batch.steps[i]
        singles.append(single.lidar()[0])
    pruned = batch.lidar()
    assert np.array_equal(pruned, np.array(singles))
    batch._reach2 = np.inf
    assert np.array_equal(batch.lidar(), pruned)


def test_free_lanes_by_hand():
    # runs of >= 4 free cells, rows bottom up then columns left to right; the start cell (2, 1)
    # removes the run of row 1 and of column 2
    layout = geo.parse_layout("""
    ......
    .#....
    ......
    ....#.
    """)
    pools, counts = np.zeros((1, 20, 4)), np.zeros(1, dtype=np.int64)
    kernels.free_lanes(layout.grid[None], np.array([1 * 6 + 2]), 4, pools, counts)
    assert pools[0, : counts[0]].tolist() == [
        [0.5, 0.5, 3.5, 0.5], [2.5, 2.5, 5.5, 2.5], [0.5, 3.5, 5.5, 3.5],
        [0.5, 0.5, 0.5, 3.5], [3.5, 0.5, 3.5, 3.5], [5.5, 0.5, 5.5, 3.5],
    ]


# ------------------------------------------------------------------ collisions
@pytest.mark.parametrize("xy, collided", [
    ((1.74, 1.5), False),  # 0.26 m from the shelf face x=2
    ((1.76, 1.5), True),  # 0.24 m
    ((1.81, 0.81), False),  # corner (2, 1) at 0.19 * sqrt(2) = 0.2687 m
    ((1.83, 0.83), True),  # 0.2404 m
    ((0.26, 1.5), False),  # 0.26 m from the wall x=0
    ((4.76, 1.5), True),  # 0.24 m from the wall x=5
    ((2.5, 2.76), True),  # 0.24 m from the wall y=3
])
def test_collision_at_boundaries(xy, collided):
    env = AGVWarehouseEnv(layout=ROOM)
    env.reset(seed=0, options={"start": (0.5, 0.5, 0.0), "goal": (4.5, 2.5)})
    env.sim.pose[0, :2] = xy
    assert bool(env.sim.clearance()[0] < geo.ROBOT_RADIUS) is collided


def test_driving_into_the_wall_terminates_with_minus_one():
    env = AGVWarehouseEnv(layout=ROOM)
    env.reset(seed=0, options={"start": (0.46, 0.5, math.pi), "goal": (4.5, 2.5)})
    obs, r, term, trunc, info = env.step(np.array([1.0, 0.0], dtype=np.float32))  # x = 0.36: free
    assert (r, term, info["collision"]) == (0.0, False, False)
    obs, r, term, trunc, info = env.step(np.array([1.0, 0.0], dtype=np.float32))  # x = 0.26: free
    assert (r, term) == (0.0, False)
    assert obs[0] * 5.0 == pytest.approx(0.26, abs=1e-5)  # beam 0 looks along the heading, at the wall
    obs, r, term, trunc, info = env.step(np.array([1.0, 0.0], dtype=np.float32))  # x = 0.16: overlap
    assert (r, term, trunc, info["collision"], info["is_success"]) == (-1.0, True, False, True, False)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.array([0.0, 0.0], dtype=np.float32))


def test_reaching_the_goal_gives_plus_one_and_dense_reward_is_progress():
    corridor = "S.G"
    env = AGVWarehouseEnv(layout=corridor)
    obs, info = env.reset(seed=0, options={"start": (0.5, 0.5, 0.0)})
    assert info["distance_to_goal"] == pytest.approx(2.0)
    rewards, infos = [], []
    for _ in range(30):
        obs, r, term, trunc, info = env.step(np.array([1.0, 0.0], dtype=np.float32))
        rewards.append(r)
        infos.append(info)
        if term:
            break
    assert term and info["is_success"] and rewards[-1] == 1.0 and sum(rewards) == 1.0
    assert len(rewards) == 17  # 0.1 m per step; the goal tolerance is 0.3 m
    m = episode_metrics(np.array(rewards), infos)
    assert m == {"success": 1.0, "collision": 0.0, "steps_to_goal": 17.0, "path_length": pytest.approx(1.7)}

    dense = AGVWarehouseEnv(layout=corridor, reward="dense", progress_coef=2.0, step_cost=0.01)
    dense.reset(seed=0, options={"start": (0.5, 0.5, 0.0)})
    _, r, *_ = dense.step(to_action(0.5, 0.0))
    assert r == pytest.approx(2.0 * 0.05 - 0.01)


def test_truncation_after_max_steps_and_metrics_of_a_failed_episode():
    env = AGVWarehouseEnv(layout=ROOM, max_steps=5)
    env.reset(seed=0, options={"start": (0.5, 0.5, 0.0), "goal": (4.5, 2.5)})
    infos = []
    for t in range(5):
        _, r, term, trunc, info = env.step(to_action(0.0, 0.0))
        infos.append(info)
    assert (term, trunc, info["steps"]) == (False, True, 5)
    m = episode_metrics(np.zeros(5), infos)
    assert m["success"] == 0.0 and m["collision"] == 0.0 and math.isnan(m["steps_to_goal"])


def test_unicycle_kinematics():
    env = AGVWarehouseEnv(layout=ROOM)
    env.reset(seed=0, options={"start": (0.5, 0.5, 0.0), "goal": (4.5, 2.5)})
    env.step(to_action(0.5, 1.0))
    assert env.pose == pytest.approx([0.55, 0.5, 0.1])
    env.step(np.array([1.0, 0.0], dtype=np.float32))
    assert env.pose == pytest.approx([0.55 + 0.1 * math.cos(0.1), 0.5 + 0.1 * math.sin(0.1), 0.1])


# ------------------------------------------------------------------ moving obstacles
def test_lane_positions_by_hand():
    lanes = np.array([[0.5, 0.5, 4.5, 0.5]])  # L = 4 m
    speeds, phases = np.array([0.5]), np.array([0.0])
    for time, x in ((0.0, 0.5), (1.0, 1.0), (8.0, 4.5), (9.0, 4.0), (16.0, 0.5), (17.0, 1.0)):
        assert geo.lane_positions(lanes, speeds, phases, np.array(time))[0] == pytest.approx([x, 0.5])


def test_dynamic_obstacles_follow_their_lanes_deterministically():
    envs = [AGVWarehouseEnv(scene="complex-dynamic") for _ in range(2)]
    for env in envs:
        env.reset(seed=4)
    ep = envs[0].episode
    assert len(ep.lanes) == 4
    tracks = [[], []]
    for t in range(1, 40):
        for env, track in zip(envs, tracks):
            if not env._done:
                env.step(to_action(0.0, 0.0))
            track.append(env.dynamic_obstacles().copy())
        pos = tracks[0][-1]
        expected = geo.lane_positions(ep.lanes, ep.speeds, ep.phases, np.array(t * geo.DT))
        assert np.array_equal(pos, expected)
        a, b = ep.lanes[:, :2], ep.lanes[:, 2:]
        cross = (b - a)[:, 0] * (pos - a)[:, 1] - (b - a)[:, 1] * (pos - a)[:, 0]
        assert np.allclose(cross, 0.0)  # on the lane segment
        cells = np.floor(pos).astype(int)
        assert not envs[0].layout.grid[cells[:, 1], cells[:, 0]].any()
    assert np.array_equal(np.array(tracks[0]), np.array(tracks[1]))
    assert not np.allclose(tracks[0][0], tracks[0][-1])


# ------------------------------------------------------------------ vector env
@pytest.mark.parametrize("env_id", [
    "gauntlet/AGVWarehouse-SimpleStatic-v1", "gauntlet/AGVWarehouse-ComplexDynamic-v1",
    "gauntlet/AGVWarehouse-SimpleStatic-Procedural-v1", "gauntlet/AGVWarehouse-ComplexDynamic-Procedural-v1",
])
def test_vector_env_equals_sync_vector_env(env_id):
    n = 4
    native = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point", max_steps=40)
    sync = gym.make_vec(env_id, num_envs=n, vectorization_mode="sync", max_steps=40)
    assert isinstance(native, AGVWarehouseVectorEnv)
    assert native.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP
    o1, i1 = native.reset(seed=21)
    o2, i2 = sync.reset(seed=21)
    assert np.array_equal(o1, o2)
    rng = np.random.default_rng(0)
    ends = 0
    for _ in range(120):
        a = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
        r1, r2 = native.step(a), sync.step(a)
        for x, y in zip(r1[:4], r2[:4]):
            assert np.array_equal(x, y)
        for key in ("is_success", "collision", "distance_to_goal", "path_length", "steps"):
            assert np.array_equal(r1[4][key], r2[4][key])
        assert np.array_equal(r1[4]["position"], np.array(r2[4]["position"].tolist()))
        ends += int(r1[2].sum() + r1[3].sum())
    assert ends > n  # autoreset was exercised


def test_vector_env_reset_options_match_the_single_env():
    options = {"start": (0.5, 1.5, 0.3), "goal": (4.5, 0.5)}
    native = AGVWarehouseVectorEnv(num_envs=3, layout=ROOM, scene="simple-dynamic")
    obs, info = native.reset(seed=5, options=options)
    for i in range(3):
        single = AGVWarehouseEnv(layout=ROOM, scene="simple-dynamic")
        expected, expected_info = single.reset(seed=5 + i, options=options)
        assert np.array_equal(obs[i], expected)
        assert info["distance_to_goal"][i] == expected_info["distance_to_goal"]
    assert np.array_equal(native.sim.pose, np.tile(options["start"], (3, 1)))


def test_vector_env_reset_mask_resets_and_reseeds_only_the_masked_copies():
    env = AGVWarehouseVectorEnv(num_envs=3, scene="simple-static")
    env.reset(seed=0)
    for _ in range(3):
        env.step(np.full((3, 2), 0.5, dtype=np.float32))
    pose = env.sim.pose.copy()
    env.reset(seed=7, options={"reset_mask": np.array([False, True, False])})
    assert np.array_equal(env.sim.pose[[0, 2]], pose[[0, 2]])
    single = AGVWarehouseEnv(scene="simple-static")
    single.reset(seed=8)
    assert np.array_equal(env.sim.pose[1], single.unwrapped.sim.pose[0])
    for bad in (np.array([1, 0, 1]), np.zeros(3, dtype=bool), np.ones(2, dtype=bool)):
        with pytest.raises(ValueError, match="reset_mask must be a bool array of shape \\(3,\\)"):
            env.reset(options={"reset_mask": bad})


def test_vector_env_validates_actions_and_arguments():
    env = AGVWarehouseVectorEnv(num_envs=3)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros((3, 2), dtype=np.float32))
    env.reset(seed=0)
    with pytest.raises(ValueError, match="shape"):
        env.step(np.zeros((2, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="NaN"):
        env.step(np.array([[0.5, 0.0], [np.nan, 0.0], [0.5, 0.0]], dtype=np.float32))
    with pytest.raises(ValueError, match="num_envs"):
        AGVWarehouseVectorEnv(num_envs=0)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("kwargs, match", [
    (dict(layout="###\n###"), "no free cell"),
    (dict(layout="#.\n#"), "row 1 has 1 cells"),
    (dict(layout="#x."), r"contains \['x'\]"),
    (dict(layout="S.S"), "2 'S' cells"),
    (dict(n_beams=0), r"n_beams=0 is out of range; allowed: integers >= 1"),
    (dict(n_beams=8.0), r"n_beams=8.0 is not an integer; allowed: integers >= 1"),
    (dict(lidar_range=-1.0), r"lidar_range=-1.0 is out of range; allowed: finite numbers > 0.0 \(metres\)"),
    (dict(min_goal_distance=float("nan")), r"min_goal_distance=nan is out of range; allowed: finite numbers >= 0.0 \(metres\)"),
    (dict(step_cost=-0.1), r"step_cost=-0.1 is out of range; allowed: finite numbers >= 0.0"),
    (dict(scene="maze"), r"scene='maze' is not supported; allowed: 'simple-static', 'simple-dynamic', 'complex-static', 'complex-dynamic'"),
    (dict(reward="shaped"), r"reward='shaped' is not supported; allowed: 'sparse', 'dense'"),
    (dict(max_steps=0), r"max_steps=0 is out of range; allowed: integers >= 1"),
    (dict(render_mode="human"), r"render_mode='human' is not supported; allowed: None, 'rgb_array'"),
    (dict(layout_seed=-1), r"layout_seed=-1 is out of range; allowed: integers in \[0, 4294967295\]"),
    (dict(layout_seed=2**32), r"layout_seed=4294967296 is out of range; allowed: integers in \[0, 4294967295\]"),
    (dict(layout_seed=1.0), r"layout_seed=1.0 is not an integer"),
    (dict(layout_seed=0, layout=ROOM), "layout and layout_seed are exclusive"),
])
def test_bad_constructor_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AGVWarehouseEnv(**kwargs)


@pytest.mark.parametrize("layout, match", [
    ("S#.", "no reachable free cell"),
    ("S#G", r"goal G \(2, 0\) is not reachable from its start S \(0, 0\)"),
    (".#.", "at least two 4-connected free cells"),
])
def test_unsolvable_layouts_are_rejected(layout, match):
    env = AGVWarehouseEnv(layout=layout)
    with pytest.raises(ValueError, match=match):
        env.reset(seed=0)


def test_layout_string_start_and_goal_are_used():
    env = AGVWarehouseEnv(layout="G..\n.#.\n..S")
    for seed in range(3):
        env.reset(seed=seed)
        assert env.pose[:2] == pytest.approx([2.5, 0.5]) and env.goal == pytest.approx([0.5, 2.5])
    fixed_goal = AGVWarehouseEnv(layout="G.#..\n..#..")
    for seed in range(5):
        fixed_goal.reset(seed=seed)
        assert fixed_goal.pose[0] < 2  # start drawn from the goal's side of the wall


@pytest.mark.parametrize("options, match", [
    ({"start": (2.5, 1.5, 0.0)}, r"options\['start'\].*inside an obstacle"),
    ({"start": (1.9, 1.5, 0.0)}, r"inside an obstacle or the wall: clearance 0.100"),
    ({"start": (-1.0, 1.5, 0.0)}, r"options\['start'\]"),
    ({"goal": (2.5, 1.5)}, r"options\['goal'\].*inside an obstacle"),
    ({"goal": (7.0, 1.5)}, r"options\['goal'\].*outside the world"),
    ({"start": (0.5, 0.5)}, r"finite \(x, y, theta\)"),
    ({"speed": 3}, "unknown reset options"),
])
def test_bad_start_or_goal(options, match):
    env = AGVWarehouseEnv(layout=ROOM)
    with pytest.raises(ValueError, match=match):
        env.reset(seed=0, options=options)


@pytest.mark.parametrize("action, match", [
    ([np.nan, 0.0], "NaN or inf"),
    ([0.5, np.inf], "NaN or inf"),
    ([0.5], "shape"),
    ([1.5, 0.0], r"out of range: both components must be in \[-1, 1\], got \[1.5, 0.0\]"),
    ([0.5, -1.01], "out of range"),
])
def test_bad_actions(action, match):
    env = AGVWarehouseEnv()
    env.reset(seed=0)
    before = env.pose
    with pytest.raises(ValueError, match=match):
        env.step(np.array(action, dtype=np.float32))
    assert np.array_equal(env.pose, before)


@pytest.mark.parametrize("env_id", ["gauntlet/AGVWarehouse-ComplexDynamic-v1",
                                    "gauntlet/AGVWarehouse-ComplexDynamic-Procedural-v1"])
def test_render_rgb_array(env_id):
    env = gym.make(env_id, render_mode="rgb_array")
    env.reset(seed=0)
    img = env.render()
    assert img.shape == (400, 400, 3) and img.dtype == np.uint8
    assert AGVWarehouseEnv().render() is None
