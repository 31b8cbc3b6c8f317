"""AGVWarehouse baselines: A* on hand-made grids, A* + pure pursuit reaching goals on static
scenes, straight-to-goal steering, and the hook contract."""

import math

import gymnasium as gym
import numpy as np
import pytest

import gauntlet  # noqa: F401  (registers the ids)
from gauntlet.baselines.agv_warehouse import AStarAgent, StraightToGoalAgent, astar
from gauntlet.bench.runner import evaluate
from gauntlet.envs.agv_warehouse.env import AGVWarehouseEnv, episode_metrics


def test_astar_shortest_path_by_hand():
    blocked = np.zeros((3, 5), dtype=bool)
    blocked[0:2, 2] = True  # a wall with a gap at the top row (iy = 2)
    path = astar(blocked, (0, 0), (4, 0))
    assert path[0] == (0, 0) and path[-1] == (4, 0)
    assert all(not blocked[y, x] for x, y in path)
    steps = [math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in zip(path, path[1:])]
    # (0,0) -diag-> (1,1) -> (1,2) -> (2,2) -> (3,2) -diag-> (4,1) -> (4,0): no corner cutting at (2,1)
    assert sum(steps) == pytest.approx(4 + 2 * math.sqrt(2))


def test_astar_unreachable_and_penalty():
    blocked = np.zeros((3, 3), dtype=bool)
    blocked[:, 1] = True
    assert astar(blocked, (0, 0), (2, 0)) is None
    open_grid = np.zeros((3, 5), dtype=bool)
    penalty = np.zeros((3, 5))
    penalty[1, 1:4] = 10.0  # the straight line is expensive: go around through row 0
    path = astar(open_grid, (0, 1), (4, 1), penalty)
    assert all(penalty[y, x] == 0 for x, y in path)


@pytest.mark.parametrize("scene, seeds", [("simple-static", [1000, 1001, 1002]), ("complex-static", [1000, 1003])])
def test_astar_agent_reaches_the_goal_on_static_scenes(scene, seeds):
    env = gym.make(f"gauntlet/AGVWarehouse-{'Simple' if scene == 'simple-static' else 'Complex'}Static-Procedural-v1")
    agent = AStarAgent(env)
    results = evaluate(agent, env, seeds, episode_metrics=episode_metrics)
    for seed, r in zip(seeds, results):
        assert r.metrics["success"] == 1.0 and r.metrics["collision"] == 0.0
        assert r.episode_return == 1.0
        _, info = env.reset(seed=seed)
        assert r.metrics["path_length"] >= info["distance_to_goal"] - 0.3


def test_astar_agent_path_is_collision_free_and_ends_at_goal():
    env = AGVWarehouseEnv(scene="complex-static")
    obs, info = env.reset(seed=5)
    agent = AStarAgent(env)
    agent.on_reset(env, obs, info)
    assert np.array_equal(agent.path[-1], env.goal)
    from gauntlet.envs.agv_warehouse import geometry as geo

    clearance = geo.point_clearance(agent.path[1:-1], env.layout.rects, env.layout.width, env.layout.height)
    assert (clearance >= geo.ROBOT_RADIUS + agent.margin).all()


def test_astar_agent_replans_around_a_moving_obstacle():
    env = AGVWarehouseEnv(scene="complex-dynamic")
    agent = AStarAgent(env)
    replans = 0
    for seed in range(1000, 1006):
        obs, info = env.reset(seed=seed)
        agent.on_reset(env, obs, info)
        done = False
        while not done:
            action, _ = agent.predict(obs)
            obs, r, term, trunc, info = env.step(action)
            done = term or trunc
        replans += agent.replans
    assert replans > 0


def test_astar_needs_on_reset():
    env = AGVWarehouseEnv()
    obs, _ = env.reset(seed=0)
    with pytest.raises(RuntimeError, match="on_reset"):
        AStarAgent(env).predict(obs)
    with pytest.raises(ValueError, match="lookahead"):
        AStarAgent(env, lookahead=0.0)


def test_astar_agent_reaches_the_goal_of_the_fixed_maps():
    for env_id in ("gauntlet/AGVWarehouse-SimpleStatic-v1", "gauntlet/AGVWarehouse-ComplexStatic-v1"):
        env = gym.make(env_id)
        results = evaluate(AStarAgent(env), env, [10_000, 10_001], episode_metrics=episode_metrics)
        assert [r.metrics["success"] for r in results] == [1.0, 1.0]


def test_straight_to_goal_steers_towards_the_goal_and_reaches_it_in_open_space():
    env = AGVWarehouseEnv(layout="\n".join(["......"] * 6))
    agent = StraightToGoalAgent(env)
    obs, _ = env.reset(seed=0, options={"start": (0.5, 0.5, math.pi), "goal": (4.5, 4.5)})
    action, _ = agent.predict(obs)
    assert action.shape == (2,) and action.dtype == np.float32
    assert action[0] == -1.0 and action[1] < 0  # goal behind-left -> turn (clockwise is shorter here), no drive
    batch, _ = agent.predict(np.stack([obs, obs]))
    assert batch.shape == (2, 2)
    for _ in range(200):
        obs, r, term, trunc, info = env.step(agent.predict(obs)[0])
        if term:
            break
    assert info["is_success"]
