"""ESGPortfolio's native vector env: Gymnasium's vector API, the single env's info keys and errors."""

import gymnasium as gym
import numpy as np
import pytest

import gauntlet  # noqa: F401  (registers the ids)
from gauntlet.envs.esg_portfolio.env import ESGPortfolioEnv
from gauntlet.envs.esg_portfolio.vector import ESGPortfolioVectorEnv

SMALL = dict(data="synthetic", synthetic_assets=4, synthetic_days=300, lookback=5)


def test_make_vec_builds_the_native_vector_env():
    envs = gym.make_vec("gauntlet/ESGPortfolio-Regulated-v0", num_envs=2, vectorization_mode="vector_entry_point")
    assert isinstance(envs.unwrapped, ESGPortfolioVectorEnv)
    obs, infos = envs.reset(seed=0)
    assert envs.observation_space.contains(obs)
    single = ESGPortfolioEnv(data="sp500")
    single_obs, single_info = single.reset(seed=0)
    np.testing.assert_array_equal(obs[1], single_obs)
    assert {k for k in infos if not k.startswith("_")} == set(single_info)
    action = np.linspace(-1, 1, single.n_weights).astype(np.float32)
    obs, rewards, terminated, truncated, infos = envs.step(np.stack([action, action]))
    expected = single.step(action)
    np.testing.assert_array_equal(obs[0], expected[0])
    assert rewards[1] == expected[1]
    for key, value in expected[4].items():
        assert infos["_" + key].all()
        np.testing.assert_array_equal(infos[key][1], value)


def test_autoreset_next_step_and_reset_mask():
    envs = ESGPortfolioVectorEnv(num_envs=2, episode_length=2, **SMALL)
    envs.reset(seed=[3, 4])
    action = np.zeros((2, envs.n_weights), dtype=np.float32)
    envs.step(action)
    assert envs.step(action)[3].all()
    obs, rewards, terminated, truncated, infos = envs.step(np.full_like(action, 7.0))
    assert (rewards == 0).all() and not (terminated | truncated).any()
    assert not infos["_turnover"].any() and infos["_portfolio_value"].all()
    np.testing.assert_array_equal(infos["portfolio_value"], [1.0, 1.0])
    before = envs.step(action)[0]
    obs, infos = envs.reset(options={"reset_mask": np.array([True, False])})
    np.testing.assert_array_equal(obs[1], before[1])
    assert infos["_date"].tolist() == [True, False] and "turnover" not in infos


@pytest.mark.parametrize(("action", "match"), [
    ([0.0, 0.0, 0.0, 1.5], r"sub-env 1: action must lie in \[-1, 1\] \(the action space\), got min 0.0 max 1.5"),
    ([0.0, np.nan, 0.0, 0.0], r"sub-env 1: action contains NaN or inf"),
])
def test_bad_actions_raise_the_single_envs_errors(action, match):
    envs = ESGPortfolioVectorEnv(num_envs=2, **SMALL)
    envs.reset(seed=0)
    state = envs._state.copy()
    with pytest.raises(ValueError, match=match):
        envs.step(np.array([[0.0] * 4, action]))
    np.testing.assert_array_equal(envs._state, state)
    with pytest.raises(ValueError, match=r"actions must have shape \(2, 4\), got \(4,\)"):
        envs.step(np.zeros(4))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"num_envs": 0}, r"num_envs=0 is out of range; allowed: integers >= 1"),
    ({"lookback": 0}, r"lookback=0"),
    ({"render_mode": "rgb_array"}, r"render_mode='rgb_array'"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ESGPortfolioVectorEnv(**{**SMALL, **kwargs})
