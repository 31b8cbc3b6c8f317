"""ESGPortfolio: the cost metrics every board carries, and the training-only turnover penalty."""

import gymnasium as gym
import numpy as np
import pytest

import gauntlet  # noqa: F401  (registers the ids)
from gauntlet.envs.esg_portfolio.env import ESGPortfolioEnv
from gauntlet.envs.esg_portfolio.metrics import episode_metrics
from gauntlet.envs.esg_portfolio.turnover_penalty import TurnoverPenalty, with_turnover_penalty
from gauntlet.registry import get_task, load_object
from gauntlet.registry.esg_portfolio import TASKS, TURNOVER_PENALTY


def synthetic(**kwargs) -> ESGPortfolioEnv:
    return ESGPortfolioEnv(**{**dict(data="synthetic", synthetic_assets=4, synthetic_days=120, lookback=5), **kwargs})


def test_cost_metrics_on_a_hand_made_episode():
    # wealth 1 -> 1.1 -> 0.99 -> 1.0; costs 1%, 0 and 2% of the wealth before each day's trades
    infos = [dict(net_return=r, portfolio_value=v, turnover=t, cost=c, portfolio_esg=50.0)
             for r, v, t, c in ((0.1, 1.1, 10.0, 0.01), (-0.1, 0.99, 0.0, 0.0), (1 / 99, 1.0, 20.0, 0.02))]
    m = episode_metrics(np.zeros(3), infos)
    assert m["transaction_costs"] == pytest.approx(1.0 * 0.01 + 1.1 * 0.0 + 0.99 * 0.02)
    assert m["cost_drag"] == pytest.approx(252 * 0.01)
    assert m["turnover"] == pytest.approx(10.0)
    assert m["final_wealth"] == pytest.approx(1.0)


def test_cost_metrics_follow_the_envs_accounting():
    env = synthetic(transaction_cost=0.002)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    infos, wealth = [], [1.0]
    done = False
    while not done:
        _, _, terminated, truncated, info = env.step(rng.uniform(-1, 1, env.action_space.shape))
        infos.append(info)
        wealth.append(info["portfolio_value"])
        done = terminated or truncated
    m = episode_metrics(np.zeros(len(infos)), infos)
    paid = sum(w * 0.002 * i["turnover"] for w, i in zip(wealth, infos))
    assert m["transaction_costs"] == pytest.approx(paid, rel=1e-12) and paid > 0
    assert m["cost_drag"] == pytest.approx(252 * 0.002 * np.mean([i["turnover"] for i in infos]), rel=1e-12)


@pytest.mark.parametrize("task", [t.id for t in TASKS if t.benchmark is not None])
def test_every_esg_board_reports_turnover_and_costs(task):
    spec = get_task(task).benchmark
    names = [m.name for m in spec.metrics]
    assert {"turnover", "transaction_costs", "cost_drag"} <= set(names)
    assert load_object(spec.episode_metrics) is episode_metrics


def test_turnover_penalty_subtracts_from_the_reward_only():
    plain, penalized = synthetic(), TurnoverPenalty(synthetic(), 0.05)
    plain.reset(seed=0)
    penalized.reset(seed=0)
    rng = np.random.default_rng(1)
    for _ in range(20):
        action = rng.uniform(-1, 1, plain.action_space.shape)
        obs_a, r_a, term_a, trunc_a, info_a = plain.step(action)
        obs_b, r_b, term_b, trunc_b, info_b = penalized.step(action)
        np.testing.assert_array_equal(obs_a, obs_b)
        assert (term_a, trunc_a, info_a["portfolio_value"]) == (term_b, trunc_b, info_b["portfolio_value"])
        assert r_b == pytest.approx(r_a - 0.05 * info_a["turnover"], abs=1e-15)


def test_zero_penalty_is_the_env_itself():
    env = synthetic()
    assert with_turnover_penalty(env, 0.0) is env
    assert isinstance(with_turnover_penalty(env, 0.01), TurnoverPenalty)


@pytest.mark.parametrize("penalty", [-0.1, float("nan"), float("inf"), "0.1"])
def test_turnover_penalty_rejects_bad_values(penalty):
    with pytest.raises(ValueError, match=rf"turnover_penalty={penalty!r} is invalid: it must be a finite number >= 0"):
        TurnoverPenalty(synthetic(), penalty)


def test_turnover_penalty_needs_one_env_and_a_turnover_key():
    with pytest.raises(ValueError, match=r"turnover_penalty=0.1 needs n_envs=1 \(got n_envs=4\)"):
        with_turnover_penalty(synthetic(), 0.1, n_envs=4)
    env = TurnoverPenalty(gym.make("CartPole-v1"), 0.1)
    env.reset(seed=0)
    with pytest.raises(KeyError, match="TurnoverPenalty needs info\\['turnover'\\]"):
        env.step(0)


def wrappers(env) -> list:
    out = []
    while isinstance(env, gym.Wrapper):
        out.append(env)
        env = env.env
    return out


@pytest.mark.parametrize("name, penalty", [("a2c", None), ("ppo", None), ("a2c-turnover-penalty", TURNOVER_PENALTY),
                                           ("ppo-turnover-penalty", TURNOVER_PENALTY)])
def test_sb3_agents_train_with_the_penalty_only_when_asked(name, penalty):
    from gauntlet.bench.runner import make_agent
    from gauntlet.registry import get_agent

    model = make_agent(get_agent(name), synthetic(), "gauntlet/ESGPortfolio-Regulated-v0", seed=0)
    found = [w.penalty for w in wrappers(model.get_env().envs[0]) if isinstance(w, TurnoverPenalty)]
    assert found == ([] if penalty is None else [penalty])
    if name.startswith("a2c"):
        model.learn(10)
        assert model.num_timesteps == 10
