import gymnasium as gym
import numpy as np
import pytest

from gauntlet.baselines.esg_portfolio import (
    BuyAndHoldAgent,
    EqualWeightAgent,
    ESGTiltedAgent,
    MaxSharpeAgent,
    MinVarianceAgent,
    max_sharpe_weights,
    min_variance_weights,
)
from gauntlet.envs.esg_portfolio.env import ESGPortfolioEnv, episode_metrics


def synthetic(**kwargs) -> ESGPortfolioEnv:
    base = dict(data="synthetic", synthetic_assets=5, synthetic_days=400, lookback=5)
    return ESGPortfolioEnv(**{**base, **kwargs})


def run_episode(agent, env):
    obs, info = env.reset(seed=0)
    agent.on_reset(env, obs, info)
    rewards, infos, done = [], [], False
    while not done:
        action, _ = agent.predict(obs)
        obs, reward, terminated, truncated, info = env.step(action)
        rewards.append(reward)
        infos.append(info)
        done = terminated or truncated
    return np.array(rewards), infos


@pytest.mark.parametrize("regulation", ["none", "esg"])
def test_equal_weight_matches_the_closed_form(regulation):
    cost = 0.001
    env = synthetic(regulation=regulation, transaction_cost=cost)
    rewards, infos = run_episode(EqualWeightAgent(env), env)

    n = env.n_assets
    prices = env.market.prices
    value, drifted, values, turnovers = 1.0, np.full(n, 1 / n), [], []
    for t in range(env.first_decision, env.last_decision + 1):
        growth = prices[t + 1] / prices[t]
        turnover = np.abs(1 / n - drifted).sum()
        gross = growth.mean() - 1
        value *= 1 + gross - cost * turnover
        drifted = growth / n / (1 + gross)
        values.append(value)
        turnovers.append(turnover)

    np.testing.assert_allclose([i["portfolio_value"] for i in infos], values, rtol=1e-9)
    np.testing.assert_allclose([i["turnover"] for i in infos], turnovers, atol=1e-9)
    np.testing.assert_allclose(rewards, np.diff(np.log([1.0, *values])), atol=1e-9)
    assert all(i["grant"] == 0.0 and i["tax"] == 0.0 for i in infos)
    assert episode_metrics(rewards, infos)["final_wealth"] == pytest.approx(values[-1], rel=1e-9)


def test_buy_and_hold_buys_once_then_stops_trading():
    env = synthetic(cash=True)
    _, infos = run_episode(BuyAndHoldAgent(env), env)
    assert infos[0]["turnover"] == pytest.approx(1.0, abs=1e-3)
    assert max(i["turnover"] for i in infos[1:]) < 1e-5
    np.testing.assert_allclose(infos[0]["weights"][:-1], 0.2, atol=1e-3)


def test_esg_tilt_raises_portfolio_esg_and_zero_tilt_is_equal_weight():
    env = synthetic()
    tilted = ESGTiltedAgent(env, tilt=1.0).target(env)
    assert env.portfolio_esg(tilted) > env.esg_mean
    assert np.argmax(tilted) == np.argmax(env.esg_scores)
    np.testing.assert_allclose(ESGTiltedAgent(env, tilt=0.0).target(env), 0.2)
    with pytest.raises(ValueError, match="tilt=-1"):
        ESGTiltedAgent(env, tilt=-1)


def test_min_variance_and_max_sharpe_closed_forms_on_a_diagonal_covariance():
    var = np.array([1.0, 2.0, 4.0]) * 1e-4
    cov = np.diag(var)
    np.testing.assert_allclose(min_variance_weights(cov), (1 / var) / (1 / var).sum(), atol=1e-6)
    mu = np.array([3.0, 2.0, 1.0]) * 1e-4
    np.testing.assert_allclose(max_sharpe_weights(mu, cov), (mu / var) / (mu / var).sum(), atol=1e-5)
    np.testing.assert_allclose(max_sharpe_weights(-mu, cov), min_variance_weights(cov), atol=1e-9)


@pytest.mark.parametrize("cls", [MinVarianceAgent, MaxSharpeAgent])
def test_rolling_optimizers_do_not_look_ahead_and_drift_between_rebalances(cls):
    env = synthetic()
    agent = cls(env, window=60, rebalance_every=10)
    obs, info = env.reset(seed=0)
    agent.on_reset(env, obs, info)
    for _ in range(40):
        obs, *_ = env.step(agent.predict(obs)[0])
    t = env.current_index
    before = agent.target(env)
    future = env.returns[t + 1 :].copy()
    env.returns[t + 1 :] = 0.5
    np.testing.assert_array_equal(agent.target(env), before)
    env.returns[t + 1 :] = future
    assert before.sum() == pytest.approx(1.0) and (before >= 0).all()
    env.step(agent.predict(obs)[0])
    np.testing.assert_array_equal(agent.target(env), env.current_weights)


def test_baselines_bind_to_the_env_given_at_reset_and_reject_other_envs():
    train, test = synthetic(), synthetic(period="test")
    agent = EqualWeightAgent(train)
    obs, info = test.reset(seed=0)
    agent.on_reset(test, obs, info)
    assert agent._env is test
    with pytest.raises(TypeError, match="ESGPortfolioEnv"):
        EqualWeightAgent(gym.make("CartPole-v1"))
    with pytest.raises(ValueError, match="window=1"):
        MinVarianceAgent(train, window=1)
