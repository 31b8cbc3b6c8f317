"""Behaviour of the LotSizing OR baselines and of the MILP model they share."""

import gymnasium as gym
import numpy as np
import pytest
from scipy import stats

import gauntlet  # noqa: F401  (registers the env ids)
from gauntlet.baselines.lot_sizing import (
    BaseStockAgent,
    IdleAgent,
    NewsvendorAgent,
    PerfectInformationAgent,
    RollingMILPAgent,
)
from gauntlet.baselines.lot_sizing_milp import solve_lot_sizing_milp
from gauntlet.baselines.random import RandomAgent

TINY = {"n_items": 3, "n_machines": 2, "horizon": 6}
SMALL = {"n_items": 3, "n_machines": 2, "horizon": 8}


def make(**kwargs):
    return gym.make("gauntlet/LotSizing-v0", **kwargs)


def play(agent, env, seed, demand=None):
    """Episode cost of ``agent``; asserts every action is allowed by the mask."""
    options = None if demand is None else {"demand": demand}
    obs, info = env.reset(seed=seed, options=options)
    if hasattr(agent, "on_reset"):
        agent.on_reset(env, obs, info)
    n_machines = env.unwrapped.instance.n_machines
    cost, done = 0.0, False
    while not done:
        action, _ = agent.predict(obs, deterministic=True)
        action = np.asarray(action)
        assert action.shape == (n_machines,)
        mask = info["action_mask"].reshape(n_machines, -1)
        assert mask[np.arange(n_machines), action].all()
        obs, reward, terminated, truncated, info = env.step(action)
        if hasattr(agent, "on_step"):
            agent.on_step(obs, reward, terminated, truncated, info)
        cost -= reward
        done = terminated or truncated
    return cost


def hand_instance(initial_setup):
    """1 machine, 1 item: P=10, loss 2, setup 5, lost sales 1, holding 0.1, demand 6 twice."""
    return {
        "time_horizon": 2, "n_items": 1, "n_machines": 1, "initial_setup": [initial_setup],
        "machine_production": [[10]], "max_inventory_level": [100], "initial_inventory": [0],
        "holding_costs": [0.1], "lost_sales_costs": [1.0],
        "demand_distribution": {"name": "probability_mass_function", "vals": [6], "probs": [1.0]},
        "setup_costs": [[5.0]], "setup_loss": [[2]],
    }


@pytest.mark.parametrize(
    "initial_setup, expected",
    [
        # Already set up: make 10 twice, stock 4 then 8 -> holding 0.4 + 0.8.
        (1, 1.2),
        # Idle at the start: setup 5, output 8 -> stock 2, then 10 more -> stock 6: 5 + 0.2 + 0.6.
        (0, 5.8),
    ],
)
def test_milp_optimum_matches_hand_computed_cost(initial_setup, expected):
    env = make(instance=hand_instance(initial_setup), random_initial_state=False)
    env.reset(seed=0)
    inner = env.unwrapped
    plan = solve_lot_sizing_milp(inner.instance, inner.demand_scenario, inner.inventory, inner.setup)
    assert plan.optimal
    assert plan.objective == pytest.approx(expected, abs=1e-6)
    np.testing.assert_array_equal(plan.actions, [[1], [1]])


@pytest.mark.parametrize(
    "env_kwargs, window_cuts",
    [
        ({}, "none"),
        ({}, "horizon"),
        ({}, "suffix"),
        ({"idle_keeps_setup": True}, "horizon"),
        ({"overflow": "cost", "overflow_cost": 0.5}, "horizon"),
        ({"max_inventory": 12}, "suffix"),  # the cap binds: stock is discarded
    ],
)
def test_perfect_information_plan_replays_to_its_objective(env_kwargs, window_cuts):
    env = make(**TINY, **env_kwargs)
    agent = PerfectInformationAgent(env, time_limit=None, mip_rel_gap=0.0, window_cuts=window_cuts)
    for seed in range(2):
        cost = play(agent, env, seed)
        assert agent.optimal
        # The model is the env: the optimal plan's MILP objective is exactly what the env charges.
        assert cost == pytest.approx(agent.plan.objective, rel=1e-9, abs=1e-6)
        assert cost == pytest.approx(agent.plan_cost, rel=1e-9, abs=1e-6)
        assert agent.lower_bound <= agent.plan_cost + 1e-6


def test_window_cuts_do_not_change_the_optimum():
    env = make(**TINY)
    env.reset(seed=3)
    inner = env.unwrapped
    args = (inner.instance, inner.demand_scenario, inner.inventory, inner.setup)
    cuts = ("none", "horizon", "suffix")
    values = [solve_lot_sizing_milp(*args, window_cuts=c, mip_rel_gap=0.0).objective for c in cuts]
    assert values == pytest.approx([values[0]] * 3, abs=1e-6)


def test_perfect_information_bound_is_below_every_policy_on_the_same_scenario():
    env = make(**SMALL)
    # Time limits keep the test fast; the dual bound is valid wherever HiGHS stops.
    oracle = PerfectInformationAgent(env, time_limit=2.0)
    policies = {
        "random": RandomAgent(env, seed=0),
        "base-stock": BaseStockAgent(env, seed=0, n_tuning_episodes=1),
        "newsvendor": NewsvendorAgent(env),
        "rolling-milp": RollingMILPAgent(env, lookahead=3, time_limit=0.5),
    }
    for seed in (11, 12, 13):
        env.reset(seed=seed)
        scenario = np.array(env.unwrapped.demand_scenario)
        oracle_cost = play(oracle, env, seed, scenario)
        bound = oracle.lower_bound
        assert bound <= oracle_cost + 1e-6
        for name, policy in policies.items():
            cost = play(policy, env, seed, scenario)
            assert bound <= cost + 1e-6, (name, seed, bound, cost)


@pytest.mark.parametrize("lp_bound", [True, False])
def test_time_limited_perfect_information_still_reports_a_valid_bound(lp_bound):
    env = make(n_items=6, n_machines=3, horizon=12)
    oracle = PerfectInformationAgent(env, time_limit=0.05, lp_bound=lp_bound)
    cost = play(oracle, env, 5)
    assert 0.0 <= oracle.lower_bound <= cost + 1e-6
    if oracle.plan.actions is not None:
        assert cost == pytest.approx(oracle.plan_cost, rel=1e-9, abs=1e-6)
        # An incumbent may carry slack, never a cost the env would not charge.
        assert oracle.plan.objective >= oracle.plan_cost - 1e-6
    else:
        # Without a plan the oracle plays its tuned base-stock fallback.
        assert oracle.plan_cost == np.inf
        assert cost == play(BaseStockAgent(env, seed=0), env, 5)


def test_lp_relaxation_bound_is_below_the_optimum():
    env = make(**TINY)
    env.reset(seed=4)
    inner = env.unwrapped
    args = (inner.instance, inner.demand_scenario, inner.inventory, inner.setup)
    with_lp = solve_lot_sizing_milp(*args, lp_bound=True, mip_rel_gap=0.0)
    plain = solve_lot_sizing_milp(*args, mip_rel_gap=0.0)
    assert with_lp.objective == pytest.approx(plain.objective, abs=1e-6)
    assert with_lp.dual_bound <= with_lp.objective + 1e-6


def test_idle_never_produces_and_costs_lost_sales_plus_holding_by_hand():
    env = make(n_items=4, n_machines=2, horizon=10)
    agent = IdleAgent(env)
    cost = play(agent, env, seed=3)
    inst, demand = env.unwrapped.instance, env.unwrapped.demand_scenario
    obs, _ = env.reset(seed=3)
    stock = np.rint(obs[:4] * inst.max_inventory).astype(int)
    expected = 0.0
    for d in demand:
        expected += float(np.sum(inst.lost_sales_cost * np.maximum(d - stock, 0)))
        stock = np.maximum(stock - d, 0)
        expected += float(np.sum(inst.holding_cost * stock))
    assert cost == pytest.approx(expected)
    action, _ = agent.predict(np.stack([obs, obs]))
    assert action.shape == (2, 2) and not action.any()


def test_base_stock_beats_random_on_average():
    env = make(horizon=40)
    base = BaseStockAgent(env, seed=0, n_tuning_episodes=2)
    rand = RandomAgent(env, seed=0)
    seeds = range(1000, 1004)
    base_cost = np.mean([play(base, env, s) for s in seeds])
    random_cost = np.mean([play(rand, env, s) for s in seeds])
    assert base_cost < random_cost


def test_base_stock_tuning_is_deterministic_and_picks_the_cheapest_pair():
    env = make(**SMALL)
    a = BaseStockAgent(env, seed=1, reorder_grid=(1.0, 3.0), order_up_to_grid=(2.0, 8.0), n_tuning_episodes=2)
    b = BaseStockAgent(env, seed=1, reorder_grid=(1.0, 3.0), order_up_to_grid=(2.0, 8.0), n_tuning_episodes=2)
    assert a.tuning_costs == b.tuning_costs
    assert len(a.tuning_costs) == 4
    best = min(a.tuning_costs, key=a.tuning_costs.get)
    assert (a.reorder_cover, a.order_up_to_cover) == best


def test_fixed_covers_skip_tuning():
    env = make(**SMALL)
    agent = BaseStockAgent(env, reorder_cover=2.0, order_up_to_cover=4.0)
    assert agent.tuning_costs == {}
    assert (agent.reorder_cover, agent.order_up_to_cover) == (2.0, 4.0)


@pytest.mark.parametrize("demand", ["binomial", "poisson", "seasonal"])
def test_newsvendor_level_is_the_critical_fractile(demand):
    env = make(**SMALL, demand=demand)
    agent = NewsvendorAgent(env)
    inst = env.unwrapped.instance
    ratio = inst.lost_sales_cost / (inst.lost_sales_cost + inst.holding_cost)
    mean = env.unwrapped.expected_demand()
    for t in (0, 5):
        level, _ = agent._levels(t)
        if demand == "poisson":
            dist = stats.poisson(mean[t])
        else:
            dist = stats.binom(20, mean[t] / 20)
        # Smallest S with F(S) >= l / (l + h).
        assert np.all(dist.cdf(level) >= ratio - 1e-12)
        assert np.all(dist.cdf(level - 1) < ratio)


@pytest.mark.parametrize(
    "factory",
    [
        lambda env: RandomAgent(env, seed=0),
        IdleAgent,
        lambda env: BaseStockAgent(env, n_tuning_episodes=1),
        NewsvendorAgent,
        lambda env: RollingMILPAgent(env, lookahead=3, time_limit=0.3),
        lambda env: PerfectInformationAgent(env, time_limit=1.0),
    ],
)
@pytest.mark.parametrize(
    "env_kwargs", [{"n_items": 6, "n_machines": 3, "horizon": 6}, {"idle_keeps_setup": True, **TINY}]
)
def test_agents_return_valid_unmasked_actions_for_a_whole_episode(factory, env_kwargs):
    env = make(**env_kwargs)
    play(factory(env), env, seed=7)  # play() asserts each action against the mask


def test_rolling_milp_falls_back_when_no_plan_is_found_in_time():
    env = make(**SMALL)
    agent = RollingMILPAgent(env, lookahead=8, time_limit=1e-9)
    cost = play(agent, env, 0)
    assert agent.fallbacks == 8
    assert agent.last_plan.actions is None
    # Every period fell back to the tuned base-stock policy, so the episode is that policy's.
    assert cost == play(BaseStockAgent(env, seed=0), env, 0)


def test_batched_observations_give_one_action_per_row():
    env = make(**SMALL)
    agent = NewsvendorAgent(env)
    obs, _ = env.reset(seed=0)
    single, _ = agent.predict(obs)
    batch, _ = agent.predict(np.stack([obs, obs]))
    assert batch.shape == (2, 2)
    np.testing.assert_array_equal(batch[0], single)


def test_perfect_information_needs_a_reset_before_its_bound():
    agent = PerfectInformationAgent(make(**TINY), time_limit=None)
    with pytest.raises(RuntimeError, match="on_reset"):
        agent.lower_bound


@pytest.mark.parametrize(
    "factory, match",
    [
        (lambda env: RollingMILPAgent(env, lookahead=0), "lookahead must be an integer >= 1"),
        (lambda env: RollingMILPAgent(env, time_limit=-1.0), "time_limit must be > 0"),
        (lambda env: RollingMILPAgent(env, mip_rel_gap=1.5), r"mip_rel_gap must be in \[0, 1\)"),
        (lambda env: PerfectInformationAgent(env, window_cuts="all"), "window_cuts must be one of"),
        (lambda env: PerfectInformationAgent(env, time_limit=float("nan")), "time_limit must be a finite number"),
        (lambda env: PerfectInformationAgent(env, lp_bound=1), "lp_bound must be a bool"),
        (lambda env: BaseStockAgent(env, reorder_cover=-1.0, order_up_to_cover=2.0), "reorder_cover must be >= 0"),
        (lambda env: BaseStockAgent(env, reorder_cover=1.0), "give both reorder_cover and order_up_to_cover"),
        (lambda env: BaseStockAgent(env, reorder_grid=()), "reorder_grid must be a non-empty sequence"),
        (lambda env: BaseStockAgent(env, n_tuning_episodes=0), "n_tuning_episodes must be an integer >= 1"),
        (lambda env: NewsvendorAgent(env, seed=-1), "seed must be an integer >= 0"),
    ],
)
def test_bad_arguments_raise_value_error(factory, match):
    with pytest.raises(ValueError, match=match):
        factory(make(**TINY))


def test_other_envs_are_rejected():
    with pytest.raises(ValueError, match="LotSizingEnv"):
        NewsvendorAgent(gym.make("CartPole-v1"))


def test_milp_rejects_demand_of_the_wrong_shape():
    env = make(**TINY)
    env.reset(seed=0)
    inner = env.unwrapped
    with pytest.raises(ValueError, match="demand must have shape"):
        solve_lot_sizing_milp(inner.instance, np.zeros((4, 5)), inner.inventory, inner.setup)
