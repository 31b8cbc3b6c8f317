import pickle
import subprocess
import sys

import numpy as np
import pettingzoo
import pytest
from pettingzoo.test import parallel_api_test, parallel_seed_test

import gauntlet
from gauntlet.envs.mo_coop import MOCoopNavigationEnv, MOPredatorPreyEnv
from gauntlet.envs.mo_coop.vector import MOCoopNavigationVectorEnv, MOPredatorPreyVectorEnv

IDS = ["gauntlet/MOCoopNavigation-v0", "gauntlet/MOPredatorPrey-v0"]
ENVS = [MOCoopNavigationEnv, MOPredatorPreyEnv]


def rollout(env, seed, steps=60):
    """Observations, rewards and states of ``steps`` random joint steps (resetting at episode ends)."""
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    out = [np.stack(list(obs.values())), env.state()]
    for _ in range(steps):
        if not env.agents:
            obs, _ = env.reset()
        actions = {a: int(rng.integers(5)) for a in env.agents}
        obs, rew, _, _, _ = env.step(actions)
        out += [np.stack(list(obs.values())), np.stack(list(rew.values())), env.state()]
    return out


@pytest.mark.parametrize("env_id", IDS)
def test_made_by_gauntlet_and_pettingzoo(env_id):
    a, b = gauntlet.make_parallel(env_id, n_agents=2), pettingzoo.make("parallel", env_id, n_agents=2)
    assert type(a) is type(b) and a.possible_agents == b.possible_agents and len(a.possible_agents) == 2
    for x, y in zip(rollout(a, 3), rollout(b, 3)):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("cls", ENVS)
def test_pettingzoo_api_and_seed_tests(cls):
    parallel_api_test(cls(), num_cycles=60)
    parallel_seed_test(lambda: cls())
    parallel_api_test(cls(n_agents=1), num_cycles=30)


@pytest.mark.parametrize("cls", ENVS)
def test_spaces_hold_observations_states_and_team_reward_vectors(cls):
    env = cls(n_agents=4, world_size=1.5)
    rng = np.random.default_rng(0)
    for seed in range(3):
        obs, _ = env.reset(seed=seed)
        while env.agents:
            for agent in env.agents:
                assert env.observation_space(agent).contains(obs[agent]), agent
            assert env.state_space.contains(env.state())
            obs, rew, _, _, _ = env.step({a: int(rng.integers(5)) for a in env.agents})
            vectors = list(rew.values())
            for agent, r in rew.items():
                assert r.shape == (env.reward_dim,) and r.dtype == np.float32
                assert env.reward_space(agent).contains(r)
                np.testing.assert_array_equal(r, vectors[0])
    assert vectors[0] is not vectors[1], "each agent gets its own reward array"


def test_determinism_across_processes():
    code = ("import numpy as np, gauntlet, hashlib\n"
            "from tests.envs.test_mo_coop import rollout\n"
            "for i in ('gauntlet/MOCoopNavigation-v0', 'gauntlet/MOPredatorPrey-v0'):\n"
            "    h = hashlib.sha256(b''.join(np.ascontiguousarray(x).tobytes() for x in rollout(gauntlet.make_parallel(i), 7)))\n"
            "    print(h.hexdigest())\n")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout for _ in range(2)]
    assert runs[0] == runs[1] and len(runs[0].split()) == 2


@pytest.mark.parametrize("single, vector", [(MOCoopNavigationEnv, MOCoopNavigationVectorEnv),
                                            (MOPredatorPreyEnv, MOPredatorPreyVectorEnv)])
def test_vector_worlds_follow_the_single_env_bit_for_bit(single, vector):
    worlds, seed = 4, 11
    venv = vector(num_worlds=worlds, max_cycles=8)
    obs, _ = venv.reset(seed=seed)
    envs = [single(max_cycles=8) for _ in range(worlds)]
    single_obs = [e.reset(seed=seed + i)[0] for i, e in enumerate(envs)]
    rng = np.random.default_rng(0)
    for _ in range(20):
        for i, e in enumerate(envs):
            np.testing.assert_array_equal(obs[i], np.stack(list(single_obs[i].values())))
            np.testing.assert_array_equal(venv.state()[i], e.state())
        actions = rng.integers(0, 5, size=(worlds, venv.n_agents))
        obs, rew, term, trunc, infos = venv.step(actions)
        for i, e in enumerate(envs):
            o, r, te, tr, _ = e.step(dict(zip(e.agents, actions[i].tolist())))
            np.testing.assert_array_equal(rew[i], r[e.possible_agents[0]])
            assert (term[i], trunc[i]) == (te[e.possible_agents[0]], tr[e.possible_agents[0]])
            if term[i] or trunc[i]:
                np.testing.assert_array_equal(infos["final_obs"][i], np.stack(list(o.values())))
                o, _ = e.reset()
            single_obs[i] = o


def test_coverage_energy_and_collision_rewards_on_a_hand_made_world():
    env = MOCoopNavigationEnv(n_agents=2, objectives=("collisions", "coverage", "energy"))
    env.reset(seed=0)
    core = env.core
    # 0.29 apart (the 0.15-radius disks barely touch) and driving into each other: still overlapping after the step
    core.pos[0] = [[0.0, 0.0], [0.29, 0.0]]
    core.landmarks[0] = [[0.0, 0.5], [0.9, 0.0]]
    _, rew, _, _, _ = env.step({"agent_0": 2, "agent_1": 1})
    pos = core.pos[0]
    coverage = -sum(np.min(np.hypot(*(pos - lm).T)) for lm in core.landmarks[0])
    collisions, coverage_r, energy = rew["agent_0"]
    assert collisions == -1.0 and energy == -2.0
    assert coverage_r == pytest.approx(coverage, abs=1e-6)
    assert 0.0 < pos[1, 0] - pos[0, 0] < 0.29
    _, rew, _, _, _ = env.step({"agent_0": 0, "agent_1": 0})
    assert rew["agent_0"][0] == 0.0 and rew["agent_0"][2] == 0.0, "the contact pushed them apart; nobody moved"


def test_capture_terminates_with_the_capture_reward():
    env = MOPredatorPreyEnv(n_agents=2, objectives=("time", "capture", "energy"))
    env.reset(seed=0)
    env.core.pos[0] = [[0.8, -1.0], [-0.9, 0.9], [1.0, -1.0]]  # the prey cornered, predator_0 running at it
    env.core.vel[0, 0] = [1.0, 0.0]
    _, rew, term, trunc, _ = env.step({"predator_0": 2, "predator_1": 0})
    np.testing.assert_allclose(rew["predator_0"], [-0.1, 10.0, -0.1], rtol=1e-6)
    assert all(term.values()) and not any(trunc.values()) and env.agents == []


def test_truncation_after_max_cycles_without_termination():
    env = MOCoopNavigationEnv(max_cycles=3)
    env.reset(seed=0)
    for step in range(3):
        _, _, term, trunc, _ = env.step({a: 0 for a in env.agents})
    assert not any(term.values()) and all(trunc.values()) and env.agents == []


@pytest.mark.parametrize("kwargs, match", [
    ({"n_agents": 0}, r"n_agents=0 is out of range; allowed: integers in \[1, 64\]"),
    ({"n_agents": 2.0}, r"n_agents=2.0 is not an integer"),
    ({"world_size": 0.1}, r"world_size=0.1 is out of range"),
    ({"objectives": ("coverage", "speed")}, r"objectives='speed' is not supported; allowed: 'coverage', 'energy', 'collisions'"),
    ({"objectives": ("energy", "energy")}, r"names an objective twice"),
    ({"objectives": "energy"}, r"not a non-empty sequence"),
    ({"max_cycles": 0}, r"max_cycles=0 is out of range"),
    ({"render_mode": "human"}, r"render_mode='human' is not supported; allowed: 'rgb_array'"),
])
def test_bad_arguments_name_the_argument_and_what_is_allowed(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MOCoopNavigationEnv(**kwargs)


def test_unknown_predator_prey_objective():
    with pytest.raises(ValueError, match="allowed: 'capture', 'energy', 'time'"):
        gauntlet.make_parallel("gauntlet/MOPredatorPrey-v0", objectives=("coverage",))


@pytest.mark.parametrize("actions, match", [
    ({"agent_0": 1, "agent_1": 1}, r"missing \['agent_2'\], unknown \[\]"),
    ({"agent_0": 1, "agent_1": 1, "agent_2": 1, "agent_9": 0}, r"missing \[\], unknown \['agent_9'\]"),
    ({"agent_0": 1, "agent_1": 1, "agent_2": 5}, r"actions\['agent_2'\]=5 is out of range; allowed: integers in \[0, 4\]"),
    ({"agent_0": 1, "agent_1": -1, "agent_2": 0}, r"actions\['agent_1'\]=-1 is out of range"),
    ({"agent_0": 1.5, "agent_1": 1, "agent_2": 0}, r"actions\['agent_0'\]=1.5 is not an integer"),
    ([1, 1, 1], r"actions must be a dict"),
])
def test_bad_actions_are_rejected_before_the_world_moves(actions, match):
    env = MOCoopNavigationEnv()
    env.reset(seed=0)
    before = env.state().copy()
    with pytest.raises(ValueError, match=match):
        env.step(actions)
    np.testing.assert_array_equal(env.state(), before)


def test_step_after_the_episode_ended_and_bad_weights():
    env = MOCoopNavigationEnv(max_cycles=1)
    env.reset(seed=0)
    env.step({a: 0 for a in env.agents})
    with pytest.raises(ValueError, match="call reset"):
        env.step({})
    _, infos = env.reset(seed=0, options={"weights": [0.3, 0.7]})
    np.testing.assert_array_equal(infos["agent_1"]["weights"], [0.3, 0.7])
    with pytest.raises(ValueError, match=r"2 finite non-negative numbers, one per objective \['coverage', 'energy'\]"):
        env.reset(options={"weights": [1.0, 0.0, 0.0]})


def test_vector_env_rejects_bad_actions():
    venv = gauntlet.make_parallel_vector("gauntlet/MOCoopNavigation-v0", num_worlds=2)
    venv.reset(seed=0)
    with pytest.raises(ValueError, match=r"allowed: integers of shape \(num_worlds, n_agents\) = \(2, 3\)"):
        venv.step(np.zeros((2, 2), dtype=int))
    with pytest.raises(ValueError, match=r"allowed: integers in \[0, 4\]"):
        venv.step(np.full((2, 3), 7))
    with pytest.raises(ValueError, match="num_worlds=0 is out of range"):
        gauntlet.make_parallel_vector("gauntlet/MOCoopNavigation-v0", num_worlds=0)
    with pytest.raises(ValueError, match="single-agent Gymnasium env"):
        gauntlet.make_parallel("gauntlet/LotSizing-v0")


@pytest.mark.parametrize("cls", ENVS)
def test_pickle_round_trip_and_rgb_picture(cls):
    env = cls(render_mode="rgb_array")
    env.reset(seed=0)
    env.step({a: 2 for a in env.agents})
    clone = pickle.loads(pickle.dumps(env))
    np.testing.assert_array_equal(clone.state(), env.state())
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.shape == (600, 600, 3) and frame.min() != frame.max()
    assert cls().render() is None


def test_momaland_linearize_reward_scalarizes_the_team_vector():
    wrappers = pytest.importorskip("momaland.utils.parallel_wrappers")
    env = MOCoopNavigationEnv()
    weights = {a: np.array([0.3, 0.7]) for a in env.possible_agents}
    wrapped = wrappers.LinearizeReward(MOCoopNavigationEnv(), weights)
    env.reset(seed=0)
    wrapped.reset(seed=0)
    actions = {a: 2 for a in env.possible_agents}
    _, vector, _, _, _ = env.step(actions)
    _, scalar, _, _, _ = wrapped.step(actions)
    assert scalar["agent_0"] == pytest.approx(float(weights["agent_0"] @ vector["agent_0"]))
