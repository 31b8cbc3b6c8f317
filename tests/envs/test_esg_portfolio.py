import importlib.util

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import gauntlet  # noqa: F401  (registers the ids)
from gauntlet.envs.esg_portfolio import market as esg_market
from gauntlet.envs.esg_portfolio.env import ESGPortfolioEnv, episode_metrics

ESG_IDS = [
    "gauntlet/ESGPortfolio-v0",
    "gauntlet/ESGPortfolio-Regulated-v0",
    "gauntlet/ESGPortfolio-Unregulated-v0",
    "gauntlet/ESGPortfolio-Regulated-NoESG-v0",
    "gauntlet/ESGPortfolio-Unregulated-NoESG-v0",
]


def synthetic(**kwargs) -> ESGPortfolioEnv:
    base = dict(data="synthetic", synthetic_assets=4, synthetic_days=300, lookback=5)
    return ESGPortfolioEnv(**{**base, **kwargs})


def rollout(env, seed, n_steps=None, action_seed=0):
    rng = np.random.default_rng(action_seed)
    obs, info = env.reset(seed=seed)
    observations, rewards, infos = [obs], [], [info]
    done = False
    while not done and (n_steps is None or len(rewards) < n_steps):
        action = rng.uniform(-1, 1, env.action_space.shape).astype(np.float32)
        obs, reward, terminated, truncated, info = env.step(action)
        observations.append(obs)
        rewards.append(reward)
        infos.append(info)
        done = terminated or truncated
    return np.array(observations), np.array(rewards), infos


@pytest.mark.parametrize("kwargs", [{}, {"cash": True}, {"esg_in_state": False, "regulation": "none"},
                                    {"episode_length": 50, "flat_tax": 0.001}])
def test_passes_gymnasium_and_sb3_checkers(kwargs):
    env = synthetic(**kwargs)
    check_env(env, skip_render_check=True)
    sb3_check_env(env, warn=False)


def test_ids_are_registered_and_sp500_splits_by_date():
    for task_id in ESG_IDS:
        assert task_id in gym.registry
    pytest.importorskip("skfolio")
    env = gym.make("gauntlet/ESGPortfolio-Unregulated-NoESG-v0", period="test").unwrapped
    assert env.regulation == "none" and not env.esg_in_state
    assert env.market.dates[env.first_decision] == np.datetime64("2020-01-02")
    assert env.market.dates[env.last_decision + 1] == np.datetime64("2022-12-28")
    assert env.observation_space.shape == (20 * 20 + 20,)
    train = gym.make("gauntlet/ESGPortfolio-v0").unwrapped
    assert train.market.dates[train.first_decision] == np.datetime64("2010-01-04")
    assert train.market.dates[train.last_decision + 1] == np.datetime64("2019-12-31")
    assert train.observation_space.shape == (20 * 20 + 20 + 21,)


def test_sp500_without_skfolio_names_the_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(esg_market.importlib.util, "find_spec", lambda name, *a: None if name == "skfolio" else real(name, *a))
    with pytest.raises(ImportError, match=r'pip install "gauntlet-rl\[data\]"'):
        ESGPortfolioEnv(data="sp500")


def test_synthetic_market_is_seeded_and_does_not_need_skfolio():
    a, b = esg_market.synthetic_market(5, 200, seed=3), esg_market.synthetic_market(5, 200, seed=3)
    np.testing.assert_array_equal(a.prices, b.prices)
    np.testing.assert_array_equal(a.esg, b.esg)
    assert not np.array_equal(a.prices, esg_market.synthetic_market(5, 200, seed=4).prices)
    assert a.prices.shape == (200, 5) and (a.prices > 0).all()


def test_same_seed_same_trajectory_and_reset_reseeds():
    env1, env2 = synthetic(episode_length=40), synthetic(episode_length=40)
    obs1, rew1, _ = rollout(env1, seed=7)
    obs2, rew2, _ = rollout(env2, seed=7)
    np.testing.assert_array_equal(obs1, obs2)
    np.testing.assert_array_equal(rew1, rew2)
    obs3, rew3, _ = rollout(env1, seed=7)
    np.testing.assert_array_equal(rew1, rew3)
    starts = set()
    for seed in range(20):
        env1.reset(seed=seed)
        starts.add(env1.current_index)
    assert len(starts) > 1


def test_whole_period_episode_is_deterministic_and_spans_the_period():
    env = synthetic()
    _, rewards, infos = rollout(env, seed=1)
    _, rewards_other_seed, _ = rollout(env, seed=2)
    np.testing.assert_array_equal(rewards, rewards_other_seed)
    assert len(rewards) == env.last_decision - env.first_decision + 1
    assert infos[-1]["date"] == str(env.market.dates[env.last_decision + 1])


@pytest.mark.parametrize("kwargs", [{"regulation": "esg", "flat_tax": 0.0005}, {"regulation": "none"}, {"cash": True}])
def test_accounting_identities(kwargs):
    env = synthetic(transaction_cost=0.002, **kwargs)
    _, rewards, infos = rollout(env, seed=0, n_steps=120)
    prev = infos[0]
    t = env.first_decision
    for reward, info in zip(rewards, infos[1:]):
        w = info["weights"]
        assert w.sum() == pytest.approx(1.0, abs=1e-12) and (w > 0).all()
        assert info["drifted_weights"].sum() == pytest.approx(1.0, abs=1e-12)
        step_returns = np.append(env.returns[t + 1], 0.0) if env.cash else env.returns[t + 1]
        assert info["gross_return"] == pytest.approx(w @ step_returns, abs=1e-14)
        risky = slice(0, env.n_assets)
        turnover = np.abs(w[risky] - prev["drifted_weights"][risky]).sum()
        assert info["turnover"] == pytest.approx(turnover, abs=1e-14)
        assert info["cost"] == pytest.approx(0.002 * turnover, abs=1e-15)
        net = info["gross_return"] - info["cost"] + info["grant"] - info["tax"]
        assert info["net_return"] == pytest.approx(net, abs=1e-15)
        assert info["portfolio_value"] == pytest.approx(prev["portfolio_value"] * (1 + net), rel=1e-12)
        assert reward == pytest.approx(np.log(info["portfolio_value"] / prev["portfolio_value"]), abs=1e-12)
        drifted = w * (1 + step_returns) / (1 + info["gross_return"])
        np.testing.assert_allclose(info["drifted_weights"], drifted, rtol=1e-12)
        if env.regulation == "none":
            assert info["grant"] == 0.0 and info["tax"] == 0.0
        prev, t = info, t + 1


def test_regulation_formulas_on_hand_made_cases():
    scores = {"S00": 80.0, "S01": 20.0}
    env = synthetic(synthetic_assets=2, esg_scores=scores, grant_rate=0.1, tax_rate=0.2, flat_tax=0.001)
    assert env.esg_mean == 50.0
    assert env.regulation_transfers(0.02, 65.0) == pytest.approx((0.1 * 0.02 * 65.0 / 50.0, 0.0))
    assert env.regulation_transfers(-0.02, 65.0) == (0.0, 0.0)
    assert env.regulation_transfers(0.02, 35.0) == pytest.approx((0.0, 0.2 * 0.02 + 0.001))
    assert env.regulation_transfers(-0.02, 35.0) == pytest.approx((0.0, 0.001))
    assert env.regulation_transfers(0.02, 50.0) == (0.0, 0.0)
    assert env.portfolio_esg(np.array([0.75, 0.25])) == pytest.approx(65.0)

    env.reset(seed=0)
    action = env.weights_to_action(np.array([0.75, 0.25]))
    _, _, _, _, info = env.step(action)
    np.testing.assert_allclose(info["weights"], [0.75, 0.25], rtol=1e-6)
    esg_p = 80 * info["weights"][0] + 20 * info["weights"][1]
    assert info["portfolio_esg"] == pytest.approx(esg_p)
    assert info["grant"] == pytest.approx(0.1 * max(info["gross_return"], 0.0) * esg_p / 50.0)
    assert info["tax"] == 0.0

    unregulated = synthetic(synthetic_assets=2, esg_scores=scores, regulation="none")
    assert unregulated.regulation_transfers(0.02, 65.0) == (0.0, 0.0)
    assert unregulated.regulation_transfers(0.02, 35.0) == (0.0, 0.0)


def test_cash_is_esg_neutral_and_starts_the_episode():
    env = synthetic(synthetic_assets=2, esg_scores={"S00": 80.0, "S01": 20.0}, cash=True)
    _, info = env.reset(seed=0)
    np.testing.assert_array_equal(info["weights"], [0.0, 0.0, 1.0])
    assert env.portfolio_esg(np.array([0.0, 0.0, 1.0])) == 50.0
    assert env.action_space.shape == (3,)


def test_observation_layout_with_and_without_esg():
    with_esg, without = synthetic(), synthetic(esg_in_state=False)
    obs, _ = with_esg.reset(seed=0)
    assert obs.shape == (5 * 4 + 4 + 4 + 1,)
    assert without.reset(seed=0)[0].shape == (5 * 4 + 4,)
    np.testing.assert_allclose(obs[20:24], 0.25)
    z = (with_esg.esg_scores - with_esg.esg_scores.mean()) / with_esg.esg_scores.std()
    np.testing.assert_allclose(obs[24:28], z, rtol=1e-6)
    # The return window never includes the day the agent is about to earn.
    t = with_esg.current_index
    log_r = np.log1p(with_esg.returns[t - 4 : t + 1])
    assert np.sign(obs[:20].reshape(5, 4)).tolist() == np.sign(log_r).tolist()


@pytest.mark.parametrize("action, message", [
    (np.array([np.nan, 0, 0, 0], dtype=np.float32), "NaN"),
    (np.array([np.inf, 0, 0, 0], dtype=np.float32), "NaN or inf"),
    (np.zeros(3, dtype=np.float32), r"shape \(4,\)"),
    (np.array([2.0, 0, 0, 0], dtype=np.float32), r"\[-1, 1\]"),
])
def test_bad_actions_raise_clear_errors(action, message):
    env = synthetic()
    env.reset(seed=0)
    value_before = env.portfolio_value
    with pytest.raises(ValueError, match=message):
        env.step(action)
    assert env.portfolio_value == value_before


def test_stepping_after_the_end_needs_a_reset():
    env = synthetic(episode_length=2)
    env.reset(seed=0)
    env.step(np.zeros(4, dtype=np.float32))
    assert env.step(np.zeros(4, dtype=np.float32))[3]
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(4, dtype=np.float32))


@pytest.mark.parametrize("kwargs, message", [
    ({"regulation": "carbon"}, r"regulation='carbon' is not supported; allowed: 'esg', 'none'"),
    ({"render_mode": "human"}, r"render_mode='human' is not supported; allowed: None, 'rgb_array'"),
    ({"transaction_cost": 0.5}, r"transaction_cost=0.5.*\[0.0, 0.1\]"),
    ({"lookback": 0}, r"lookback=0"),
    ({"episode_length": 10_000}, r"episode_length=10000"),
    ({"test_start": "2030-01-01", "test_end": "2031-01-01"}, r"test period 2030-01-01..2031-01-01 is outside the data"),
    ({"train_end": "2000-12-29", "test_start": "2000-06-01"}, "overlaps"),
    ({"test_end": "not a date"}, "test_end='not a date' is not an ISO date"),
    ({"esg_scores": {"S00": 1.0}}, r"esg_scores: the ESG table has no score for tickers \['S01', 'S02', 'S03'\]"),
    ({"esg_scores": {"S00": -5.0, "S01": 1.0, "S02": 1.0, "S03": 1.0}}, r"ESG scores must be >= 0.*'S00': -5.0"),
    ({"data": "csv", "prices_csv": None}, 'data="csv" needs prices_csv='),
    ({"prices_csv": "prices.csv"}, 'prices_csv/esg_csv are only read with data="csv"'),
])
def test_bad_arguments_raise_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        synthetic(**kwargs)


def write_prices(path, rows, header="date,AAA,BBB"):
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


GOOD_ROWS = [f"2020-01-{d:02d},{100 + d},{50 + d / 2}" for d in range(1, 31)]


def test_csv_loader_reads_prices_and_esg(tmp_path):
    prices = write_prices(tmp_path / "p.csv", GOOD_ROWS)
    esg = tmp_path / "esg.csv"
    esg.write_text("ticker,esg\nBBB,30\nAAA,70\nZZZ,1\n")
    env = ESGPortfolioEnv(data="csv", prices_csv=str(prices), esg_csv=str(esg), lookback=3)
    assert env.tickers == ("AAA", "BBB")
    np.testing.assert_array_equal(env.esg_scores, [70.0, 30.0])
    assert env.returns[1, 0] == pytest.approx(102 / 101 - 1)
    check_env(env, skip_render_check=True)


@pytest.mark.parametrize("rows, message", [
    (GOOD_ROWS[:5] + ["2020-01-06,,53"] + GOOD_ROWS[6:], r"p.csv: column 'AAA' has a missing or non-numeric price on 2020-01-06"),
    (GOOD_ROWS[:5] + ["2020-01-06,106,-1"] + GOOD_ROWS[6:], r"p.csv: column 'BBB' has a non-positive price -1.0 on 2020-01-06"),
    (GOOD_ROWS[:5] + ["2020-01-04,106,53"] + GOOD_ROWS[6:], r"p.csv: dates in column 'date' are not strictly increasing: 2020-01-05 is followed by 2020-01-04"),
    (GOOD_ROWS[:5] + ["2020-01-05,106,53"] + GOOD_ROWS[6:], r"not strictly increasing: 2020-01-05 is followed by 2020-01-05"),
    (GOOD_ROWS[:5] + ["someday,106,53"] + GOOD_ROWS[6:], r"p.csv: cannot parse date 'someday' in column 'date'"),
])
def test_csv_loader_errors_name_file_column_and_date(tmp_path, rows, message):
    prices = write_prices(tmp_path / "p.csv", rows)
    with pytest.raises(ValueError, match=message):
        ESGPortfolioEnv(data="csv", prices_csv=str(prices), lookback=3)


def test_csv_esg_table_missing_tickers_and_periods_outside_the_data(tmp_path):
    prices = write_prices(tmp_path / "p.csv", GOOD_ROWS)
    esg = tmp_path / "esg.csv"
    esg.write_text("ticker,esg\nAAA,70\n")
    with pytest.raises(ValueError, match=r"esg.csv: the ESG table has no score for tickers \['BBB'\]"):
        ESGPortfolioEnv(data="csv", prices_csv=str(prices), esg_csv=str(esg), lookback=3)
    with pytest.raises(ValueError, match=r"test period 2020-01-25..2020-02-15 is outside the data \(2020-01-01..2020-01-30 in .*p.csv\)"):
        ESGPortfolioEnv(data="csv", prices_csv=str(prices), lookback=3, test_start="2020-01-25", test_end="2020-02-15")
    with pytest.raises(FileNotFoundError, match="prices_csv: no such file"):
        ESGPortfolioEnv(data="csv", prices_csv=str(tmp_path / "missing.csv"))
    with pytest.raises(ValueError, match='data="csv" needs prices_csv='):
        ESGPortfolioEnv(data="csv")


def test_episode_metrics_on_a_hand_made_episode():
    net = [0.1, -0.5, 0.2]
    wealth = np.cumprod(1 + np.array(net))
    infos = [{"net_return": r, "portfolio_value": v, "turnover": tv, "portfolio_esg": e}
             for r, v, tv, e in zip(net, wealth, [0.2, 0.0, 0.4], [40.0, 50.0, 60.0])]
    m = episode_metrics(np.log1p(net), infos)
    assert m["final_wealth"] == pytest.approx(0.66)
    assert m["annualized_return"] == pytest.approx(0.66 ** (252 / 3) - 1)
    assert m["sharpe"] == pytest.approx(np.mean(net) / np.std(net, ddof=1) * np.sqrt(252))
    assert m["max_drawdown"] == pytest.approx(0.5)
    assert m["turnover"] == pytest.approx(0.2)
    assert m["portfolio_esg"] == pytest.approx(50.0)


def test_render_draws_the_wealth_curve_and_holdings():
    env = synthetic(render_mode="rgb_array", cash=True)
    env.reset(seed=0)
    first = env.render()
    assert first.shape == (480, 900, 3) and first.dtype == np.uint8 and first.std() > 0
    rollout(env, seed=0, n_steps=30)
    frame = env.render()
    assert frame.shape == first.shape and not np.array_equal(frame, first)
    assert synthetic().render() is None


def test_gymnasium_render_check_passes():
    env = gym.make("gauntlet/ESGPortfolio-v0", data="synthetic", synthetic_assets=4, synthetic_days=300, lookback=5,
                   episode_length=5, render_mode="rgb_array")
    check_env(env.unwrapped)


def test_rendering_does_not_change_the_trajectory():
    plain = rollout(synthetic(episode_length=20), seed=4)
    env = synthetic(episode_length=20, render_mode="rgb_array")
    obs, _ = env.reset(seed=4)
    env.render()
    rng = np.random.default_rng(0)  # rollout()'s action stream
    for expected_obs, expected_reward in zip(plain[0][1:], plain[1]):
        obs, reward, *_ = env.step(rng.uniform(-1, 1, env.action_space.shape).astype(np.float32))
        env.render()
        np.testing.assert_array_equal(obs, expected_obs)
        assert reward == expected_reward


def test_render_leaves_pyplot_and_the_backend_alone():
    import subprocess
    import sys

    code = (
        "import sys, matplotlib\n"
        "matplotlib.use('svg')\n"
        "from gauntlet.envs.esg_portfolio.env import ESGPortfolioEnv\n"
        "env = ESGPortfolioEnv(data='synthetic', synthetic_assets=3, synthetic_days=200, lookback=3, render_mode='rgb_array')\n"
        "env.reset(seed=0)\n"
        "env.render()\n"
        "assert matplotlib.get_backend() == 'svg' and 'matplotlib.pyplot' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
