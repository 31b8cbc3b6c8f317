import numpy as np
import pytest

pytest.importorskip("pyscipopt")

from gauntlet.baselines.milp_branching import (  # noqa: E402
    MostFractionalAgent,
    PseudocostAgent,
    ScipDefaultAgent,
    StrongBranchingAgent,
)
from gauntlet.baselines.random import RandomAgent  # noqa: E402
from gauntlet.registry import get_agent, load_object  # noqa: E402



def play(env, agent, seed=0):
    obs, info = env.reset(seed=seed)
    if hasattr(agent, "on_reset"):
        agent.on_reset(env, obs, info)
    steps = 0
    while True:
        action, _ = agent.predict(obs)
        assert info["action_mask"][action], "baseline chose a non-candidate"
        obs, reward, terminated, truncated, info = env.step(action)
        steps += 1
        if hasattr(agent, "on_step"):
            agent.on_step(obs, reward, terminated, truncated, info)
        if terminated or truncated:
            return steps, info


@pytest.mark.parametrize("cls", [ScipDefaultAgent, PseudocostAgent, MostFractionalAgent, StrongBranchingAgent, RandomAgent])
def test_every_baseline_solves_to_optimality(cycles_env, cls):
    steps, info = play(cycles_env, cls(cycles_env, seed=0))
    assert info["status"] == "optimal" and info["primal_bound"] == pytest.approx(6.0)
    if cls is ScipDefaultAgent:
        assert steps == 1  # SCIP takes over after the first decision


def test_most_fractional_picks_value_closest_to_one_half():
    vf = np.zeros((6, 19), np.float32)
    vf[:, 9] = [0.1, 0.45, 0.9, 0.7, 0.55, 0.0]
    obs = {"variable_features": vf, "candidates": np.array([0, 2, 3, 4, -1, -1])}
    action, _ = MostFractionalAgent(None).predict(obs)
    assert action == 4  # min(f, 1-f): 0.1, 0.1, 0.3, 0.45 -> column 4 (column 1 is no candidate)


def test_strong_branching_follows_the_scores(cycles_env):
    obs, info = cycles_env.reset(seed=0)
    agent = StrongBranchingAgent(None)
    agent.on_reset(cycles_env, obs, info)
    scores = cycles_env.candidate_scores("strong")
    action, _ = agent.predict(obs)
    assert scores[action] == np.nanmax(scores)


def test_score_baselines_need_the_env():
    obs = {"variable_features": np.zeros((2, 19), np.float32), "candidates": np.array([0, 1])}
    with pytest.raises(RuntimeError, match="needs the MILPBranching env"):
        PseudocostAgent(None).predict(obs)


@pytest.mark.parametrize("name", ["scip-default", "pseudocost", "most-fractional", "strong-branching", "random"])
def test_registry_factories(cycles_env, name):
    spec = get_agent(name)
    assert spec.supports("gauntlet/MILPBranching-SetCover-v0")
    agent = load_object(spec.factory)(cycles_env, seed=0)
    steps, info = play(cycles_env, agent)
    assert info["status"] == "optimal"
