"""The SB3 adapters pick the right algorithm and policy and pass hyperparameters through."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from sb3_contrib import MaskablePPO
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.policies import MultiInputActorCriticPolicy

import gauntlet  # noqa: F401  (registers the env ids)
from gauntlet.agents.sb3 import make_a2c, make_ppo
from gauntlet.registry import get_agent

LOT = "gauntlet/LotSizing-v0"


class _DictObsEnv(gym.Env):
    """Minimal env with a Dict observation, to check the policy choice."""

    observation_space = gym.spaces.Dict({"x": gym.spaces.Box(-1.0, 1.0, (3,), np.float32)})
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return {"x": np.zeros(3, np.float32)}, {}

    def step(self, action):
        return {"x": np.zeros(3, np.float32)}, 0.0, True, False, {}


def test_make_ppo_uses_maskable_ppo_on_masked_envs_and_learns():
    env = gym.make(LOT)
    model = make_ppo(env, seed=0, n_steps=100, batch_size=50, n_epochs=1)
    assert isinstance(model, MaskablePPO) and model.verbose == 0
    model.learn(200)
    assert model.num_timesteps == 200
    obs, _ = env.reset(seed=3)
    mask = env.unwrapped.action_masks()
    offsets = np.concatenate([[0], np.cumsum(env.action_space.nvec)[:-1]])
    for deterministic in (True, False):
        action, _ = model.predict(obs, deterministic=deterministic, action_masks=mask)
        assert env.action_space.contains(action) and np.all(mask[offsets + action])


def test_registry_hyperparameters_are_accepted():
    for task in (LOT, "gauntlet/LotSizing-25x15-v0"):
        hp = get_agent("ppo").hyperparameters_for(task)
        model = make_ppo(gym.make(task), seed=1, **hp)
        assert model.n_steps == hp["n_steps"] and model.gamma == hp["gamma"] and model.n_epochs == hp["n_epochs"]


def test_make_ppo_uses_plain_ppo_without_masks_and_sets_the_seed():
    model = make_ppo(gym.make("CartPole-v1"), seed=4, n_steps=32, batch_size=32)
    assert type(model) is PPO and model.seed == 4 and model.n_steps == 32


def test_dict_observations_get_the_multi_input_policy():
    assert isinstance(make_ppo(_DictObsEnv(), n_steps=8, batch_size=8).policy, MultiInputActorCriticPolicy)
    assert isinstance(make_a2c(_DictObsEnv(), n_steps=8).policy, MultiInputActorCriticPolicy)


def test_make_a2c_learns(tmp_path):
    model = make_a2c(gym.make("CartPole-v1"), seed=0, tensorboard_log=str(tmp_path), n_steps=5)
    assert type(model) is A2C
    model.learn(50)
    assert model.num_timesteps == 50
    assert any(tmp_path.iterdir())


def test_unknown_hyperparameters_are_rejected():
    with pytest.raises(TypeError, match="not_a_parameter"):
        make_ppo(gym.make("CartPole-v1"), not_a_parameter=1)
