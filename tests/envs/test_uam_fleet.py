import hashlib
import subprocess
import sys

import gymnasium as gym
import networkx as nx
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import gauntlet  # noqa: F401  (registers the ids)
from gauntlet.envs.uam_fleet import demand
from gauntlet.envs.uam_fleet.env import LANDING_H, TAKEOFF_H, VIOLATIONS, UAMFleetEnv, episode_metrics
from gauntlet.registry.uam_fleet import SMALL_KWARGS

CALM = {"takeoff_delay_prob": 0.0, "closure_prob": 0.0, "downtime_prob": 0.0}
STORMY = {"takeoff_delay_prob": 0.5, "closure_prob": 0.3, "downtime_prob": 0.3}


def small(**kwargs) -> UAMFleetEnv:
    return UAMFleetEnv(**{**SMALL_KWARGS, **kwargs})


def play(env, seed, policy_seed=0):
    """A random-feasible day: (observations, rewards, infos)."""
    rng = np.random.default_rng(policy_seed)
    obs, info = env.reset(seed=seed)
    observations, rewards, infos = [obs], [], [info]
    done = False
    while not done:
        obs, reward, done, truncated, info = env.step(int(rng.choice(np.flatnonzero(info["action_mask"]))))
        assert not truncated
        observations.append(obs)
        rewards.append(reward)
        infos.append(info)
    return observations, np.array(rewards), infos


def day_digest(env_kwargs, seed):
    env = UAMFleetEnv(**env_kwargs)
    observations, rewards, infos = play(env, seed)
    h = hashlib.sha256()
    for array in (env.day.arrivals, env.day.takeoff_delay_h, env.day.downtime_h, env.day.closed, rewards):
        h.update(np.ascontiguousarray(array).tobytes())
    for obs in observations:
        for key in sorted(obs):
            h.update(obs[key].tobytes())
    h.update(repr([(i["profit"], i["passengers_served"], i["clock_h"], i["aircraft"]) for i in infos]).encode())
    return h.hexdigest()


# ----------------------------------------------------------------------------- API
def test_passes_gymnasium_and_sb3_checkers_on_both_ids():
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    for task_id in ("gauntlet/UAMFleet-Small-v0", "gauntlet/UAMFleet-v0"):
        env = gym.make(task_id)
        check_env(env.unwrapped, skip_render_check=True)
        sb3_check_env(env.unwrapped)
    big = gym.make("gauntlet/UAMFleet-v0").unwrapped
    assert (big.n_vertiports, big.n_aircraft) == (8, 40)
    assert gym.make("gauntlet/UAMFleet-Small-v0").unwrapped.n_aircraft == 10


def test_network_is_an_exposed_networkx_graph_of_the_routes():
    env = gym.make("gauntlet/UAMFleet-v0")
    graph = env.unwrapped.network
    assert isinstance(graph, nx.Graph) and graph.number_of_nodes() == 8 and nx.is_connected(graph)
    routes = env.unwrapped.routes
    assert graph.number_of_edges() == routes.sum() // 2
    for i, j, data in graph.edges(data=True):
        assert routes[i, j] and routes[j, i]
        assert data["miles"] == pytest.approx(env.unwrapped.distance[i, j])
        assert data["miles"] <= env.unwrapped.max_route_miles
    # The network is the city's: the same for every day, fixed by network_seed.
    other = UAMFleetEnv(network_seed=1)
    assert not np.allclose(other.layout.positions, env.unwrapped.layout.positions)


def test_observation_is_a_dict_of_fixed_size_arrays_and_the_mask_is_in_it():
    env = small()
    obs, info = env.reset(seed=3)
    assert env.observation_space.contains(obs)
    assert obs["routes"].shape == (4, 4, 5) and obs["aircraft"].shape == (10, 8)
    assert obs["series"].shape == (env.lookahead_bins, 4 + 3)
    np.testing.assert_array_equal(obs["action_mask"], info["action_mask"].astype(np.float32))
    np.testing.assert_array_equal(env.action_masks(), info["action_mask"])
    assert obs["aircraft"][env.deciding, 7] == 1 and obs["aircraft"][:, 7].sum() == 1


def test_maskable_ppo_multi_input_policy_learns_a_few_steps():
    from sb3_contrib import MaskablePPO

    model = MaskablePPO("MultiInputPolicy", gym.make("gauntlet/UAMFleet-Small-v0"), n_steps=64, batch_size=32,
                        n_epochs=1, seed=0)
    model.learn(64)
    env = gym.make("gauntlet/UAMFleet-Small-v0")
    obs, _ = env.reset(seed=0)
    action, _ = model.predict(obs, action_masks=env.unwrapped.action_masks())
    assert env.unwrapped.action_masks()[int(action)]


# ----------------------------------------------------------------------------- determinism
def test_same_seed_same_day_in_another_process_with_every_uncertainty_drawn():
    kwargs = {**SMALL_KWARGS, **STORMY}
    here = day_digest(kwargs, 7)
    code = ("from tests.envs.test_uam_fleet import day_digest; "
            f"print(day_digest({kwargs!r}, 7))")
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=".")
    assert there.stdout.strip() == here
    assert day_digest(kwargs, 8) != here


def test_the_day_is_drawn_at_reset_and_switching_an_uncertainty_off_keeps_the_rest():
    stormy, calm = small(**STORMY), small(**CALM)
    stormy.reset(seed=5)
    calm.reset(seed=5)
    np.testing.assert_array_equal(stormy.day.arrivals, calm.day.arrivals)
    assert stormy.day.takeoff_delay_h.any() and stormy.day.downtime_h.any() and stormy.day.closed.any()
    assert not (calm.day.takeoff_delay_h.any() or calm.day.downtime_h.any() or calm.day.closed.any())
    only_delay = small(**{**CALM, "takeoff_delay_prob": 0.5})
    only_delay.reset(seed=5)
    np.testing.assert_array_equal(only_delay.day.takeoff_delay_h, stormy.day.takeoff_delay_h)
    assert not only_delay.day.closed.any()
    delays = stormy.day.takeoff_delay_h[stormy.day.takeoff_delay_h > 0] * 60
    assert delays.min() >= 5 and delays.max() <= 15
    down = stormy.day.downtime_h[stormy.day.downtime_h > 0]
    assert down.min() >= 1 and down.max() <= 3
    np.testing.assert_array_equal(stormy.day.closed, np.swapaxes(stormy.day.closed, 1, 2))


# ----------------------------------------------------------------------------- mask
def test_mask_blocks_missing_routes_reserve_parking_closures_and_full_take_off_windows():
    env = UAMFleetEnv(**CALM)
    env.reset(seed=0)
    a = env.deciding
    i = int(env.loc[a])
    base = env.action_masks()
    assert base[i]
    np.testing.assert_array_equal(base & ~np.eye(8, dtype=bool)[i], env.routes[i] & base)
    assert not base[~env.routes[i] & (np.arange(8) != i)].any()
    target = int(np.flatnonzero(base & (np.arange(8) != i))[0])

    def mask_after(edit):
        e = UAMFleetEnv(**CALM)
        e.reset(seed=0)
        edit(e)
        e._update_mask()
        return e.action_masks(), e

    # reserve: just too little charge to fly to target and keep the reserve
    m, e = mask_after(lambda e: e.soc.__setitem__(a, e.reserve_kwh + e.energy_need[i, target] - 1e-3))
    assert not m[target] and m[i]
    with pytest.raises(ValueError, match="above the reserve"):
        e.step(target)
    # parking: the destination's slots all taken
    def fill(e):
        others = np.flatnonzero(np.arange(e.n_aircraft) != a)[:e.parking]
        e.loc[others] = target
    m, e = mask_after(fill)
    assert not m[target]
    with pytest.raises(ValueError, match="no free parking slot"):
        e.step(target)
    # weather closure
    m, e = mask_after(lambda e: e.day.closed.__setitem__((e._bin, i, target), True))
    assert not m[target]
    with pytest.raises(ValueError, match="closed by weather"):
        e.step(target)
    # take-off window full: only staying is left
    m, e = mask_after(lambda e: e.takeoffs.__setitem__((i, e._bin), e.max_takeoffs))
    assert m.sum() == 1 and m[i]
    with pytest.raises(ValueError, match="take-offs of this 15-minute window"):
        e.step(target)


def test_take_off_window_is_enforced_over_a_day_and_masked_samples_are_valid():
    env = small(**STORMY)
    _, _, infos = play(env, seed=2)
    assert env.takeoffs.max() <= env.max_takeoffs
    assert infos[-1]["violations"] == dict.fromkeys(VIOLATIONS, 0)
    env.reset(seed=2)
    for _ in range(50):
        action = env.action_space.sample()
        assert env.action_masks()[action]
        env.step(action)


def test_invalid_actions_raise_clear_errors():
    env = small()
    env.reset(seed=0)
    for bad in (-1, 4, 1.5, np.nan, "x", [0, 1]):
        with pytest.raises(ValueError, match="action"):
            env.step(bad)
    with pytest.raises(gym.error.ResetNeeded):
        small().step(0)


# ----------------------------------------------------------------------------- accounting
def hand_made_day():
    """No random demand or uncertainty; 3 passengers waiting from aircraft 0's vertiport."""
    env = small(demand_rate=0.0, **CALM)
    env.reset(seed=0)
    a = env.deciding
    i = int(env.loc[a])
    j = int(np.flatnonzero(env.action_masks() & (np.arange(4) != i))[0])
    env.waiting[0, i, j] = 3
    env._update_mask()
    return env, a, i, j


def test_flight_accounting_on_a_hand_made_day():
    env, a, i, j = hand_made_day()
    miles = env.distance[i, j]
    obs, reward, _, _, info = env.step(j)
    fare = (env.base_fare + env.fare_per_mile * miles) * env.fare_multiplier[0]
    hours = TAKEOFF_H + miles / env.cruise_mph + LANDING_H
    assert info["revenue"] == pytest.approx(3 * fare)
    assert info["passengers_served"] == 3 and env.waiting.sum() == 0
    assert info["operating_cost"] == pytest.approx(hours * env.operating_cost_per_hour)
    assert env.arrival_time[a] == pytest.approx(demand.DAY_START_H + hours)
    kwh = env.kwh_per_mile * miles
    # On landing it charges back to full on a free pad and decides when charged.
    charge_h = kwh / env.charging_kw
    while env.charge_until[a] <= demand.DAY_START_H:
        env.step(int(env.loc[env.deciding]))
    assert env.soc[a] == pytest.approx(env.battery_kwh)
    assert env.charge_until[a] == pytest.approx(demand.DAY_START_H + hours + charge_h)
    assert env.next_time[a] == pytest.approx(demand.DAY_START_H + hours + charge_h)
    price = env.prices[demand.time_bin(demand.DAY_START_H + hours)]
    assert env.energy_cost == pytest.approx(kwh * price)
    assert env.energy_kwh == pytest.approx(kwh)


def test_staying_charges_a_quarter_hour_on_a_free_pad_and_decides_fifteen_minutes_later():
    env, a, i, _ = hand_made_day()
    env.soc[a] = 50.0
    env._update_mask()
    env.step(i)
    assert env.next_time[a] == pytest.approx(demand.DAY_START_H + 0.25)
    assert env.soc[a] == pytest.approx(50.0 + 0.25 * env.charging_kw)
    assert env.energy_cost == pytest.approx(0.25 * env.charging_kw * env.prices[0])
    # every aircraft decides once before a stayed one comes back: the clock never runs backwards
    clocks = [env.clock]
    for _ in range(30):
        _, _, done, _, info = env.step(int(env.loc[env.deciding]))
        clocks.append(info["clock_h"])
        if done:
            break
    assert np.all(np.diff(clocks) >= 0)


def test_take_off_delay_and_downtime_shift_the_aircraft_clock():
    env = small(demand_rate=0.0, takeoff_delay_prob=1.0, closure_prob=0.0, downtime_prob=1.0)
    env.reset(seed=1)
    a, i = env.deciding, int(env.loc[env.deciding])
    j = int(np.flatnonzero(env.action_masks() & (np.arange(4) != i))[0])
    delay, down = env.day.takeoff_delay_h[a, 0], env.day.downtime_h[a, 0]
    env.step(j)
    hours = env.flight_h[i, j]
    assert env.takeoff_time[a] == pytest.approx(demand.DAY_START_H + delay)
    assert env.arrival_time[a] == pytest.approx(demand.DAY_START_H + delay + hours)
    # the held aircraft keeps its origin slot until it leaves
    assert env.occupancy()[i] == np.sum(env.loc == i) + 1
    while env.down_until[a] <= demand.DAY_START_H:
        env.step(int(env.loc[env.deciding]))
    assert env.down_until[a] == pytest.approx(demand.DAY_START_H + delay + hours + down)


def test_patience_runs_out_and_leftovers_are_lost_at_the_end_of_day():
    env = small(demand_rate=0.0, patience_h=0.5, **CALM)
    env.reset(seed=0)
    env.waiting[0, 0, 1] = 5  # arrived 06:00, gone from 06:30
    env.waiting[demand.N_BINS - 1, 2, 3] = 2  # arrived 17:45, still waiting at 18:00
    env._set_clock(6.49)
    assert env.passengers_lost == 0 and env.waiting_matrix()[0, 1] == 5
    env._set_clock(6.5)
    assert env.passengers_lost == 5 and env.waiting_matrix()[0, 1] == 0
    env._end_day()
    assert env.passengers_lost == 7


@pytest.mark.parametrize("reward", ["dense", "sparse"])
def test_profit_identity_and_rewards(reward):
    env = small(reward=reward, **STORMY)
    _, rewards, infos = play(env, seed=4)
    last = infos[-1]
    assert last["profit"] == pytest.approx(last["revenue"] - last["energy_cost"] - last["operating_cost"])
    assert sum(i["step_profit"] for i in infos) == pytest.approx(last["profit"])
    if reward == "dense":
        assert rewards.sum() == pytest.approx(last["profit"] * env.reward_scale)
    else:
        assert np.all(rewards[:-1] == 0) and rewards[-1] == pytest.approx(last["profit"] * env.reward_scale)
    assert last["passengers_served"] + last["passengers_lost"] == last["demand_total"]
    assert last["violations"] == dict.fromkeys(VIOLATIONS, 0) and all(i["cost"] == 0 for i in infos)
    metrics = episode_metrics(rewards, infos[1:])
    assert metrics["daily_profit"] == last["profit"] and metrics["constraint_violations"] == 0
    assert metrics["demand_served_pct"] == pytest.approx(100 * last["passengers_served"] / last["demand_total"])


def test_violation_counters_audit_the_state_independently_of_the_mask():
    env = small(**CALM)
    env.reset(seed=0)
    env.parking = 1  # a capacity lowered behind the mask's back: the audit sees the crowding
    _, _, _, _, info = env.step(int(env.loc[env.deciding]))
    assert info["violations"]["parking"] > 0 and info["cost"] == info["violations"]["parking"]


def test_demand_peaks_at_eight_and_half_past_four_and_prices_follow_time_of_use():
    env = UAMFleetEnv()
    per_bin = env.mean_arrivals.sum(axis=(1, 2))
    starts = demand.bin_starts()
    morning, evening = starts < 12, starts >= 12
    assert starts[morning][np.argmax(per_bin[morning])] + 0.125 == pytest.approx(8.0, abs=0.25)
    assert starts[evening][np.argmax(per_bin[evening])] + 0.125 == pytest.approx(16.5, abs=0.25)
    assert env.prices[0] == pytest.approx(0.148 * 0.6)
    assert env.prices[demand.time_bin(12.0)] == pytest.approx(0.148 * 1.05)
    assert env.prices[demand.time_bin(17.0)] == pytest.approx(0.148 * 1.5)
    # morning flows go towards attractive vertiports, evening flows leave them
    top = int(np.argmax(env.layout.attractiveness))
    am, pm = demand.time_bin(8.0), demand.time_bin(16.5)
    assert env.mean_arrivals[am, :, top].sum() > env.mean_arrivals[am, top, :].sum()
    assert env.mean_arrivals[pm, top, :].sum() > env.mean_arrivals[pm, :, top].sum()


# ----------------------------------------------------------------------------- arguments
@pytest.mark.parametrize("kwargs, match", [
    ({"n_vertiports": 0}, "n_vertiports=0"),
    ({"parking_per_vertiport": 4}, "parking_per_vertiport=4 .*must park the 40 aircraft"),
    ({"max_takeoffs_per_window": 7}, "max_takeoffs_per_window=7"),
    ({"charging_pads_per_vertiport": 11}, "charging_pads_per_vertiport=11"),
    ({"takeoff_delay_prob": 1.5}, r"takeoff_delay_prob=1.5 .*\[0.0, 1.0\]"),
    ({"closure_prob": -0.1}, "closure_prob=-0.1"),
    ({"downtime_prob": 2}, "downtime_prob=2"),
    ({"base_fare": -1.0}, "base_fare=-1.0"),
    ({"fare_per_mile": -0.5}, "fare_per_mile=-0.5"),
    ({"reward": "hourly"}, "reward='hourly'"),
    ({"peak_hours": (4.5, 16.5)}, "peak_hours"),
    ({"square_miles": 500.0}, "square_miles=500.0"),
    ({"render_mode": "human"}, "render_mode='human'"),
])
def test_bad_arguments_name_the_argument_and_what_is_allowed(kwargs, match):
    with pytest.raises(ValueError, match=match):
        UAMFleetEnv(**kwargs)


def test_registered_id_rejects_unknown_arguments():
    with pytest.raises(ValueError, match="unknown argument"):
        gym.make("gauntlet/UAMFleet-v0", n_drones=3)


# ----------------------------------------------------------------------------- rendering
def test_rgb_array_render_is_a_map_and_reads_the_state_only():
    env = small(render_mode="rgb_array", **STORMY)
    env.reset(seed=0)
    for _ in range(40):
        env.step(env.action_space.sample())
    state = (env.soc.copy(), env.waiting.copy(), env.next_time.copy(), env.np_random.bit_generator.state)
    image = env.render()
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3 and image.std() > 0
    np.testing.assert_array_equal(state[0], env.soc)
    np.testing.assert_array_equal(state[1], env.waiting)
    np.testing.assert_array_equal(state[2], env.next_time)
    assert state[3] == env.np_random.bit_generator.state
    ansi = small(render_mode="ansi")
    ansi.reset(seed=0)
    assert "vertiport 3" in ansi.render()
