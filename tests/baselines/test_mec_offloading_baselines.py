import gymnasium as gym
import numpy as np
import pytest

import gauntlet  # noqa: F401
from gauntlet.baselines.mec_offloading import (
    AllCloudAgent,
    GreedyMinDelayAgent,
    GreedyMinEnergyAgent,
    GreedyScalarizedAgent,
    LeastLoadedAgent,
    LinUCBAgent,
    NearestEdgeAgent,
)
from gauntlet.bench.runner import evaluate
from gauntlet.registry import AGENTS, load_object

KW = dict(context="test", preference_in_obs=True, episode_steps=15)
MEC_BASELINES = ["all-cloud", "nearest-edge", "greedy-min-delay", "greedy-min-energy", "greedy-scalarized",
                 "least-loaded", "linucb", "random"]


def make_env(**kwargs):
    return gym.make("gauntlet/mo-MECOffloading-v0", **{**KW, **kwargs})


@pytest.mark.parametrize("version", ["v0", "v1"])
@pytest.mark.parametrize("name", MEC_BASELINES)
def test_registered_baselines_only_choose_valid_servers(name, version):
    env = gym.make(f"gauntlet/mo-MECOffloading-{version}", **KW)
    agent = load_object(AGENTS[name].factory)(env, seed=0)
    results = evaluate(agent, env, [1, 2], weights=(0.3, 0.7))
    assert len(results) == 2 and all(r.length == 15 for r in results)
    assert all(np.shape(r.episode_return) == (2,) for r in results)


def step_once(agent, env, seed=0, weights=(0.5, 0.5)):
    obs, info = env.reset(seed=seed, options={"weights": weights})
    agent.on_reset(env, obs, info)
    return obs, info, agent.predict(obs, action_masks=info["action_mask"])[0]


def first_real_task(env, seed_start=0):
    for seed in range(seed_start, seed_start + 50):
        obs, info = env.reset(seed=seed)
        if env.unwrapped.core.head_size[0] > 0:
            return seed
    raise AssertionError("no seed with a task at the first step")


def test_greedy_agents_pick_the_argmin_of_the_env_estimates():
    env = make_env(n_edges=6)
    seed = first_real_task(env)
    for weights in ((1.0, 0.0), (0.0, 1.0), (0.5, 0.5)):
        env.reset(seed=seed)
        delay, energy = env.unwrapped.server_estimates()
        assert np.all(np.isinf(delay[7:])) and np.all(np.isfinite(delay[:7]))
        _, _, a = step_once(GreedyMinDelayAgent(env), env, seed, weights)
        assert a == int(np.argmin(delay))
        _, _, a = step_once(GreedyMinEnergyAgent(env), env, seed, weights)
        assert a == int(np.argmin(energy))
        _, _, a = step_once(GreedyScalarizedAgent(env), env, seed, weights)
        assert a == int(np.argmin(weights[0] * 0.01 * delay[:7] + weights[1] * 50 * energy[:7]))
        _, _, a = step_once(AllCloudAgent(env), env, seed, weights)
        assert a == 0


def test_simple_heuristics_read_the_observation():
    env = make_env(n_edges=4)
    obs, info, a = step_once(NearestEdgeAgent(env), env, seed=3)
    rows = obs[: 11 * 65].reshape(11, 65)
    assert a == 1 + int(np.argmax(rows[1:5, 1]))
    _, _, a = step_once(AllCloudAgent(env), env, seed=3)
    assert a == 0
    agent = LeastLoadedAgent(env)
    rows = rows.copy()
    rows[:5, 3] = [4, 1, 0, 2, 0]
    rows[:5, 2] = [4.0, 2.0, 1.5, 2.0, 2.2]
    assert agent.choose(rows, rows[:, 2] > 0) == 4  # idle and faster than edge 2
    assert NearestEdgeAgent(make_env(n_edges=0)).choose(rows, np.arange(11) == 0) == 0


def test_linucb_learns_per_preference_models_and_round_trips(tmp_path):
    env = make_env(n_edges=6)
    agent = LinUCBAgent(env, seed=0, n_grid=3)
    agent.learn(90)
    assert agent.num_timesteps == 90
    assert set(agent.models) == {(0.0, 1.0), (0.5, 0.5), (1.0, 0.0)}
    a_mat, b = agent.models[(0.5, 0.5)]
    assert not np.allclose(a_mat, np.eye(5)) and np.any(b != 0)
    path = tmp_path / "linucb.pkl"
    agent.save(path)
    loaded = LinUCBAgent.load(path, env=env)
    assert loaded.num_timesteps == 90
    obs, info = env.reset(seed=5, options={"weights": (0.5, 0.5)})
    loaded.on_reset(env, obs, info)
    agent.on_reset(env, obs, info)
    assert loaded.predict(obs)[0] == agent.predict(obs)[0]
    with pytest.raises(ValueError, match="alpha"):
        LinUCBAgent(env, alpha=-1.0)
    with pytest.raises(ValueError, match="env="):
        LinUCBAgent.load(path)


def test_linucb_features_are_the_linear_parts_of_the_reward():
    env = make_env(n_edges=3, context="fixed")
    seed = first_real_task(env)
    obs, _ = env.reset(seed=seed)
    agent = LinUCBAgent(env)
    feats = agent.features(agent.rows(obs))
    core = env.unwrapped.core
    size, rate = core.head_size[0], core.head_rates()[0]
    # Upload time and solo execution time (s) on an idle edge, 2 GHz -> 2 Mbit/s.
    assert feats[1, 0] == pytest.approx(size / rate[1], rel=1e-4)
    assert feats[1, 1] == pytest.approx(size / 2e6, rel=1e-4)
    assert feats[1, 3] == pytest.approx(5e-31 * 1e3 * (2e9) ** 2 * size, rel=1e-4)


def test_v1_greedy_baselines_use_the_cloud_for_delay_and_the_edges_for_energy():
    # v1's cloud (twice the CPU, four times the energy per bit, behind a backhaul) is the
    # delay-greedy choice for some tasks and never the energy-greedy one.
    env = gym.make("gauntlet/mo-MECOffloading-v1", **KW)
    chosen = {}
    for cls in (GreedyMinDelayAgent, GreedyMinEnergyAgent):
        agent = cls(env)
        actions = []
        for seed in range(4):
            obs, info = env.reset(seed=seed)
            agent.on_reset(env, obs, info)
            for _ in range(15):
                real = env.unwrapped.core.head_size[0] > 0
                action = agent.predict(obs, action_masks=info["action_mask"])[0]
                if real:
                    actions.append(action)
                obs, _, _, _, info = env.step(action)
                agent.on_step(obs, None, False, False, info)
        chosen[cls] = np.array(actions)
    assert (chosen[GreedyMinDelayAgent] == 0).mean() > 0.1
    assert (chosen[GreedyMinEnergyAgent] == 0).sum() == 0
