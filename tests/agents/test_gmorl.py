import gymnasium as gym
import numpy as np
import pytest
import torch

import gauntlet  # noqa: F401
from gauntlet.agents.gmorl import GMORL, _policy

TINY = dict(buffer_size=300, batch_size=16, learning_starts=32, n_envs=2, hidden=8)
ENV_KW = dict(context="train", n_edges=None, preference_in_obs=True, episode_steps=20, hist_bins=8)


def make_env(**kwargs):
    return gym.make("gauntlet/mo-MECOffloading-v0", **{**ENV_KW, **kwargs})


def test_requires_preference_in_obs_and_valid_hyperparameters():
    with pytest.raises(ValueError, match="preference_in_obs=True"):
        GMORL(gym.make("gauntlet/mo-MECOffloading-v0", preference_in_obs=False))
    with pytest.raises(ValueError, match="batch_size"):
        GMORL(make_env(), batch_size=0)
    with pytest.raises(ValueError, match="gamma"):
        GMORL(make_env(), gamma=1.5)


def test_learn_predict_masks_and_save_load(tmp_path):
    env = make_env()
    agent = GMORL(env, seed=0, tensorboard_log=str(tmp_path / "tb"), **TINY)
    assert agent.learn(80, progress_bar=True) is agent
    assert agent.num_timesteps >= 80
    assert list((tmp_path / "tb").glob("GMORL_1/events.out.tfevents.*"))
    eval_env = make_env(context="test")  # more edges than seen in training
    for seed in range(5):
        obs, info = eval_env.reset(seed=seed, options={"weights": (0.3, 0.7)})
        action, state = agent.predict(obs)
        assert state is None and info["action_mask"][action]
        sampled = [agent.predict(obs, deterministic=False)[0] for _ in range(20)]
        assert all(info["action_mask"][a] for a in sampled)
    # A caller's mask further restricts the choice.
    only_cloud = np.zeros(11, dtype=bool)
    only_cloud[0] = True
    assert agent.predict(obs, action_masks=only_cloud)[0] == 0
    batch = np.stack([obs, obs])
    assert agent.predict(batch)[0].shape == (2,)
    path = tmp_path / "gmorl.pt"
    agent.save(path)
    loaded = GMORL.load(path, env=eval_env)
    for w in ((1.0, 0.0), (0.0, 1.0)):
        obs, _ = eval_env.reset(seed=9, options={"weights": w})
        assert loaded.predict(obs)[0] == agent.predict(obs)[0]
    with pytest.raises(ValueError, match="observation must have"):
        agent.predict(obs[:-2])


def test_masked_servers_get_zero_probability_and_update_is_finite():
    env = make_env(n_edges=2)
    agent = GMORL(env, seed=1, **TINY)
    obs, _ = env.reset(seed=0)
    batch = torch.as_tensor(np.stack([obs] * 4))
    probs, logp = _policy(agent.actor, batch)
    assert torch.all(probs[:, 3:] == 0) and torch.allclose(probs.sum(1), torch.ones(4))
    agent.reward_scale = GMORL._scale_from(np.array([[0.0, 0.0], [-0.1, -2.0], [-0.3, -4.0], [-0.2, -1.0]]))
    np.testing.assert_allclose(agent.reward_scale, [0.2, 2.0])
    stats = agent._update(batch, torch.tensor([0, 1, 2, 1]), -torch.rand(4, 2), batch.clone(), torch.zeros(4))
    assert all(np.isfinite(v) for v in stats.values())


def test_training_is_deterministic_for_a_seed():
    params = []
    for _ in range(2):
        agent = GMORL(make_env(), seed=3, **TINY).learn(60)
        params.append(torch.cat([p.detach().flatten() for p in agent.actor.parameters()]))
    assert torch.equal(params[0], params[1])


def test_progress_bar_ends_at_the_budget_and_num_timesteps_counts_the_transitions(progress_bars, tmp_path):
    from gauntlet.agents import gmorl

    bars = progress_bars(gmorl)
    agent = GMORL(make_env(), seed=0, **{**TINY, "n_envs": 3}).learn(80, progress_bar=True)
    # Whole vector steps of 3 copies: the last one passes the budget; the bar stops at it.
    assert 80 <= agent.num_timesteps < 83
    assert [(bar.completed, bar._total) for bar in bars] == [(80, 80)]
    path = tmp_path / "gmorl.pt"
    agent.save(path)
    assert torch.load(path, weights_only=True)["num_timesteps"] == agent.num_timesteps


def test_trains_on_v1_with_the_backhaul_in_its_vector_env():
    env = gym.make("gauntlet/mo-MECOffloading-v1", **ENV_KW)
    agent = GMORL(env, seed=0, **TINY)
    assert agent.env_kwargs["backhaul_rate_bps"] == 100e6 and agent.env_kwargs["backhaul_latency_s"] == 0.05
    agent.learn(40)
    obs, info = env.reset(seed=1, options={"weights": (1.0, 0.0)})
    assert info["action_mask"][agent.predict(obs)[0]]
