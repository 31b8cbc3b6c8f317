"""MECOffloading-v1: the cloud through the serving base station and a wired backhaul."""

import hashlib

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import gauntlet  # noqa: F401  (registers the ids)
from gauntlet.envs.mec_offloading.env import (
    ALPHA_E,
    ALPHA_T,
    MOMECOffloadingEnv,
    task_delay,
    task_energy,
    transfer_rate,
)
from gauntlet.envs.mec_offloading.vector import MECOffloadingVectorEnv, MOMECOffloadingVectorEnv
from gauntlet.registry import get_task
from gauntlet.registry.mec_offloading import MEC_V1_BACKHAUL

V1 = {"backhaul_rate_bps": 100e6, "backhaul_latency_s": 0.05}


def random_actions(info, rng):
    return int(rng.choice(np.flatnonzero(info["action_mask"])))


def test_v1_ids_are_registered_with_the_documented_backhaul():
    assert MEC_V1_BACKHAUL == V1
    mo = gym.make("gauntlet/mo-MECOffloading-v1")
    scalar = gym.make("gauntlet/MECOffloading-v1")
    for env in (mo, scalar):
        assert env.unwrapped.core.backhaul_rate_bps == 100e6
        assert env.unwrapped.core.backhaul_latency_s == 0.05
    spec = get_task("gauntlet/mo-MECOffloading-v1").benchmark
    assert spec.train_env_kwargs == {"context": "train", "n_edges": None}
    assert spec.eval_env_kwargs == {"context": "test", "n_edges": 6}
    assert spec.hv_ref_point == (-120.0, -4300.0)


def test_v1_scalar_env_passes_gymnasium_and_sb3_checkers():
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = gym.make("gauntlet/MECOffloading-v1", episode_steps=12)
    check_env(env.unwrapped, skip_render_check=True)
    sb3_check_env(gym.make("gauntlet/MECOffloading-v1", episode_steps=12).unwrapped, warn=False)


def test_v1_linear_reward_passes_sb3_checker():
    from mo_gymnasium.wrappers import LinearReward
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = LinearReward(gym.make("gauntlet/mo-MECOffloading-v1", episode_steps=12),
                       weight=np.array([0.3, 0.7], dtype=np.float64))
    sb3_check_env(env, warn=False)


def test_v0_trajectories_are_unchanged_by_v1():
    # Digest of observations and rewards computed with the code before v1 existed.
    h = hashlib.sha256()
    for idx, kw in (("gauntlet/mo-MECOffloading-v0", {}),
                    ("gauntlet/MECOffloading-v0", {"context": "test", "n_edges": None, "max_edges": 10})):
        env = gym.make(idx, **kw)
        rng = np.random.default_rng(0)
        obs, info = env.reset(seed=3)
        for _ in range(120):
            obs, r, te, tr, info = env.step(random_actions(info, rng))
            h.update(np.asarray(obs).tobytes())
            h.update(np.asarray(r, dtype=np.float64).tobytes())
            if te or tr:
                obs, info = env.reset()
    assert h.hexdigest() == "0ddd0c865e17071b35a5fe2d2b07fbe138f55be828faa3bbc1cc0fe94373cfb6"


def test_v1_keeps_v0_draws_and_routes_the_cloud_through_the_best_edge():
    v0 = MOMECOffloadingEnv(context="test")
    v1 = MOMECOffloadingEnv(context="test", **V1)
    v0.reset(seed=5)
    v1.reset(seed=5)
    a, b = v0.core, v1.core
    for name in ("edges", "freq", "size", "user", "arrival"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    e = a.edges[0]
    np.testing.assert_array_equal(a.rate[0, 1:e + 1], b.rate[0, 1:e + 1])
    np.testing.assert_array_equal(b.radio_rate[0, 1:], b.rate[0, 1:])
    serving = b.radio_rate[0, 1:e + 1].max(axis=0)
    np.testing.assert_array_equal(b.radio_rate[0, 0], serving)
    np.testing.assert_allclose(b.rate[0, 0], 1.0 / (1.0 / serving + 1.0 / 100e6), rtol=1e-15)
    np.testing.assert_array_equal(b.latency[0], [0.05] + [0.0] * (b.n_servers - 1))
    # The cloud is now reachable at Mbit/s rather than kbit/s.
    assert np.median(b.rate[0, 0]) > 100 * np.median(a.rate[0, 0])


def test_transfer_rate_and_backhaul_delay_energy_hand_computed():
    # 16 Mbit over a 16 Mbit/s radio hop (1 s) then a 100 Mbit/s backhaul (0.16 s) + 50 ms.
    rate = transfer_rate(np.array([16e6]), 100e6)
    assert 16e6 / rate[0] == pytest.approx(1.16)
    # Idle 4 GHz cloud: c = 4 Mbit/s, 16 Mbit execute in 4 s; delay 1.16 + 0.05 + 4.
    delay = task_delay(np.array([16e6]), rate, np.array([4e6]), np.zeros((1, 3)), np.array([0.05]))
    assert delay[0] == pytest.approx(5.21)
    # One running task of 1 Mbit on the cloud: it gets c * tau = 4.84 Mbit of solo time during
    # the transfer and finishes, so the delay is the same.
    delay = task_delay(np.array([16e6]), rate, np.array([4e6]), np.array([[1e6, 0.0]]), np.array([0.05]))
    assert delay[0] == pytest.approx(5.21)
    # A running task of 10 Mbit keeps 10 - 4.84 = 5.16 Mbit: +2 * 5.16 / 4 s.
    delay = task_delay(np.array([16e6]), rate, np.array([4e6]), np.array([[10e6]]), np.array([0.05]))
    assert delay[0] == pytest.approx(5.21 + 2 * 5.16 / 4)
    # The user pays the radio hop only: 10 mW x 1 s + 5e-31 * 1e3 * (4e9)^2 * 16e6 = 0.01 + 0.128 J.
    energy = task_energy(np.array([16e6]), np.array([16e6]), np.array([4e9]), 0.01)
    assert energy[0] == pytest.approx(0.138)
    # Dummy tasks cost nothing, latency included.
    assert task_delay(np.array([0.0]), rate, np.array([4e6]), np.zeros((1, 1)), np.array([0.05]))[0] == 0.0


def test_first_task_to_the_idle_cloud_pays_radio_backhaul_latency_and_execution():
    env = MOMECOffloadingEnv(context="fixed", n_edges=2, episode_steps=12, **V1)
    for seed in range(20):
        env.reset(seed=seed)
        if env.core.head_size[0] > 0:
            break
    core = env.core
    size, user = core.head_size[0], core.head_user[0]
    radio = max(core.radio_rate[0, 1, user], core.radio_rate[0, 2, user])
    _, reward, _, _, info = env.step(0)
    assert info["delay"] == pytest.approx(size / radio + size / 100e6 + 0.05 + size / 4e6)
    assert info["energy"] == pytest.approx(0.01 * size / radio + 5e-31 * 1e3 * (4e9) ** 2 * size)
    assert reward[0] == pytest.approx(-ALPHA_T * info["delay"], rel=1e-6)
    assert reward[1] == pytest.approx(-ALPHA_E * info["energy"], rel=1e-6)


def test_v1_server_estimates_equal_the_charged_delay_and_energy():
    env = MOMECOffloadingEnv(context="test", **V1)
    _, info = env.reset(seed=2)
    rng = np.random.default_rng(4)
    for _ in range(100):
        delay, energy = env.server_estimates()
        action = random_actions(info, rng)
        _, _, _, _, info = env.step(action)
        assert info["delay"] == delay[action]
        assert info["energy"] == energy[action]


def test_v1_same_seed_same_trajectory():
    runs = []
    for _ in range(2):
        env = gym.make("gauntlet/mo-MECOffloading-v1", episode_steps=30)
        rng = np.random.default_rng(1)
        obs, info = env.reset(seed=9)
        out = [obs]
        for _ in range(30):
            obs, r, _, _, info = env.step(random_actions(info, rng))
            out += [obs, r]
        runs.append(np.concatenate([np.ravel(x) for x in out]))
    np.testing.assert_array_equal(*runs)


@pytest.mark.parametrize("scalar", [False, True])
def test_v1_single_and_native_vector_env_agree_bit_for_bit(scalar):
    # Two full episodes and the autoreset step, random servers: the cloud's backhaul latency
    # and the uploads through it exercise the event loop.
    idx = "gauntlet/MECOffloading-v1" if scalar else "gauntlet/mo-MECOffloading-v1"
    kwargs = {"context": "test", "n_edges": None}
    vec = gym.make_vec(idx, num_envs=2, vectorization_mode="vector_entry_point", **kwargs)
    assert isinstance(vec.unwrapped, MECOffloadingVectorEnv if scalar else MOMECOffloadingVectorEnv)
    singles = [gym.make(idx, **kwargs) for _ in range(2)]
    obs, infos = vec.reset(seed=31)
    for i, env in enumerate(singles):
        np.testing.assert_array_equal(env.reset(seed=31 + i)[0], obs[i])
    rng = np.random.default_rng(3)
    cloud = 0
    for step in range(201):
        actions = np.array([rng.choice(np.flatnonzero(m)) for m in infos["action_mask"]])
        obs, rewards, _, _, infos = vec.step(actions)
        for i, env in enumerate(singles):
            if step == 100:
                np.testing.assert_array_equal(env.reset()[0], obs[i])
                continue
            cloud += actions[i] == 0
            o, r, _, _, _ = env.step(int(actions[i]))
            np.testing.assert_array_equal(o, obs[i])
            np.testing.assert_array_equal(r, rewards[i])
    assert cloud > 20


def test_bad_backhaul_arguments_and_context_names_raise():
    with pytest.raises(ValueError, match=r"backhaul_rate_bps=0.0 is out of range; allowed: finite numbers > 0.0 \(bit/s\)"):
        MOMECOffloadingEnv(backhaul_rate_bps=0.0)
    with pytest.raises(ValueError, match=r"backhaul_rate_bps=-100000000.0 is out of range"):
        MOMECOffloadingVectorEnv(num_envs=2, backhaul_rate_bps=-1e8)
    with pytest.raises(ValueError, match=r"backhaul_rate_bps='fast' is not a number"):
        gym.make("gauntlet/mo-MECOffloading-v1", backhaul_rate_bps="fast")
    with pytest.raises(ValueError, match=r"backhaul_latency_s=-0.01 is out of range; allowed: finite numbers >= 0.0 \(s\)"):
        gym.make("gauntlet/mo-MECOffloading-v1", backhaul_latency_s=-0.01)
    with pytest.raises(ValueError, match=r"backhaul_latency_s=0.05 is invalid; allowed: 0 without a backhaul"):
        MOMECOffloadingEnv(backhaul_latency_s=0.05)
    with pytest.raises(ValueError, match=r"n_edges=0 is invalid; allowed: None or 1..max_edges with a backhaul"):
        MOMECOffloadingEnv(n_edges=0, **V1)
    with pytest.raises(ValueError, match="context='eval' is not supported; allowed: 'fixed', 'test', 'train'"):
        gym.make("gauntlet/mo-MECOffloading-v1", context="eval")
    with pytest.raises(ValueError, match="context='Test' is not supported"):
        MOMECOffloadingVectorEnv(num_envs=1, context="Test", **V1)
