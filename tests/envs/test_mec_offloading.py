import re

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import gauntlet  # noqa: F401  (registers the ids)
from gauntlet.envs.mec_offloading.env import (
    ALPHA_E,
    ALPHA_T,
    MECOffloadingEnv,
    MOMECOffloadingEnv,
    episode_metrics,
    task_delay,
    task_energy,
    uplink_rate,
)
from gauntlet.envs.mec_offloading.kernels import arrival_steps, extra_sharing
from gauntlet.envs.mec_offloading.vector import MECOffloadingVectorEnv, MOMECOffloadingVectorEnv

SHORT = {"episode_steps": 12}


def rollout(env, seed, steps, policy_seed=0, options=None):
    rng = np.random.default_rng(policy_seed)
    obs, info = env.reset(seed=seed, options=options)
    out = [obs]
    rewards, infos = [], []
    for _ in range(steps):
        action = int(rng.choice(np.flatnonzero(info["action_mask"])))
        obs, reward, terminated, truncated, info = env.step(action)
        out.append(obs)
        rewards.append(reward)
        infos.append(info)
        if terminated or truncated:
            obs, info = env.reset()
            out.append(obs)
    return np.array(out), np.array(rewards), infos


# ----------------------------------------------------------------------------- API
def test_scalar_env_passes_gymnasium_and_sb3_checkers():
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    # Randomized numbers of edges: the checkers act through the masked action space's sample().
    env = MECOffloadingEnv(context="test", n_edges=None, preference_in_obs=True, **SHORT)
    check_env(env, skip_render_check=True)
    sb3_check_env(MECOffloadingEnv(context="train", n_edges=None, **SHORT))
    check_env(gym.make("gauntlet/MECOffloading-v0").unwrapped, skip_render_check=True)


@pytest.mark.parametrize("weight", [None, np.array([0.3, 0.7])], ids=["default", "float64"])
def test_linear_reward_of_the_registered_mo_env_passes_sb3_checker_and_scalarizes(weight):
    from mo_gymnasium.wrappers import LinearReward
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    # The registered kwargs have 6 of 10 edges: the checker samples the masked action space.
    # (Gymnasium's checker rejects LinearReward itself: it puts its weight array in every info.
    # With float32 weights LinearReward returns np.float32, np.dot of two float32 arrays,
    # which SB3's checker rejects: pass float64 weights.)
    env = gym.make("gauntlet/mo-MECOffloading-v0")
    assert env.unwrapped.core.n_edges == 6 and env.action_space.n == 11
    assert env.unwrapped.reward_dim == 2
    assert env.unwrapped.reward_space.shape == (2,)
    wrapped = LinearReward(env) if weight is None else LinearReward(env, weight=weight)
    sb3_check_env(wrapped)
    w = np.ones(2) if weight is None else weight
    wrapped.reset(seed=4)
    for _ in range(5):
        _, reward, _, _, info = wrapped.step(wrapped.action_space.sample())
        assert isinstance(reward, float)
        assert reward == pytest.approx(float(w @ info["vector_reward"]))


def test_mo_record_episode_statistics_sums_the_reward_vectors():
    from mo_gymnasium.wrappers import MORecordEpisodeStatistics

    env = MORecordEpisodeStatistics(gym.make("gauntlet/mo-MECOffloading-v0", **SHORT), gamma=1.0)
    _, rewards, infos = rollout(env, seed=1, steps=SHORT["episode_steps"])
    assert rewards.shape == (12, 2) and rewards.dtype == np.float32
    np.testing.assert_allclose(infos[-1]["episode"]["r"], rewards.sum(0), rtol=1e-6)


def test_scalar_reward_is_weighted_vector_and_weights_option_sets_preference():
    env = gym.make("gauntlet/MECOffloading-v0", weights=(0.2, 0.8), **SHORT)
    _, rewards, infos = rollout(env, seed=2, steps=8)
    for r, info in zip(rewards, infos):
        assert r == pytest.approx(0.2 * info["reward_vector"][0] + 0.8 * info["reward_vector"][1])
    _, rewards, infos = rollout(env, seed=2, steps=8, options={"weights": [1.0, 0.0]})
    assert all(r == pytest.approx(info["reward_vector"][0]) for r, info in zip(rewards, infos))
    np.testing.assert_array_equal(infos[0]["weights"], [1.0, 0.0])


def test_preference_in_obs_appends_weights():
    env = MOMECOffloadingEnv(preference_in_obs=True, **SHORT)
    obs, _ = env.reset(seed=0, options={"weights": (0.25, 0.75)})
    assert obs.shape == env.observation_space.shape
    np.testing.assert_array_equal(obs[-2:], np.float32([0.25, 0.75]))
    plain = MOMECOffloadingEnv(**SHORT)
    assert plain.observation_space.shape[0] == env.observation_space.shape[0] - 2


# ----------------------------------------------------------------------------- determinism
def test_same_seed_same_trajectory_and_reset_reseeds():
    a = MOMECOffloadingEnv(context="test", **SHORT)
    b = MOMECOffloadingEnv(context="test", **SHORT)
    obs_a, rew_a, _ = rollout(a, seed=7, steps=20)
    obs_b, rew_b, _ = rollout(b, seed=7, steps=20)
    np.testing.assert_array_equal(obs_a, obs_b)
    np.testing.assert_array_equal(rew_a, rew_b)
    obs_c, _, _ = rollout(a, seed=7, steps=20)
    np.testing.assert_array_equal(obs_a, obs_c)
    obs_d, _, _ = rollout(a, seed=8, steps=20)
    assert not np.array_equal(obs_a, obs_d)


def test_native_vector_env_equals_sync_vector_env_across_autoreset():
    kwargs = dict(context="test", n_edges=None, max_edges=10, preference_in_obs=True, **SHORT)
    native = gym.make_vec("gauntlet/MECOffloading-v0", num_envs=3, vectorization_mode="vector_entry_point", **kwargs)
    sync = gym.make_vec("gauntlet/MECOffloading-v0", num_envs=3, vectorization_mode="sync", **kwargs)
    assert isinstance(native.unwrapped, MECOffloadingVectorEnv)
    w = np.array([0.4, 0.6])
    o1, i1 = native.reset(seed=11, options={"weights": w})
    o2, i2 = sync.reset(seed=11, options={"weights": w})
    np.testing.assert_array_equal(o1, o2)
    rng = np.random.default_rng(0)
    for _ in range(30):  # crosses two episode ends (NEXT_STEP autoreset)
        actions = np.array([rng.choice(np.flatnonzero(m)) for m in i1["action_mask"]])
        o1, r1, te1, tr1, i1 = native.step(actions)
        o2, r2, te2, tr2, i2 = sync.step(actions)
        np.testing.assert_array_equal(o1, o2)
        np.testing.assert_array_equal(r1, r2)
        np.testing.assert_array_equal(tr1, tr2)
        np.testing.assert_array_equal(te1, te2)
        np.testing.assert_array_equal(i1["reward_vector"], i2["reward_vector"])
        np.testing.assert_array_equal(i1["action_mask"], i2["action_mask"])


def test_single_and_vector_env_agree_under_heavy_sharing():
    # Every task to edge 1: long processor-sharing queues exercise the water level and the
    # event loop; the native vector env must match single envs on the same seeds.
    kwargs = dict(context="fixed", n_edges=2, tx_power_w=1.0, episode_steps=40)
    vec = MECOffloadingVectorEnv(num_envs=2, **kwargs)
    singles = [MOMECOffloadingEnv(**kwargs) for _ in range(2)]
    obs, _ = vec.reset(seed=21)
    for i, env in enumerate(singles):
        np.testing.assert_array_equal(env.reset(seed=21 + i)[0], obs[i])
    for _ in range(40):
        obs, _, _, _, infos = vec.step(np.array([1, 1]))
        for i, env in enumerate(singles):
            o, r, _, _, _ = env.step(1)
            np.testing.assert_array_equal(o, obs[i])
            np.testing.assert_array_equal(r, infos["reward_vector"][i])
    assert singles[0].core.observe()[0, 1, 3] > 3  # tasks really share the edge


def test_single_and_vector_env_agree_with_slow_uploads_over_full_episodes():
    # Default uplinks: cloud uploads take thousands of seconds and slow edge uploads tens, so
    # uploads that outlast several steps ("far" in the kernel) come near and join mid-episode.
    kwargs = dict(context="test", n_edges=None)
    vec = MECOffloadingVectorEnv(num_envs=2, **kwargs)
    singles = [MOMECOffloadingEnv(**kwargs) for _ in range(2)]
    obs, infos = vec.reset(seed=31)
    for i, env in enumerate(singles):
        np.testing.assert_array_equal(env.reset(seed=31 + i)[0], obs[i])
    rng = np.random.default_rng(3)
    slow_uploads_done = 0
    for step in range(201):  # two episodes and the autoreset step between them
        actions = np.array([rng.choice(np.flatnonzero(m)) for m in infos["action_mask"]])
        obs, _, _, _, infos = vec.step(actions)
        for i, env in enumerate(singles):
            if step == 100:  # the vector env's autoreset step
                np.testing.assert_array_equal(env.reset()[0], obs[i])
                continue
            o, r, _, _, _ = env.step(int(actions[i]))
            np.testing.assert_array_equal(o, obs[i])
            np.testing.assert_array_equal(r, infos["reward_vector"][i])
        core = singles[0].core
        for name in ("phase", "server", "remaining", "upload_left", "t", "served", "head_size", "head_user"):
            np.testing.assert_array_equal(getattr(core, name)[0], getattr(vec.core, name)[0], err_msg=name)
        if step == 99:
            k = np.arange(core.served[0])
            upload_s = core.size[0, k] / core.rate[0, core.server[0, k], core.user[0, k]]
            slow_uploads_done = int(((upload_s > 2.0) & (core.phase[0, k] >= 2)).sum())
    assert slow_uploads_done > 0


def test_mo_native_vector_env_returns_float32_reward_vectors_like_mo_sync_vector_env():
    from mo_gymnasium.wrappers.vector import MOSyncVectorEnv

    kwargs = dict(context="test", n_edges=None, **SHORT)
    native = gym.make_vec("gauntlet/mo-MECOffloading-v0", num_envs=3, **kwargs)
    assert isinstance(native.unwrapped, MOMECOffloadingVectorEnv)
    sync = MOSyncVectorEnv([lambda: gym.make("gauntlet/mo-MECOffloading-v0", **kwargs) for _ in range(3)])
    assert native.unwrapped.reward_space == sync.reward_space
    _, i1 = native.reset(seed=5)
    sync.reset(seed=5)
    rng = np.random.default_rng(0)
    for _ in range(30):  # crosses two episode ends (NEXT_STEP autoreset)
        actions = np.array([rng.choice(np.flatnonzero(m)) for m in i1["action_mask"]])
        o1, r1, te1, tr1, i1 = native.step(actions)
        o2, r2, te2, tr2, _ = sync.step(actions)
        assert r1.shape == (3, 2) and r1.dtype == np.float32
        np.testing.assert_array_equal(r1, r2)
        np.testing.assert_array_equal(r1, i1["reward_vector"])
        np.testing.assert_array_equal(o1, o2)
        np.testing.assert_array_equal(tr1, tr2)


def test_scalar_native_vector_env_keeps_one_float_per_copy():
    envs = gym.make_vec("gauntlet/MECOffloading-v0", num_envs=2, weights=(0.2, 0.8))
    assert type(envs.unwrapped) is MECOffloadingVectorEnv
    envs.reset(seed=0)
    _, rewards, _, _, infos = envs.step(np.array([1, 2]))
    assert rewards.shape == (2,) and rewards.dtype == np.float64
    np.testing.assert_allclose(rewards, infos["reward_vector"].astype(np.float64) @ [0.2, 0.8])


def test_vector_env_rejects_masked_and_malformed_actions():
    envs = MECOffloadingVectorEnv(num_envs=2, n_edges=2, **SHORT)
    envs.reset(seed=0)
    with pytest.raises(ValueError, match="masked"):
        envs.step(np.array([0, 5]))
    with pytest.raises(ValueError, match="shape"):
        envs.step(np.array([0]))
    with pytest.raises(ValueError, match="NaN"):
        envs.step(np.array([0.0, np.nan]))


# ----------------------------------------------------------------------------- masks
def test_mask_and_padding_follow_the_number_of_edges():
    env = MOMECOffloadingEnv(context="test", **SHORT)
    seen = set()
    for seed in range(12):
        obs, info = env.reset(seed=seed)
        e = int(env.core.edges[0])
        seen.add(e)
        expected = np.arange(11) <= e
        np.testing.assert_array_equal(info["action_mask"], expected)
        np.testing.assert_array_equal(env.action_masks(), expected)
        rows = obs.reshape(11, -1)
        assert np.all(rows[~expected] == -1.0)
        assert np.all(rows[expected, 4] == e)
        assert np.all(rows[expected, 2] > 0)
        if e < 10:
            with pytest.raises(ValueError, match=f"action {e + 1} is masked"):
                env.step(e + 1)
    assert len(seen) > 3


def test_action_space_samples_only_present_servers_and_follows_resets():
    env = MOMECOffloadingEnv(context="test", **SHORT)
    env.action_space.seed(0)
    for seed in range(6):
        _, info = env.reset(seed=seed)
        drawn = {int(env.action_space.sample()) for _ in range(200)}
        assert drawn == set(np.flatnonzero(info["action_mask"]).tolist())
        env.step(env.action_space.sample())
    assert env.action_space.contains(10) and env.action_space == gym.spaces.Discrete(11)


def test_invalid_actions_raise_clear_errors():
    env = MOMECOffloadingEnv(n_edges=3, **SHORT)
    env.reset(seed=0)
    for bad, match in ((11, "integer in"), (-1, "integer in"), (1.5, "integer in"), (float("nan"), "finite"),
                       (np.array([1, 2]), "shape"), (5, "masked")):
        with pytest.raises(ValueError, match=match):
            env.step(bad)
    env.step(3)


def test_bad_constructor_arguments_and_weights_raise():
    with pytest.raises(ValueError, match=r"n_edges=11 is out of range; allowed: integers in \[0, 10\]"):
        MOMECOffloadingEnv(n_edges=11)
    with pytest.raises(ValueError, match=r"max_edges=5 is invalid; allowed: integers >= 10, the most edges context='test'"):
        MOMECOffloadingEnv(context="test", max_edges=5)
    with pytest.raises(ValueError, match="context='mars' is not supported; allowed: 'fixed', 'test', 'train'"):
        MOMECOffloadingEnv(context="mars")
    with pytest.raises(ValueError, match=r"cloud_freq_ghz='4' is not a number; allowed: finite numbers > 0.0 \(GHz\)"):
        MOMECOffloadingEnv(cloud_freq_ghz="4")
    weights_rule = r"allowed: 2 finite non-negative numbers \(delay, energy\) summing to 1"
    for bad in ((0.2, 0.3, 0.5), (-0.5, 1.5), (0.5, 0.6), "ab"):
        with pytest.raises(ValueError, match=rf"weights={re.escape(repr(bad))} is invalid; {weights_rule}"):
            MECOffloadingEnv(weights=bad)
    env = MECOffloadingEnv(**SHORT)
    with pytest.raises(ValueError, match=rf"options\['weights'\]=\[0.1, 0.1\] is invalid; {weights_rule}"):
        env.reset(seed=0, options={"weights": [0.1, 0.1]})
    with pytest.raises(ValueError, match="arrival_rate=0.0 is out of range"):
        MECOffloadingEnv(arrival_rate=0.0)
    with pytest.raises(ValueError, match="num_envs=0 is out of range"):
        MECOffloadingVectorEnv(num_envs=0)
    with pytest.raises(ValueError, match="max_episode_steps=50 is invalid; allowed: None or episode_steps=100"):
        MECOffloadingVectorEnv(num_envs=1, max_episode_steps=50)
    with pytest.raises(gym.error.ResetNeeded):
        MECOffloadingEnv().step(0)


# ----------------------------------------------------------------------------- formulas
def test_energy_formula_hand_computed():
    # 16 Mbit at 8 Mbit/s for 2 s at 10 mW = 0.02 J; 5e-31 * 1e3 * (2e9)^2 * 16e6 = 0.032 J.
    energy = task_energy(np.array([16e6]), np.array([8e6]), np.array([2e9]), 0.01)
    assert energy[0] == pytest.approx(0.052)
    assert task_energy(np.array([0.0]), np.array([8e6]), np.array([2e9]), 0.01)[0] == 0.0


@pytest.mark.parametrize(
    "remaining, rate, expected",
    [
        ([], 2e6, 2.0 + 2.0),  # idle server: upload 2 s + execute 4 Mbit at 2 Mbit/s
        ([1e6], 2e6, 4.0),  # the running task finishes during the upload
        ([2e6, 10e6], 4e6, 8.0),  # see the hand simulation in the comment below
        ([1e6, 10e6], 4e6, 7.0),  # the water level reaches the small task exactly
    ],
)
def test_delay_formula_hand_computed(remaining, rate, expected):
    # [2, 10] Mbit at c = 2 Mbit/s, L = 4 Mbit uploaded in 1 s: the running tasks get 1 Mbit
    # each ([1, 9] left); then three tasks share c: completions 1.5 s, 4.5 s (new), 7 s after
    # the upload versus 1 s and 5 s without the new task: 13 - 6 = 7 s, plus the 1 s upload.
    padded = np.zeros((1, 4))
    padded[0, : len(remaining)] = remaining
    delay = task_delay(np.array([4e6]), np.array([rate]), np.array([2e6]), padded)
    assert delay[0] == pytest.approx(expected)


def test_uplink_rate_uses_the_power_gain_once():
    # 100 m: path loss 35 log10(0.1) + 133.6 + 8 = 106.6 dB; noise -174 dBm/Hz over 16.6 MHz.
    gain = 10 ** (-106.6 / 10)
    noise = 10 ** ((-174 - 30) / 10) * 16.6e6
    expected = 16.6e6 * np.log2(1 + 0.01 * gain * 1.0 / noise)
    assert uplink_rate(np.array([100.0]), np.array([1.0]), 0.01, 16.6e6)[0] == pytest.approx(expected)


def test_rewards_are_the_scaled_delay_and_energy_of_the_step():
    env = MOMECOffloadingEnv(context="fixed", n_edges=2, **SHORT)
    env.reset(seed=3)
    for _ in range(10):
        before = env.core.head_size[0]
        _, reward, _, _, info = env.step(1)
        assert info["task_size"] == before
        assert reward[0] == pytest.approx(-ALPHA_T * info["delay"], rel=1e-6)
        assert reward[1] == pytest.approx(-ALPHA_E * info["energy"], rel=1e-6)
        if before == 0:
            np.testing.assert_array_equal(reward, [0.0, 0.0])


def test_first_task_on_idle_edge_gets_upload_plus_solo_execution_delay():
    env = MOMECOffloadingEnv(context="fixed", n_edges=2, **SHORT)
    for seed in range(20):
        env.reset(seed=seed)
        if env.core.head_size[0] > 0:
            break
    core = env.core
    size, rate = core.head_size[0], core.head_rates()[0, 2]
    _, _, _, _, info = env.step(2)
    assert info["delay"] == pytest.approx(size / rate + size / 2e6)
    assert info["energy"] == pytest.approx(0.01 * size / rate + 5e-31 * 1e3 * (2e9) ** 2 * size)


@pytest.mark.parametrize("batched", [False, True])
def test_processor_sharing_advances_executing_tasks_at_the_shared_rate(batched):
    kwargs = dict(context="fixed", n_edges=1, **SHORT)
    env = MECOffloadingVectorEnv(num_envs=2, **kwargs) if batched else MOMECOffloadingEnv(**kwargs)
    env.reset(seed=0)
    core = env.core
    # Two tasks executing on the edge (2 GHz -> 2 Mbit/s shared by two), no new task.
    core.phase[:, :] = 3
    core.phase[:, :2] = 2
    core.server[:, :2] = 1
    core.remaining[:, :2] = (0.5e6, 5e6)
    core.head_size[:] = 0.0
    env.step(np.array([0, 0]) if batched else 0)
    # 0.5 Mbit at 1 Mbit/s ends after 0.5 s; the other then runs alone for 0.5 s at 2 Mbit/s.
    assert np.all(core.phase[:, 0] == 3)
    np.testing.assert_allclose(core.remaining[:, 1], 5e6 - 0.5e6 - 1e6)
    obs = core.observe()[0]
    assert obs[1, 3] == 1 and obs[1, 5 + 3] == 1  # one task, 3.5 Mbit -> histogram bin 3


def test_episode_metrics_average_over_real_tasks():
    infos = [{"task_size": 1e6, "delay": 2.0, "energy": 0.1}, {"task_size": 0.0, "delay": 0.0, "energy": 0.0},
             {"task_size": 3e6, "delay": 4.0, "energy": 0.3}]
    out = episode_metrics(np.zeros((3, 2)), infos)
    assert out["mean_delay"] == pytest.approx(3.0)
    assert out["mean_energy"] == pytest.approx(0.2)
    assert out["tasks"] == 2


def test_episode_is_truncated_after_episode_steps_and_ansi_render():
    env = MOMECOffloadingEnv(render_mode="ansi", **SHORT)
    env.reset(seed=0)
    assert "cloud" in env.render()
    for t in range(12):
        _, _, terminated, truncated, _ = env.step(0)
        assert not terminated
        assert truncated == (t == 11)


def test_server_estimates_equal_the_charged_delay_and_energy():
    import copy

    env = MOMECOffloadingEnv(context="test", n_edges=4, **SHORT)
    env.reset(seed=5)
    rng = np.random.default_rng(1)
    for _ in range(6):
        env.step(int(rng.integers(1, 5)))
    delay, energy = env.server_estimates()
    assert np.all(np.isinf(delay[5:]))
    for a in range(5):
        _, _, _, _, info = copy.deepcopy(env).step(a)
        assert info["delay"] == delay[a]
        assert info["energy"] == energy[a]


def test_direct_edits_of_the_state_arrays_take_effect_at_the_next_step():
    kwargs = dict(context="fixed", n_edges=2, tx_power_w=1.0, **SHORT)
    a, b = MOMECOffloadingEnv(**kwargs), MOMECOffloadingEnv(**kwargs)
    a.reset(seed=4)
    b.reset(seed=4)
    for step in range(6):
        assert a.core.t[0] == step
        np.testing.assert_array_equal(a.step(1)[0], b.step(1)[0])
    executing = b.core.phase[0] == 2
    assert executing.any()
    b.core.remaining[0, executing] = 1.0  # every executing task about to finish
    b.step(0)
    assert not (b.core.phase[0] == 2)[executing].any()
    assert np.all(b.core.remaining[0, executing] == 0.0)


def test_arrival_steps_match_searchsorted_of_the_cumulative_counts():
    rng = np.random.default_rng(0)
    arrivals = rng.poisson(0.7, size=(50, 30))
    arrivals[0] = 0  # no task ever arrives
    arrivals[1, 0] = 40  # every task arrives at once
    expected = np.array([np.searchsorted(np.cumsum(row), np.arange(30), side="right") for row in arrivals])
    np.testing.assert_array_equal(arrival_steps(arrivals), expected)


def test_compiled_water_level_equals_task_delay_bit_for_bit():
    # server_estimates() (numpy, zero-padded) and the charged delay (compiled, unpadded)
    # must round identically so that greedy baselines see exactly what they are charged.
    rng = np.random.default_rng(2)
    for _ in range(200):
        m = int(rng.integers(1, 8))
        running = np.sort(rng.exponential(5e6, size=m))
        size, rate, capacity = rng.exponential(8e6), rng.exponential(4e6), rng.uniform(1.5e6, 5e6)
        work = capacity * (size / rate)
        delay = size / rate + (size + 2.0 * extra_sharing(running, m, work, size, np.empty(m))) / capacity
        padded = np.zeros((1, m + 3))
        padded[0, 3:] = running[::-1]
        assert delay == task_delay(np.array([size]), np.array([rate]), np.array([capacity]), padded)[0]


# ----------------------------------------------------------------------------- rendering
def state_arrays(env):
    core = env.unwrapped.core
    return {k: v.copy() for k, v in vars(core).items() if isinstance(v, np.ndarray)}


def test_rgb_array_render_is_an_image_and_reads_the_state_only():
    env = gym.make("gauntlet/mo-MECOffloading-v0", render_mode="rgb_array", **SHORT)
    twin = gym.make("gauntlet/mo-MECOffloading-v0", **SHORT)
    env.reset(seed=3)
    twin.reset(seed=3)
    first = env.render()
    assert first.ndim == 3 and first.shape[2] == 3 and first.dtype == np.uint8
    for step in range(SHORT["episode_steps"]):
        mask = env.unwrapped.action_masks()
        action = int(np.flatnonzero(mask)[-1 - step % 3])
        if step % 4 == 3:  # a picture costs a few tenths of a second
            rng_state = env.unwrapped.np_random.bit_generator.state
            before = state_arrays(env)
            frame = env.render()
            assert env.unwrapped.np_random.bit_generator.state == rng_state
            for name, array in state_arrays(env).items():
                np.testing.assert_array_equal(array, before[name], err_msg=name)
            assert frame.shape == first.shape
        o1, r1, _, _, _ = env.step(action)
        o2, r2, _, _, _ = twin.step(action)
        np.testing.assert_array_equal(o1, o2)
        np.testing.assert_array_equal(r1, r2)
    # A loaded system, the masked rows and the last decision change the picture.
    assert not np.array_equal(frame, first)
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 10


def test_unsupported_render_mode_names_the_allowed_ones():
    with pytest.raises(ValueError, match="render_mode='human' is not supported; allowed: None, 'rgb_array', 'ansi'"):
        MOMECOffloadingEnv(render_mode="human")
    with pytest.raises(ValueError, match="render_mode='ansi' is not supported; allowed: None, 'rgb_array'"):
        MECOffloadingVectorEnv(num_envs=2, render_mode="ansi")


def test_native_vector_env_draws_each_copy_as_the_single_env_does():
    kwargs = dict(context="test", n_edges=None, render_mode="rgb_array", episode_steps=3)
    envs = gym.make_vec("gauntlet/mo-MECOffloading-v0", num_envs=2, **kwargs)
    singles = [gym.make("gauntlet/mo-MECOffloading-v0", **kwargs) for _ in range(2)]
    envs.reset(seed=8)
    for i, env in enumerate(singles):
        env.reset(seed=8 + i)
    for step in range(4):  # the fourth step autoresets both copies
        actions = np.array([np.flatnonzero(env.unwrapped.action_masks())[-1] for env in singles])
        envs.step(actions)
        for env, a in zip(singles, actions):
            if step < 3:
                env.step(int(a))
            else:
                env.reset()
        if step in (1, 3):  # mid-episode with a last decision, then fresh copies without one
            frames = envs.render()
            assert len(frames) == 2
            for frame, env in zip(frames, singles):
                np.testing.assert_array_equal(frame, env.render())


def test_sb3_one_liners_run_on_the_scalar_id():
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    # SB3 asks every env for render_mode="rgb_array".
    envs = make_vec_env("gauntlet/MECOffloading-v0", n_envs=2, env_kwargs=SHORT)
    assert envs.get_attr("render_mode") == ["rgb_array", "rgb_array"]
    envs.reset()
    assert envs.render().dtype == np.uint8
    model = PPO("MlpPolicy", "gauntlet/MECOffloading-v0", n_steps=16, batch_size=16, n_epochs=1, seed=0)
    model.learn(16)
    assert model.num_timesteps == 16
