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
    assert isinstance(model, PPO) and not isinstance(model, MaskablePPO)
    assert model.seed == 4 and model.n_steps == 32


def test_dict_observations_get_the_multi_input_policy():
    assert isinstance(make_ppo(_DictObsEnv(), n_steps=8, batch_size=8).policy, MultiInputActorCriticPolicy)
    assert isinstance(make_a2c(_DictObsEnv(), n_steps=8).policy, MultiInputActorCriticPolicy)


def test_make_a2c_learns(tmp_path):
    model = make_a2c(gym.make("CartPole-v1"), seed=0, tensorboard_log=str(tmp_path), n_steps=5)
    assert isinstance(model, A2C)
    model.learn(50)
    assert model.num_timesteps == 50
    assert any(tmp_path.iterdir())


def test_unknown_hyperparameters_are_rejected_with_the_accepted_ones():
    with pytest.raises(ValueError, match=r"PPO: unknown hyperparameter\(s\) \['not_a_parameter'\]; accepted: "
                                         r"tensorboard_log, verbose, n_envs, learning_rate, n_steps, .*target_kl"):
        make_ppo(gym.make("CartPole-v1"), not_a_parameter=1)
    with pytest.raises(ValueError, match=r"MaskablePPO: unknown hyperparameter\(s\) \['use_sde'\]"):
        make_ppo(gym.make(LOT), use_sde=True)  # PPO has it, MaskablePPO does not
    with pytest.raises(ValueError, match=r"A2C: unknown .*\['batch_size'\]; accepted: .*use_rms_prop"):
        make_a2c(gym.make("CartPole-v1"), batch_size=8)
    with pytest.raises(ValueError, match="policy"):
        make_ppo(gym.make("CartPole-v1"), policy="MlpPolicy")  # chosen by the adapter


@pytest.mark.parametrize("factory, env_id", [(make_ppo, "CartPole-v1"), (make_ppo, LOT), (make_a2c, "CartPole-v1")])
def test_progress_bar_ends_at_the_budget_and_num_timesteps_counts_the_steps_done(factory, env_id, progress_bars):
    from gauntlet.agents import sb3

    bars = progress_bars(sb3)
    model = factory(gym.make(env_id), seed=0, n_steps=64, **({"batch_size": 32} if factory is make_ppo else {}))
    model.learn(100, progress_bar=True)
    assert model.num_timesteps == 128  # SB3 trains in whole rollouts
    assert [(bar.completed, bar._total) for bar in bars] == [(100, 100)]
    calls = []
    model.learn(64, progress_bar=True, callback=lambda _locals, _globals: calls.append(1) or True)
    assert len(calls) == 64 and bars[1].completed == 64  # the user's callback still runs


def test_models_save_and_load_with_the_sb3_classes(tmp_path):
    model = make_ppo(gym.make("CartPole-v1"), seed=0, n_steps=32, batch_size=32)
    model.save(tmp_path / "ppo.zip")
    obs = np.zeros(4, np.float32)
    assert np.array_equal(PPO.load(tmp_path / "ppo.zip").predict(obs)[0], model.predict(obs)[0])


def test_normalize_reward_trains_on_scaled_rewards_and_keeps_raw_costs_outside(tmp_path):
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import VecNormalize

    from gauntlet.agents.sb3 import BudgetMaskablePPO

    env = Monitor(gym.make(LOT))
    model = make_ppo(env, seed=0, normalize_reward=True, gamma=0.9, n_steps=100, batch_size=100, n_epochs=1)
    normalizer = model.get_vec_normalize_env()
    assert isinstance(normalizer, VecNormalize) and model.env is normalizer
    assert normalizer.norm_reward and not normalizer.norm_obs and normalizer.gamma == 0.9
    model.learn(200)
    assert normalizer.ret_rms.count > 1 and normalizer.ret_rms.var > 1.0  # raw discounted costs are large
    # The Monitor inside the wrapper records raw episode costs (about -80 per step, 100 steps).
    assert all(r < -1000 for r in env.get_episode_rewards())
    obs, _ = gym.make(LOT).reset(seed=1)
    mask = gym.make(LOT).unwrapped.action_masks()
    model.save(tmp_path / "ppo.zip")
    loaded = BudgetMaskablePPO.load(tmp_path / "ppo.zip", env=gym.make(LOT))
    restored = loaded.get_vec_normalize_env()
    assert isinstance(restored, VecNormalize) and not restored.norm_obs
    assert restored.ret_rms.var == pytest.approx(normalizer.ret_rms.var)
    assert restored.ret_rms.count == pytest.approx(normalizer.ret_rms.count)
    assert np.array_equal(loaded.predict(obs, action_masks=mask, deterministic=True)[0],
                          model.predict(obs, action_masks=mask, deterministic=True)[0])
    assert MaskablePPO.load(tmp_path / "ppo.zip").reward_normalization["gamma"] == 0.9  # plain SB3 reads it too


def test_without_normalize_reward_there_is_no_wrapper():
    model = make_ppo(gym.make("CartPole-v1"), seed=0, n_steps=32, batch_size=32)
    assert model.get_vec_normalize_env() is None and model.reward_normalization is None


def test_lot_sizing_ppo_settings_are_stated_in_the_registry():
    hp = get_agent("ppo").hyperparameters_for(LOT)
    assert hp["normalize_reward"] is True
    model = make_ppo(gym.make(LOT), seed=0, **hp)
    assert model.get_vec_normalize_env().gamma == hp["gamma"] == model.gamma
    assert model.n_envs == hp["n_envs"] and model.batch_size == hp["batch_size"]
