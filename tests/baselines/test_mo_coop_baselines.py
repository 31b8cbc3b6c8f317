import numpy as np
import pytest

import gauntlet
from gauntlet.baselines.mo_coop import ChaseAgent, LandmarkGreedyAgent, RandomJointAgent


def _obs(n, own_gap, vel=(0.0, 0.0)):
    """Navigation observations where agent i's own landmark i is ``own_gap`` away."""
    obs = np.zeros((n, 4 * n + 2), dtype=np.float32)
    obs[:, :2] = vel
    for i in range(n):
        obs[i, 4 + 2 * i: 6 + 2 * i] = own_gap
    return {f"agent_{i}": obs[i] for i in range(n)}


def test_landmark_greedy_moves_along_the_larger_gap_and_stops_by_the_energy_weight():
    env = gauntlet.make_parallel("gauntlet/MOCoopNavigation-v0", n_agents=2)
    agent = LandmarkGreedyAgent(env)
    agent.on_reset(env, None, {"agent_0": {"weights": np.array([1.0, 0.0])}})
    assert agent.predict(_obs(2, (0.5, -0.2)))[0] == {"agent_0": 2, "agent_1": 2}  # +x
    assert agent.predict(_obs(2, (0.1, -0.6)))[0] == {"agent_0": 3, "agent_1": 3}  # -y
    # coasting: 0.3 x velocity ahead already covers the gap
    assert agent.predict(_obs(2, (0.3, 0.0), vel=(1.0, 0.0)))[0] == {"agent_0": 0, "agent_1": 0}
    agent.on_reset(env, None, {"agent_0": {"weights": np.array([0.0, 1.0])}})
    assert agent.predict(_obs(2, (1.9, 0.0)))[0] == {"agent_0": 0, "agent_1": 0}, "energy only: tolerance 2.05"
    assert agent.share("energy", "coverage") == 1.0


def test_chase_sends_more_predators_as_capture_weighs_more():
    env = gauntlet.make_parallel("gauntlet/MOPredatorPrey-v0", n_agents=3)
    agent = ChaseAgent(env)
    obs = {f"predator_{i}": np.array([0, 0, 0, 0, -0.5, 0.1, 0, 0, 0, 0, 0, 0], dtype=np.float32) for i in range(3)}
    for weights, chasing in (([1.0, 0.0], 3), ([0.5, 0.5], 2), ([0.2, 0.8], 1), ([0.0, 1.0], 0)):
        agent.on_reset(env, None, {"predator_0": {"weights": np.array(weights)}})
        actions, _ = agent.predict(obs)
        assert sum(a == 1 for a in actions.values()) == chasing and sum(a == 0 for a in actions.values()) == 3 - chasing


def test_controllers_need_a_mocoop_env():
    with pytest.raises(ValueError, match="needs a MOCoop env"):
        LandmarkGreedyAgent(object())
    with pytest.raises(ValueError, match="needs a MOCoop env"):
        RandomJointAgent(object())
