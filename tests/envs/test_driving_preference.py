import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import gauntlet  # noqa: F401  (registers the ids)
from gauntlet.envs.driving.env import DrivingEnv, MODrivingEnv


def actions(n, seed=0):
    return np.random.default_rng(seed).integers(9, size=n)


@pytest.mark.parametrize("observation, base_dim", [("kinematics", 18 + 7 * 8), ("lidar", 18 + 36)])
def test_the_preference_is_appended_and_the_rest_of_the_observation_is_unchanged(observation, base_dim):
    w = (0.2, 0.5, 0.3)
    plain = MODrivingEnv(observation=observation, n_beams=36, weights=w)
    conditioned = MODrivingEnv(observation=observation, n_beams=36, weights=w, preference_in_obs=True)
    assert plain.observation_space.shape == (base_dim,)
    assert conditioned.observation_space.shape == (base_dim + 3,)
    a, _ = plain.reset(seed=3)
    b, _ = conditioned.reset(seed=3)
    for action in actions(60):
        np.testing.assert_array_equal(b[:base_dim], a)
        np.testing.assert_array_equal(b[base_dim:], np.float32(w))
        assert conditioned.observation_space.contains(b)
        a, ra, te, tr, _ = plain.step(action)
        b, rb, te_b, tr_b, _ = conditioned.step(action)
        np.testing.assert_array_equal(ra, rb)
        assert (te, tr) == (te_b, tr_b)
        if te or tr:
            a, _ = plain.reset()
            b, _ = conditioned.reset()


def test_reset_options_set_the_preference_in_the_observation_and_the_reward():
    env = DrivingEnv(preference_in_obs=True)
    obs, _ = env.reset(seed=0, options={"weights": [1.0, 0.0, 0.0]})
    np.testing.assert_array_equal(obs[-3:], np.float32([1.0, 0.0, 0.0]))
    obs, reward, *_, info = env.step(4)
    np.testing.assert_array_equal(obs[-3:], np.float32([1.0, 0.0, 0.0]))
    assert reward == float(info["reward_vector"][0])
    obs, _ = env.reset()  # kept until the next option
    np.testing.assert_array_equal(obs[-3:], np.float32([1.0, 0.0, 0.0]))


def test_passes_the_checker_is_deterministic_and_batches():
    check_env(DrivingEnv(preference_in_obs=True), skip_render_check=True)

    def trajectory():
        env = gym.make("gauntlet/mo-Driving-Highway-Medium-v0", preference_in_obs=True)
        out = [env.reset(seed=9)[0]]
        for action in actions(80, seed=1):
            obs, _, te, tr, _ = env.step(int(action))
            out.append(obs)
            if te or tr:
                out.append(env.reset()[0])
        return np.array(out)

    np.testing.assert_array_equal(trajectory(), trajectory())
    envs = gym.make_vec("gauntlet/Driving-Curvy-Medium-v0", num_envs=2, preference_in_obs=True)
    obs, _ = envs.reset(seed=0)
    assert obs.shape == (2, 18 + 7 * 8 + 3) and envs.single_observation_space.shape == (18 + 7 * 8 + 3,)
    np.testing.assert_array_equal(obs[:, -3:], np.float32([[0.5, 0.4, 0.1]] * 2))
    envs.close()


@pytest.mark.parametrize("kwargs, match", [
    ({"preference_in_obs": "yes"}, r"preference_in_obs='yes' is invalid; allowed: True or False"),
    ({"preference_in_obs": 1}, r"preference_in_obs=1 is invalid; allowed: True or False"),
    ({"preference_in_obs": True, "observation": "camera"},
     r"preference_in_obs=True is invalid; allowed: False with observation=\"camera\""),
])
def test_bad_values_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MODrivingEnv(**kwargs)
