"""FairThreshold's native vector env: Gymnasium's vector API, the single env's info keys and errors."""

import gymnasium as gym
import numpy as np
import pytest

import gauntlet  # noqa: F401  (registers the ids)
from gauntlet.envs.fair_threshold.env import FairThresholdEnv
from gauntlet.envs.fair_threshold.vector import FairThresholdVectorEnv


@pytest.mark.parametrize("env_id", ["gauntlet/FairThreshold-v0", "gauntlet/FairThreshold-German-v0"])
def test_make_vec_builds_the_native_vector_env(env_id):
    envs = gym.make_vec(env_id, num_envs=3, vectorization_mode="vector_entry_point")
    assert isinstance(envs.unwrapped, FairThresholdVectorEnv)
    obs, infos = envs.reset(seed=0)
    assert obs.shape == (3, 14) and obs.dtype == np.float32
    assert set(infos) == {"group_share", "_group_share", "base_share", "_base_share"}
    obs, rewards, terminated, truncated, infos = envs.step(np.array([0, 25, 50]))
    assert envs.observation_space.contains(obs)
    assert rewards.shape == (3,) and not terminated.any() and not truncated.any()
    single = FairThresholdEnv(dataset=envs.unwrapped.dataset)
    single.reset(seed=0)
    expected = single.step(0)[4]
    for key, value in expected.items():
        assert infos["_" + key].all()
        if isinstance(value, dict):
            assert set(infos[key]) == set(value) | {"_" + k for k in value}
        else:
            np.testing.assert_array_equal(infos[key][0], value)


def test_autoreset_next_step_and_reset_mask():
    envs = FairThresholdVectorEnv(num_envs=2, horizon=2, initial_share=0.4)
    envs.reset(seed=[1, 2])
    envs.step(np.array([3, 4]))
    _, _, _, truncated, _ = envs.step(np.array([3, 4]))
    assert truncated.all()
    # The step after truncation resets (bad actions of resetting copies are ignored).
    obs, rewards, _, truncated, infos = envs.step(np.array([999, -5]))
    assert not truncated.any() and (rewards == 0).all()
    assert not infos["_threshold"].any() and infos["_group_share"].all()
    np.testing.assert_array_equal(infos["group_share"], [0.4, 0.4])
    np.testing.assert_array_equal(envs.t, [0, 0])
    before = envs.step(np.array([1, 1]))[0]
    obs, infos = envs.reset(options={"reset_mask": np.array([False, True])})
    np.testing.assert_array_equal(obs[0], before[0])
    assert infos["_group_share"].tolist() == [False, True]
    np.testing.assert_array_equal(envs.t, [1, 0])


@pytest.mark.parametrize(("kwargs", "actions", "match"), [
    ({}, np.array([0, 51]), r"sub-env 1: action 51 is outside the action space: threshold index in \[0, 50\]"),
    ({}, np.array([-1, 0]), r"sub-env 0: action -1 is outside the action space"),
    ({}, np.array([0.0, 2.5]), r"sub-env 0: action 0.0 is not an integer threshold index in \[0, 50\]"),
    ({}, np.array([0, 1, 2]), r"actions have shape \(3,\); expected \(2,\)"),
    ({"continuous": True}, np.array([[0.2], [np.nan]]), r"sub-env 1: action nan is outside the action space \[0, 1\]"),
    ({"continuous": True}, np.array([[0.2], [1.5]]), r"sub-env 1: action 1.5 is outside the action space"),
    ({"continuous": True}, np.array([0.2, 0.3]), r"actions have shape \(2,\); expected \(2, 1\)"),
    ({"continuous": True}, "high", r"not numbers"),
])
def test_bad_actions_raise_the_single_envs_errors(kwargs, actions, match):
    envs = FairThresholdVectorEnv(num_envs=2, **kwargs)
    envs.reset(seed=0)
    state = envs._state.copy()
    with pytest.raises(ValueError, match=match):
        envs.step(actions)
    np.testing.assert_array_equal(envs._state, state)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"num_envs": 0}, r"num_envs=0 is out of range; allowed: integers >= 1"),
    ({"eps": 1.5}, r"eps=1.5 is out of range"),
    ({"render_mode": "rgb_array"}, r"render_mode='rgb_array'"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FairThresholdVectorEnv(**kwargs)
