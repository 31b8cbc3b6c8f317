"""LotSizing (PDPPO): API compliance, exact dynamics on a hand-computed case, determinism,
native vector env == SyncVectorEnv, validation errors, instance io, demand replay,
post-decision states and episode metrics."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.error import InvalidAction
from gymnasium.utils.env_checker import check_env as gym_check_env

import gauntlet  # noqa: F401 - registers the ids
from gauntlet.envs.lot_sizing.env import (
    LotSizingEnv,
    LotSizingInstance,
    MaskedActionError,
    episode_metrics,
    post_decision,
)
from gauntlet.envs.lot_sizing.vector import LotSizingVectorEnv

IDS = [
    "gauntlet/LotSizing-v0",
    "gauntlet/LotSizing-15x5-v0",
    "gauntlet/LotSizing-20x10-v0",
    "gauntlet/LotSizing-25x10-v0",
    "gauntlet/LotSizing-25x15-v0",
]


def valid_actions(env, rng: np.random.Generator, n: int) -> list[np.ndarray]:
    allowed = env.unwrapped.action_masks().reshape(env.unwrapped.instance.n_machines, -1)
    return [np.array([rng.choice(np.flatnonzero(row)) for row in allowed], dtype=np.int64) for _ in range(n)]


def tiny_instance(**overrides) -> dict:
    """2 items, 2 machines; machine 0 cannot make item 1. The authors' JSON layout."""
    data = {
        "time_horizon": 3,
        "n_items": 2,
        "n_machines": 2,
        "initial_setup": [1, 0],
        "machine_production": [[5, 0], [3, 4]],
        "max_inventory_level": [6, 10],
        "initial_inventory": [1, 0],
        "holding_costs": [0.5, 0.25],
        "lost_sales_costs": [2.0, 3.0],
        "demand_distribution": {"name": "binomial", "n": 4, "p": 0.5},
        "setup_costs": [[10, 99], [20, 30]],
        "setup_loss": [[1, 9], [2, 5]],
    }
    data.update(overrides)
    return data


TINY_DEMAND = np.array([[2, 3], [0, 0], [1, 0]])
TINY_ACTIONS = [np.array([1, 2]), np.array([0, 2]), np.array([1, 1])]


def run_tiny(**kwargs):
    env = LotSizingEnv(instance=tiny_instance(), random_initial_state=False, **kwargs)
    obs, _ = env.reset(seed=0, options={"demand": TINY_DEMAND})
    steps = []
    for action in TINY_ACTIONS:
        prev = obs
        obs, reward, terminated, truncated, info = env.step(action)
        steps.append((prev, obs, reward, terminated, truncated, info, env.inventory, env.setup))
    return env, steps


# ----------------------------------------------------------------------- compliance
@pytest.mark.parametrize("env_id", IDS)
def test_check_env_gymnasium_and_sb3(env_id):
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = gym.make(env_id)
    gym_check_env(env.unwrapped, skip_render_check=True)
    sb3_check_env(env.unwrapped, warn=False)


def test_check_env_with_options_and_render():
    env = LotSizingEnv(n_items=6, n_machines=3, horizon=12, forecast_horizon=3, observe_time=True,
                       demand="seasonal", overflow="cost", render_mode="ansi")
    gym_check_env(env, skip_render_check=True)
    env.reset(seed=1)
    env.step(np.zeros(3, dtype=np.int64))
    text = env.render()
    assert "t=1/12" in text and "inventory" in text and "lost_sales=" in text


def test_render_rgb_array_single_and_vector():
    env = LotSizingEnv(n_items=6, n_machines=3, horizon=5, render_mode="rgb_array")
    env.reset(seed=0)
    first = env.render()
    assert first.shape == (600, 900, 3) and first.dtype == np.uint8 and first.std() > 0
    env.step(np.ones(3, dtype=np.int64) * 0)
    after = env.render()
    assert after.shape == first.shape and not np.array_equal(after, first)
    vec = LotSizingVectorEnv(num_envs=2, n_items=6, n_machines=3, horizon=5, render_mode="rgb_array")
    vec.reset(seed=0)
    frames = vec.render()
    assert len(frames) == 2 and all(f.shape == (600, 900, 3) and f.dtype == np.uint8 for f in frames)
    np.testing.assert_array_equal(frames[0], first)  # same seed, same state, same picture
    vec.step(np.zeros((2, 3), dtype=np.int64))
    np.testing.assert_array_equal(vec.render()[0], after)


def test_render_does_not_change_the_trajectory():
    def rollout(render_mode):
        env = LotSizingEnv(n_items=6, n_machines=3, horizon=4, render_mode=render_mode)
        obs, _ = env.reset(seed=3)
        actions = valid_actions(env, np.random.default_rng(0), 4)
        out = [obs]
        for action in actions:
            if render_mode is not None:
                env.render()
            obs, reward, *_, info = env.step(action)
            out += [obs, reward, info["cost"], info["post_decision_state"]]
        env.render()
        return out, env.np_random.bit_generator.state

    plain, plain_rng = rollout(None)
    for mode in ("rgb_array", "ansi"):
        drawn, drawn_rng = rollout(mode)
        assert drawn_rng == plain_rng
        for a, b in zip(plain, drawn):
            np.testing.assert_array_equal(np.asarray(a if not isinstance(a, dict) else list(a.values())),
                                          np.asarray(b if not isinstance(b, dict) else list(b.values())))


def test_rendered_period_is_the_hand_computed_one():
    env, _ = run_tiny(render_mode="rgb_array")
    env.reset(seed=0, options={"demand": TINY_DEMAND})
    assert env._last_period() is None
    env.step(TINY_ACTIONS[0])
    period = env._last_period()
    # See test_hand_computed_episode: machine 0 keeps item 0 (5 units), machine 1 sets up item 1
    # and its setup loss eats the whole output.
    np.testing.assert_array_equal(period.start_inventory, [1, 0])
    np.testing.assert_array_equal(period.made, [5, 0])
    np.testing.assert_array_equal(period.machine_units, [5, 0])
    np.testing.assert_array_equal(period.changed, [False, True])
    np.testing.assert_array_equal(period.demand, TINY_DEMAND[0])
    assert period.cost == {"setup": 30.0, "lost_sales": 9.0, "holding": 2.0, "overflow": 0.0}
    env.step(TINY_ACTIONS[1])
    env.step(TINY_ACTIONS[2])
    period = env._last_period()
    # Both machines set up item 0 and make 5 - 1 and 3 - 2 units of it.
    np.testing.assert_array_equal(period.machine_units, [4, 1])
    np.testing.assert_array_equal(period.made, [5, 0])
    np.testing.assert_array_equal(period.changed, [True, True])
    assert env.render().shape == (600, 900, 3)


@pytest.mark.parametrize("mode", ["ansi", "rgb_array"])
def test_gymnasium_render_check_passes(mode):
    # Made through the registry, so the checker also builds the env in the other render modes.
    gym_check_env(gym.make("gauntlet/LotSizing-v0", n_items=4, n_machines=2, horizon=5, render_mode=mode).unwrapped)


def test_unsupported_render_mode_names_the_allowed_ones():
    for make in (LotSizingEnv, lambda **kw: LotSizingVectorEnv(num_envs=2, **kw)):
        with pytest.raises(ValueError, match=r"render_mode='human' is not supported; allowed: None, 'ansi', 'rgb_array'"):
            make(render_mode="human")
    assert LotSizingEnv.metadata["render_modes"] == ["ansi", "rgb_array"]


def test_spaces_and_mask_layout():
    env = LotSizingEnv()
    inst = env.instance
    m, i = inst.n_machines, inst.n_items
    assert env.action_space == gym.spaces.MultiDiscrete([i + 1] * m)
    assert env.observation_space.shape == (i + m * (i + 1),)
    mask = env.action_masks()
    assert mask.shape == (m * (i + 1),) and mask.dtype == bool
    grid = mask.reshape(m, i + 1)
    assert grid[:, 0].all(), "idle is always allowed"
    np.testing.assert_array_equal(grid[:, 1:], inst.production > 0)
    _, info = env.reset(seed=0)
    np.testing.assert_array_equal(info["action_mask"], mask)
    env.action_space.seed(0)
    samples = np.stack([env.action_space.sample() for _ in range(300)])
    assert grid[np.arange(m), samples].all(), "action_space.sample() respects the static mask"
    assert len(np.unique(samples[:, 0])) == grid[0].sum()


@pytest.mark.parametrize("env_id", IDS)
def test_every_item_has_a_machine_and_instance_is_fixed_by_id(env_id):
    a, b = gym.make(env_id).unwrapped, gym.make(env_id).unwrapped
    assert (a.instance.production > 0).any(axis=0).all()
    assert a.instance.to_dict() == b.instance.to_dict()
    a.reset(seed=1)
    b.reset(seed=2)
    assert a.instance.to_dict() == b.instance.to_dict(), "the reset seed must not change the instance"


def test_instance_ranges_follow_the_paper_generator():
    inst = LotSizingInstance.generate(25, 15, seed=3)
    assert inst.production.min() == 0 and inst.production.max() <= 40
    assert set(np.unique(inst.setup_loss)) <= {1, 2, 3}
    assert 15 <= inst.setup_cost.min() and inst.setup_cost.max() <= 30
    assert set(np.unique(inst.lost_sales_cost)) <= {0.1, 1.1}
    np.testing.assert_array_equal(inst.holding_cost, 0.01)
    np.testing.assert_array_equal(inst.max_inventory, 100)
    assert LotSizingInstance.generate(25, 15, seed=4).to_dict() != inst.to_dict()


# -------------------------------------------------------------------------- dynamics
def test_hand_computed_episode():
    env, steps = run_tiny()
    rewards = [s[2] for s in steps]
    costs = [s[5]["cost"] for s in steps]
    # t=0: inventory [1, 0], setups [1, 0]. Action [1, 2]: machine 0 keeps item 0 (5 units, no
    # setup); machine 1 sets up item 1 (cost 30, loss 5 > output 4, so 0 units). Post-decision
    # [6, 0]; demand [2, 3] -> end [4, 0], 3 units of item 1 lost (cost 9), holding 4 * 0.5.
    assert costs[0] == {"setup": 30.0, "lost_sales": 9.0, "holding": 2.0, "overflow": 0.0}
    np.testing.assert_array_equal(steps[0][5]["lost_sales_units"], [0, 3])
    assert steps[0][5]["setups"] == 1
    np.testing.assert_array_equal(steps[0][6], [4, 0])
    np.testing.assert_array_equal(steps[0][7], [1, 2])
    # t=1: action [0, 2]: machine 0 idles (its setup resets to 0), machine 1 keeps item 1 (4 units).
    assert costs[1] == {"setup": 0.0, "lost_sales": 0.0, "holding": 3.0, "overflow": 0.0}
    np.testing.assert_array_equal(steps[1][7], [0, 2])
    # t=2: action [1, 1]: both set up (10 + 20), outputs 5 - 1 and 3 - 2. Post-decision [9, 4];
    # demand [1, 0] -> 8 units of item 0, capped at 6 after demand (2 discarded).
    assert costs[2] == {"setup": 30.0, "lost_sales": 0.0, "holding": 4.0, "overflow": 0.0}
    np.testing.assert_array_equal(steps[2][6], [6, 4])
    np.testing.assert_allclose(rewards, [-41.0, -3.0, -34.0])
    assert [s[3] for s in steps] == [False, False, True] and not any(s[4] for s in steps)
    # Observation: inventory / max, then one-hot setups per machine.
    np.testing.assert_allclose(steps[2][1], [6 / 6, 4 / 10, 0, 1, 0, 0, 1, 0], rtol=1e-6)
    np.testing.assert_allclose(steps[0][5]["post_decision_state"], [1.0, 0.0, 0, 1, 0, 0, 0, 1], rtol=1e-6)
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(np.zeros(2, dtype=np.int64))


def test_overflow_cost_and_idle_carry_over():
    _, steps = run_tiny(overflow="cost", overflow_cost=1.5)
    assert steps[2][5]["cost"]["overflow"] == 3.0
    assert steps[2][2] == pytest.approx(-37.0)
    # With the setup kept over the idle period, machine 0 resumes item 0 for free (5 units).
    _, steps = run_tiny(idle_keeps_setup=True)
    np.testing.assert_array_equal(steps[1][7], [1, 2])
    assert steps[2][5]["cost"] == {"setup": 20.0, "lost_sales": 0.0, "holding": 4.0, "overflow": 0.0}


def test_reward_is_minus_total_cost_and_invariants():
    env = gym.make("gauntlet/LotSizing-20x10-v0")
    rng = np.random.default_rng(0)
    env.reset(seed=5)
    cap = env.unwrapped.instance.max_inventory
    for action in valid_actions(env, rng, 150):
        _, reward, terminated, truncated, info = env.step(action)
        assert isinstance(reward, float)
        assert reward == pytest.approx(-sum(info["cost"].values()), abs=1e-12)
        inventory = env.unwrapped.inventory
        assert (inventory >= 0).all() and (inventory <= cap).all()
        assert (info["lost_sales_units"] <= info["demand"]).all()
        if terminated or truncated:
            env.reset()


# ----------------------------------------------------------------------- determinism
def trajectory_digest(env_id: str, seed: int, steps: int) -> str:
    env = gym.make(env_id)
    rng = np.random.default_rng(123)
    obs, _ = env.reset(seed=seed)
    digest = hashlib.sha256(obs.tobytes())
    for action in valid_actions(env, rng, steps):
        obs, reward, terminated, truncated, info = env.step(action)
        digest.update(obs.tobytes() + np.float64(reward).tobytes() + info["post_decision_state"].tobytes())
        if terminated or truncated:
            obs, _ = env.reset()
            digest.update(obs.tobytes())
    return digest.hexdigest()


def test_same_seed_same_trajectory_in_process_and_across_processes():
    here = trajectory_digest("gauntlet/LotSizing-v0", 7, 150)
    assert here == trajectory_digest("gauntlet/LotSizing-v0", 7, 150)
    assert here != trajectory_digest("gauntlet/LotSizing-v0", 8, 150)
    code = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(__import__('pathlib').Path(__file__).parent)!r})
        from test_lot_sizing import trajectory_digest
        print(trajectory_digest("gauntlet/LotSizing-v0", 7, 150))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == here


def test_reset_seed_reseeds():
    env = LotSizingEnv(n_items=4, n_machines=2)
    first, _ = env.reset(seed=3)
    scenario = env.demand_scenario.copy()
    env.reset()
    assert not np.array_equal(env.demand_scenario, scenario)
    again, _ = env.reset(seed=3)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(env.demand_scenario, scenario)


# ----------------------------------------------------------------------- vector env
@pytest.mark.parametrize(
    "kwargs",
    [
        {"horizon": 6},
        {"horizon": 5, "forecast_horizon": 2, "observe_time": True, "overflow": "cost", "idle_keeps_setup": True,
         "demand": "poisson"},
    ],
)
def test_vector_env_matches_sync_vector_env(kwargs):
    n = 3
    native = gym.make_vec("gauntlet/LotSizing-v0", num_envs=n, vectorization_mode="vector_entry_point", **kwargs)
    sync = gym.make_vec("gauntlet/LotSizing-v0", num_envs=n, vectorization_mode="sync", **kwargs)
    assert isinstance(native.unwrapped, LotSizingVectorEnv)
    assert native.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP
    assert native.observation_space == sync.observation_space
    # SyncVectorEnv batches MultiDiscrete into an int Box; the native env keeps a masked MultiDiscrete.
    assert native.action_space.shape == sync.action_space.shape == (n, 5)
    assert sync.action_space.contains(native.action_space.sample())
    obs_a, info_a = native.reset(seed=11)
    obs_b, info_b = sync.reset(seed=11)
    np.testing.assert_array_equal(obs_a, obs_b)
    np.testing.assert_array_equal(info_a["action_mask"], info_b["action_mask"])
    rng = np.random.default_rng(0)
    single = gym.make("gauntlet/LotSizing-v0", **kwargs)
    resets = 0
    for _ in range(16):  # > two episodes, so autoreset happens twice
        actions = np.stack(valid_actions(single, rng, n))
        out_a, out_b = native.step(actions), sync.step(actions)
        for name, x, y in zip(("obs", "reward", "terminated", "truncated"), out_a[:4], out_b[:4]):
            np.testing.assert_array_equal(x, y, err_msg=name)
        assert set(out_a[4]) == set(out_b[4])
        for key, value in out_b[4].items():
            if key == "cost":
                assert set(out_a[4]["cost"]) == set(value)
                for name, column in value.items():
                    np.testing.assert_array_equal(out_a[4]["cost"][name], column, err_msg=name)
            else:
                np.testing.assert_array_equal(out_a[4][key], value, err_msg=key)
        resets += int(out_a[2].any())
    assert resets == 2


def test_vector_env_partial_reset_matches_sync_vector_env():
    native = gym.make_vec("gauntlet/LotSizing-v0", num_envs=3, vectorization_mode="vector_entry_point", horizon=4)
    sync = gym.make_vec("gauntlet/LotSizing-v0", num_envs=3, vectorization_mode="sync", horizon=4)
    native.reset(seed=5)
    sync.reset(seed=5)
    actions = np.zeros((3, 5), dtype=np.int64)
    for _ in range(2):
        native.step(actions)
        sync.step(actions)
    mask = np.array([True, False, True])
    obs_a, info_a = native.reset(options={"reset_mask": mask.copy()})
    obs_b, info_b = sync.reset(options={"reset_mask": mask.copy()})
    np.testing.assert_array_equal(obs_a, obs_b)
    np.testing.assert_array_equal(info_a["_action_mask"], info_b["_action_mask"])
    for _ in range(5):
        for x, y in zip(native.step(actions)[:4], sync.step(actions)[:4]):
            np.testing.assert_array_equal(x, y)


def test_vector_env_reset_mask_replay_and_errors():
    envs = LotSizingVectorEnv(num_envs=2, horizon=4)
    envs.reset(seed=0)
    before = envs.demand_scenario.copy()
    demand = np.ones((4, 15), dtype=np.int64)
    obs, info = envs.reset(options={"reset_mask": np.array([False, True]), "demand": demand})
    np.testing.assert_array_equal(envs.demand_scenario[0], before[0])
    np.testing.assert_array_equal(envs.demand_scenario[1], demand)
    np.testing.assert_array_equal(info["_action_mask"], [False, True])
    bad = np.zeros((2, 5), dtype=np.int64)
    bad[1, 0] = 16
    with pytest.raises(ValueError, match="sub-env 1: action value 16"):
        envs.step(bad)
    with pytest.raises(ValueError, match="shape"):
        envs.step(np.zeros(5, dtype=np.int64))
    with pytest.raises(ValueError, match="num_envs"):
        LotSizingVectorEnv(num_envs=0)
    texts = LotSizingVectorEnv(num_envs=2, horizon=4, render_mode="ansi")
    texts.reset(seed=0)
    assert len(texts.render()) == 2 and all(text.startswith("t=0/4") for text in texts.render())


# ------------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    ("action", "error", "match"),
    [
        (np.zeros(4, dtype=np.int64), ValueError, "shape"),
        (np.zeros((1, 5), dtype=np.int64), ValueError, "shape"),
        (np.array([0, 0, 0, 0, 16]), ValueError, "out of range"),
        (np.array([0, -1, 0, 0, 0]), ValueError, "out of range"),
        (np.array([0, 0, np.nan, 0, 0]), ValueError, "NaN or inf"),
        (np.array([0, 0, np.inf, 0, 0]), ValueError, "NaN or inf"),
        (np.array([0, 0, 0.5, 0, 0]), ValueError, "whole numbers"),
        (np.array(["a"] * 5), ValueError, "integer"),
    ],
)
def test_invalid_actions_raise(action, error, match):
    env = LotSizingEnv()
    env.reset(seed=0)
    state = (env.inventory, env.setup, env.t)
    with pytest.raises(error, match=match):
        env.step(action)
    assert (env.inventory.tolist(), env.setup.tolist(), env.t) == (state[0].tolist(), state[1].tolist(), state[2])


def test_masked_action_raises_invalid_action():
    env = LotSizingEnv()
    env.reset(seed=0)
    grid = env.action_masks().reshape(5, 16)
    machine, value = map(int, np.argwhere(~grid)[0])
    action = np.zeros(5, dtype=np.int64)
    action[machine] = value
    with pytest.raises(InvalidAction, match=f"machine {machine} cannot make item {value - 1}"):
        env.step(action)
    assert issubclass(MaskedActionError, ValueError)
    # Whole-number floats and lists are fine.
    env.step([0.0] * 5)
    env.step([0] * 5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_items": 0}, r"n_items=0 is out of range; allowed: integers >= 1"),
        ({"n_machines": 2.5}, r"n_machines=2.5 is not an integer; allowed: integers >= 1"),
        ({"horizon": 0}, r"horizon=0 is out of range; allowed: integers >= 1"),
        ({"demand": "normal"}, r"demand='normal' is not supported; allowed: 'binomial', 'poisson', 'seasonal'"),
        ({"demand_p": 1.5}, r"demand_p=1.5 is out of range; allowed: \[0.0, 1.0\]"),
        ({"demand": "seasonal", "seasonal_amplitude": 2.0},
         r"seasonal_amplitude=2.0 is invalid; allowed: \[0, 1/p - 1\] = \[0, 1.5\], so that the seasonal binomial p"),
        ({"demand": "seasonal", "seasonal_period": 0.0}, r"seasonal_period=0.0 is out of range; allowed: finite numbers > 0.0"),
        ({"overflow": "spill"}, r"overflow='spill' is not supported; allowed: 'discard', 'cost'"),
        ({"overflow_cost": -1.0}, r"overflow_cost=-1.0 is out of range; allowed: finite numbers >= 0.0"),
        ({"overflow_cost": "1"}, r"overflow_cost='1' is not a number"),
        ({"forecast_horizon": -1}, r"forecast_horizon=-1 is out of range; allowed: integers >= 0"),
        ({"max_inventory": 0}, r"max_inventory=0 is out of range; allowed: integers >= 1"),
        ({"instance_seed": -3}, r"instance_seed=-3 is out of range; allowed: integers >= 0"),
        ({"render_mode": "human"}, r"render_mode='human' is not supported; allowed: None, 'ansi', 'rgb_array'"),
        ({"instance": "/nonexistent/instance.json"}, "no file at"),
        ({"instance": 42}, "instance must be a LotSizingInstance"),
    ],
)
def test_bad_kwargs_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LotSizingEnv(**kwargs)


def test_bad_instances_raise():
    with pytest.raises(ValueError, match="missing keys"):
        LotSizingEnv(instance={"n_items": 2})
    with pytest.raises(ValueError, match="must be >= 0"):
        LotSizingEnv(instance=tiny_instance(setup_costs=[[-1, 1], [1, 1]]))
    with pytest.raises(ValueError, match="initial_setup"):
        LotSizingEnv(instance=tiny_instance(initial_setup=[3, 0]))
    with pytest.raises(ValueError, match="shape"):
        LotSizingEnv(instance=tiny_instance(holding_costs=[0.1]))
    with pytest.raises(ValueError, match="demand_distribution"):
        LotSizingEnv(instance=tiny_instance(demand_distribution={"name": "normal", "mu": 3, "sigma": 1}))


# ---------------------------------------------------------------------- instance io
def test_instance_from_dict_and_json_file(tmp_path):
    data = tiny_instance(demand_distribution={"name": "probability_mass_function", "vals": [0, 1], "probs": [0.5, 0.5]})
    path = tmp_path / "setting.json"
    path.write_text(json.dumps(data))
    from_dict = LotSizingEnv(instance=data)
    from_file = gym.make("gauntlet/LotSizing-v0", instance=str(path)).unwrapped
    assert from_dict.instance.to_dict() == from_file.instance.to_dict() == json.loads(json.dumps(data))
    assert from_file.instance.n_items == 2 and from_file.horizon == 3
    obs_a, _ = from_dict.reset(seed=4)
    obs_b, _ = from_file.reset(seed=4)
    np.testing.assert_array_equal(obs_a, obs_b)
    assert set(np.unique(from_file.demand_scenario)) <= {0, 1}
    # Round trip through to_json, and horizon= overrides time_horizon.
    generated = LotSizingInstance.generate(6, 3, seed=9, demand="seasonal")
    generated.to_json(tmp_path / "gen.json")
    assert LotSizingInstance.from_json(tmp_path / "gen.json").to_dict() == generated.to_dict()
    assert LotSizingEnv(instance=generated, horizon=7).horizon == 7


def test_instance_arrays_are_read_only():
    inst = LotSizingEnv().instance
    with pytest.raises(ValueError):
        inst.production[0, 0] = 1


# ------------------------------------------------------------------- demand replay
def test_demand_replay_and_expected_demand():
    env = LotSizingEnv(n_items=4, n_machines=2, horizon=10)
    demand = np.arange(40).reshape(10, 4) % 7
    env.reset(seed=0, options={"demand": demand})
    np.testing.assert_array_equal(env.demand_scenario, demand)
    assert not env.demand_scenario.flags.writeable
    for t in range(10):
        _, _, _, _, info = env.step(np.zeros(2, dtype=np.int64))
        np.testing.assert_array_equal(info["demand"], demand[t])
    expected = env.expected_demand()
    assert expected.shape == (10, 4)
    np.testing.assert_allclose(expected, 8.0)
    with pytest.raises(ValueError, match="must have shape"):
        env.reset(options={"demand": demand[:5]})
    with pytest.raises(ValueError, match="non-negative"):
        env.reset(options={"demand": -demand})
    with pytest.raises(ValueError, match="integers"):
        env.reset(options={"demand": demand + 0.5})
    with pytest.raises(ValueError, match="unknown reset options"):
        env.reset(options={"demnd": demand})


def test_demand_models_have_their_means():
    rng = np.random.default_rng(0)
    for demand in ("binomial", "poisson", "seasonal"):
        inst = LotSizingInstance.generate(5, 2, demand=demand, horizon=400)
        sample = np.stack([inst.sample_demand(rng) for _ in range(20)])
        assert abs(sample.mean() - inst.expected_demand().mean()) < 0.1
    seasonal = LotSizingInstance.generate(5, 2, demand="seasonal", horizon=50).expected_demand()
    assert seasonal.std(axis=0).min() > 1.0


# ------------------------------------------------------------------ post-decision
def test_post_decision_matches_info_single_and_batched():
    env = LotSizingEnv(n_items=8, n_machines=4, forecast_horizon=2, observe_time=True, idle_keeps_setup=True)
    rng = np.random.default_rng(1)
    obs, _ = env.reset(seed=2)
    states, actions, expected = [], [], []
    for action in valid_actions(env, rng, 60):
        next_obs, _, terminated, _, info = env.step(action)
        pds = env.post_decision(obs, action)
        np.testing.assert_array_equal(pds, info["post_decision_state"])
        states.append(obs)
        actions.append(action)
        expected.append(pds)
        obs = env.reset()[0] if terminated else next_obs
    batched = post_decision(np.stack(states), np.stack(actions), env.instance, idle_keeps_setup=True)
    np.testing.assert_array_equal(batched, np.stack(expected))
    with pytest.raises(ValueError, match="one-hot"):
        post_decision(np.zeros_like(states[0]), actions[0], env.instance)
    vector = LotSizingVectorEnv(num_envs=2, n_items=8, n_machines=4, forecast_horizon=2, observe_time=True,
                                idle_keeps_setup=True)
    np.testing.assert_array_equal(vector.post_decision(np.stack(states), np.stack(actions)), np.stack(expected))


# ------------------------------------------------------------------------- metrics
def test_episode_metrics_hand_made():
    infos = [
        {"demand": np.array([4, 6]), "lost_sales_units": np.array([1, 0]), "setups": 2, "cost": {}},
        {"demand": np.array([0, 10]), "lost_sales_units": np.array([0, 4]), "setups": 0, "cost": {}},
    ]
    metrics = episode_metrics([-10.0, -5.5], infos)
    assert metrics == {"cost": 15.5, "fill_rate": pytest.approx(1 - 5 / 20), "setups_per_period": 1.0}
    assert episode_metrics([], [])["fill_rate"] == 1.0


def test_episode_metrics_on_a_real_episode():
    _, steps = run_tiny()
    metrics = episode_metrics([s[2] for s in steps], [s[5] for s in steps])
    assert metrics["cost"] == pytest.approx(78.0)
    assert metrics["fill_rate"] == pytest.approx(1 - 3 / 6)
    assert metrics["setups_per_period"] == pytest.approx(3 / 3)


@pytest.mark.parametrize("demand", [
    "binomial", "poisson", "seasonal", {"name": "discrete_uniform", "low": 2, "high": 9},
    {"name": "probability_mass_function", "vals": [0, 3, 7, 40], "probs": [0.5, 0.3, 0.2 - 1e-9, 1e-9]},
])
@pytest.mark.parametrize("random_initial_state", [True, False])
def test_reset_kernel_equals_initial_state(demand, random_initial_state):
    """The vector env's compiled reset gives ``_initial_state``'s episode for any reset words,
    including words in the far tail (inverse-CDF buckets holding several CDF values)."""
    from dataclasses import replace

    from gauntlet.envs.lot_sizing import kernels
    from gauntlet.envs.lot_sizing.env import _initial_state

    kwargs = {"n_items": 4, "n_machines": 3, "horizon": 6, "random_initial_state": random_initial_state}
    if isinstance(demand, str):
        kwargs["demand"] = demand
    else:
        kwargs["instance"] = replace(LotSizingEnv(**kwargs).instance, demand_distribution=demand)
    envs = LotSizingVectorEnv(num_envs=3, **kwargs)
    rng = np.random.default_rng(0)
    words = rng.integers(0, 2**32, size=(3, 4 * 7 + 3), dtype=np.uint32)
    words[1, 7:] = 2**32 - 1 - rng.integers(0, 2**12, size=words.shape[1] - 7, dtype=np.uint32)
    words[2, 7:] = rng.integers(0, 2**12, size=words.shape[1] - 7, dtype=np.uint32)
    kernels.reset_rows(words, np.arange(3), envs._state, envs._statics, envs._reset_tables)
    inventory, setup, scenario = _initial_state(words, envs.instance, envs._tables, envs.horizon, random_initial_state)
    np.testing.assert_array_equal(envs.inventory, inventory)
    np.testing.assert_array_equal(envs.setup, setup)
    np.testing.assert_array_equal(envs.demand_scenario, scenario)
    np.testing.assert_array_equal(envs.t, 0)


def test_vector_reset_options_per_copy():
    envs = LotSizingVectorEnv(num_envs=2, n_items=4, n_machines=2, horizon=3)
    inventory = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    demand = np.arange(24).reshape(2, 3, 4)
    obs, _ = envs.reset(seed=1, options={"inventory": inventory, "setup": np.array([1, 0]), "demand": demand})
    np.testing.assert_array_equal(envs.inventory, inventory)
    np.testing.assert_array_equal(envs.setup, [[1, 0], [1, 0]])
    np.testing.assert_array_equal(envs.demand_scenario, demand)
    for i in range(2):
        single = LotSizingEnv(n_items=4, n_machines=2, horizon=3)
        expected, _ = single.reset(seed=1 + i, options={"inventory": inventory[i], "setup": np.array([1, 0]),
                                                         "demand": demand[i]})
        np.testing.assert_array_equal(obs[i], expected)
