import gymnasium as gym
import numpy as np
import pytest

import gauntlet  # noqa: F401  (registers the ids)
from gauntlet.baselines.fair_threshold import (
    EpsilonGreedyAgent,
    OracleThresholdAgent,
    PrimalDualAgent,
    UCBAgent,
    sweep_fixed_thresholds,
)
from gauntlet.envs.fair_threshold.env import FairThresholdEnv
from gauntlet.registry import get_agent, load_object

NAMES = ("ofs", "ucb", "primal-dual", "epsilon-greedy", "oracle-threshold")


def play(agent, env, rounds, seed):
    obs, info = env.reset(seed=seed)
    agent.on_reset(env, obs, info)
    arms = []
    for _ in range(rounds):
        action, _ = agent.predict(obs)
        obs, reward, terminated, truncated, info = env.step(action)
        agent.on_step(obs, reward, terminated, truncated, info)
        arms.append(int(action))
    return np.array(arms)


@pytest.mark.parametrize("name", NAMES)
def test_registry_factories_build_agents_that_act(name):
    env = gym.make("gauntlet/FairThreshold-Synthetic-v0", n_thresholds=6, horizon=30)
    agent = load_object(get_agent(name).factory)(env, seed=0)
    obs, info = env.reset(seed=0)
    agent.on_reset(env, obs, info)
    for _ in range(10):
        action, _ = agent.predict(obs)
        assert env.action_space.contains(action)
        obs, reward, terminated, truncated, info = env.step(action)
        agent.on_step(obs, reward, terminated, truncated, info)


def test_ucb_ignores_the_constraint():
    env = FairThresholdEnv(n_thresholds=11, horizon=1500)
    arms = play(UCBAgent(env, seed=0), env, 1500, seed=3)
    modal = int(np.bincount(arms[-300:]).argmax())
    probe = FairThresholdEnv(**env.config)
    probe.reset(seed=0)
    assert probe.step(modal)[4]["expected_cost"]["dp"] > 0


def test_primal_dual_multipliers_follow_projected_dual_ascent():
    env = FairThresholdEnv(n_thresholds=4, rho=0.5)
    agent = PrimalDualAgent(env, seed=0, dual_lr=0.5)
    agent.predict(None)
    agent.update(0.5, {"dp": 0.2, "service": -0.4})
    np.testing.assert_allclose(agent.multipliers, [0.1, 0.0])
    agent.predict(None)
    agent.update(0.5, {"dp": -0.1, "service": 0.2})
    np.testing.assert_allclose(agent.multipliers, [0.05, 0.1])


def test_primal_dual_penalizes_by_the_multipliers():
    env = FairThresholdEnv(n_thresholds=2)
    agent = PrimalDualAgent(env, seed=0, confidence=0.0, dual_lr=0.0)
    for arm, (reward, dp) in enumerate(((0.5, -0.1), (0.6, 0.2))):
        agent.last_arm = arm
        agent.update(reward, {"dp": dp})
    assert agent.select() == 1
    agent.multipliers[:] = 1.0
    assert agent.select() == 0


def test_epsilon_greedy_uses_the_penalized_mean():
    env = FairThresholdEnv(n_thresholds=3)
    agent = EpsilonGreedyAgent(env, seed=0, epsilon=0.0, penalty=1.0)
    for arm, (reward, dp) in enumerate(((0.5, -0.1), (0.7, 0.3), (0.55, -0.01))):
        agent.last_arm = arm
        agent.update(reward, {"dp": dp})
    assert {agent.select() for _ in range(10)} == {2}
    explorer = EpsilonGreedyAgent(env, seed=0, epsilon=1.0)
    explorer.counts[:] = 1
    assert {explorer.select() for _ in range(60)} == {0, 1, 2}


@pytest.mark.parametrize(
    "cls, kwargs, match",
    [
        (EpsilonGreedyAgent, {"epsilon": 1.5}, r"epsilon=1.5 is out of range; allowed: \[0, 1\]"),
        (EpsilonGreedyAgent, {"penalty": -1.0}, "penalty=-1.0"),
        (PrimalDualAgent, {"dual_lr": -0.1}, "dual_lr=-0.1"),
        (OracleThresholdAgent, {"rollout_rounds": 1}, "rollout_rounds=1"),
    ],
)
def test_bad_hyperparameters(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(FairThresholdEnv(), **kwargs)


def test_oracle_is_the_best_feasible_fixed_threshold_and_sweeps_once():
    env = FairThresholdEnv(n_thresholds=11, horizon=200)
    oracle = OracleThresholdAgent(env, seed=0)
    arm = oracle.select()
    reward, violation = oracle.sweep_reward, oracle.sweep_violation
    feasible = violation <= 1e-9
    assert feasible[arm] and reward[arm] == reward[feasible].max()
    assert not feasible[int(np.argmax(reward))]  # the unconstrained optimum is infeasible here
    assert oracle.threshold == pytest.approx(0.3)
    again = OracleThresholdAgent(gym.make("gauntlet/FairThreshold-v0", n_thresholds=11, horizon=200), seed=5)
    assert again.select() == arm and again.sweep_reward is reward
    arms = play(oracle, env, 20, seed=1)
    assert set(arms) == {arm}


def test_oracle_refits_when_the_env_configuration_changes():
    oracle = OracleThresholdAgent(FairThresholdEnv(n_thresholds=11, horizon=100), seed=0)
    loose = FairThresholdEnv(n_thresholds=11, horizon=100, eps=1.0)
    obs, info = loose.reset(seed=0)
    oracle.on_reset(loose, obs, info)
    assert oracle.threshold == pytest.approx(0.5)  # with eps = 1 every threshold is feasible


def test_sweep_reports_steady_state_violation():
    env = FairThresholdEnv(n_thresholds=3, horizon=10, rho=0.9)
    reward, violation = sweep_fixed_thresholds(env, env.thresholds, rounds=40)
    # tau = 0 accepts everyone (service met, DP met); tau = 1 accepts nobody (service short by 0.9).
    assert violation[0] == 0.0 and violation[2] == pytest.approx(0.9)
    assert reward[2] == pytest.approx(0.5)


def test_oracle_learn_only_sweeps():
    env = FairThresholdEnv(n_thresholds=5, horizon=50)
    oracle = OracleThresholdAgent(env, seed=0).learn(1000)
    assert oracle.arm is not None and oracle.t == 0


def test_runner_learns_online_during_evaluation():
    from gauntlet.bench.runner import run

    record = run("gauntlet/FairThreshold-Synthetic-v0", "primal-dual", train_seed=1, eval_seeds=[1000],
                 env_kwargs={"n_thresholds": 6, "horizon": 60})
    metrics = record.episode_metrics[0]
    assert {"return", "violation", "feasible", "final_disparity"} <= set(metrics)
    assert record.agent_obj.t == 60 and metrics["length"] == 60
