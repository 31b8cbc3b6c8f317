"""PDPPO: learning runs, valid masked actions, persistence, determinism, arguments, advantages."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3.common.callbacks import BaseCallback

import gauntlet  # noqa: F401  (registers the env ids)
from gauntlet.agents.pdppo import PDPPO, gae, pdppo_advantages

ENV_ID = "gauntlet/LotSizing-v0"
# Small networks and rollouts of one 100-period episode keep the file fast.
FAST = dict(n_steps=100, n_epochs=2, batch_size=50, hidden_sizes=(32, 32))


@pytest.fixture
def env() -> gym.Env:
    return gym.make(ENV_ID)


def _weights(agent: PDPPO) -> dict[str, torch.Tensor]:
    nets = {"actor": agent.actor, "critic_post": agent.critic_post}
    if agent.critic is not None:
        nets["critic"] = agent.critic
    return {f"{n}.{k}": v for n, net in nets.items() for k, v in net.state_dict().items()}


def _valid(action: np.ndarray, mask: np.ndarray, nvec: np.ndarray) -> bool:
    offsets = np.concatenate([[0], np.cumsum(nvec)[:-1]])
    return bool(np.all(mask[offsets + action]))


@pytest.mark.parametrize("dual_critic, advantage", [(True, "authors"), (True, "post-decision"), (False, "authors")])
def test_learns_on_lot_sizing_and_logs_episodes(env, dual_critic, advantage):
    agent = PDPPO(env, seed=0, dual_critic=dual_critic, advantage=advantage, **FAST)
    assert agent.learn(200) is agent
    assert agent.num_timesteps == 200
    assert [t for t, _ in agent.episode_log] == [100, 200]
    assert all(np.isfinite(r) and r < 0 for _, r in agent.episode_log)
    assert (agent.critic is not None) == dual_critic


@pytest.mark.parametrize("dual_critic", [True, False])
def test_predict_returns_unmasked_actions_in_the_space(env, dual_critic):
    agent = PDPPO(env, seed=1, dual_critic=dual_critic, **FAST).learn(100)
    obs, info = env.reset(seed=5)
    mask = env.unwrapped.action_masks()
    nvec = env.action_space.nvec
    for deterministic in (True, False):
        action, state = agent.predict(obs, deterministic=deterministic, action_masks=mask)
        assert state is None
        assert action.shape == env.action_space.shape and env.action_space.contains(action)
        assert _valid(action, mask, nvec)
    batch, _ = agent.predict(np.stack([obs] * 4), deterministic=False, action_masks=np.stack([mask] * 4))
    assert batch.shape == (4, len(nvec))
    assert all(_valid(a, mask, nvec) for a in batch)
    env.step(action)  # the env accepts it (masked actions would raise)


def test_predict_obeys_a_restrictive_mask(env):
    agent = PDPPO(env, seed=2, **FAST)
    obs, _ = env.reset(seed=0)
    nvec = env.action_space.nvec
    only_idle = np.zeros(int(nvec.sum()), dtype=bool)
    only_idle[np.concatenate([[0], np.cumsum(nvec)[:-1]])] = True
    for deterministic in (True, False):
        action, _ = agent.predict(obs, deterministic=deterministic, action_masks=only_idle)
        assert np.all(action == 0)


def test_predict_uses_the_mask_from_the_runner_hooks(env):
    agent = PDPPO(env, seed=2, **FAST)
    obs, info = env.reset(seed=0)
    nvec = env.action_space.nvec
    only_idle = np.zeros(int(nvec.sum()), dtype=bool)
    only_idle[np.concatenate([[0], np.cumsum(nvec)[:-1]])] = True
    agent.on_reset(env, obs, {"action_mask": only_idle})
    assert np.all(agent.predict(obs, deterministic=False)[0] == 0)


def test_predict_rejects_wrong_observation_and_mask_shapes(env):
    agent = PDPPO(env, seed=0, **FAST)
    obs, _ = env.reset(seed=0)
    with pytest.raises(ValueError, match="observation must have shape"):
        agent.predict(obs[:-1])
    with pytest.raises(ValueError, match="action_masks must have"):
        agent.predict(obs, action_masks=np.ones(3, dtype=bool))


@pytest.mark.parametrize("dual_critic", [True, False])
def test_save_load_round_trip_gives_identical_predictions(env, tmp_path, dual_critic):
    agent = PDPPO(env, seed=3, dual_critic=dual_critic, **FAST).learn(100)
    path = tmp_path / "pdppo.pt"
    agent.save(path)
    observations = np.stack([env.reset(seed=s)[0] for s in range(6)])
    mask = np.stack([env.unwrapped.action_masks()] * 6)
    expected, _ = agent.predict(observations, action_masks=mask)
    for env_arg in (None, env):
        loaded = PDPPO.load(path, env=env_arg)
        assert loaded.hyperparameters == agent.hyperparameters
        assert loaded.num_timesteps == agent.num_timesteps and loaded.episode_log == agent.episode_log
        np.testing.assert_array_equal(loaded.predict(observations, action_masks=mask)[0], expected)
    PDPPO.load(path, env=env).learn(100)  # a loaded agent keeps training


def test_load_rejects_an_env_with_other_spaces(env, tmp_path):
    path = tmp_path / "pdppo.pt"
    PDPPO(env, seed=0, **FAST).save(path)
    with pytest.raises(ValueError, match="do not match"):
        PDPPO.load(path, env=gym.make("gauntlet/LotSizing-25x15-v0"))


def test_same_seed_gives_identical_weights_and_episodes(env):
    runs = [PDPPO(gym.make(ENV_ID), seed=7, **FAST).learn(200) for _ in range(2)]
    other = PDPPO(gym.make(ENV_ID), seed=8, **FAST).learn(200)
    first, second = (_weights(a) for a in runs)
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert runs[0].episode_log == runs[1].episode_log
    assert not all(torch.equal(first[k], _weights(other)[k]) for k in first)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"gamma": 1.5}, "gamma=1.5 is out of range"),
        ({"gae_lambda": -0.1}, "gae_lambda=-0.1 is out of range"),
        ({"clip_range": 0.0}, "clip_range=0.0 is out of range"),
        ({"n_epochs": 0}, "n_epochs=0 is out of range"),
        ({"actor_lr": -1e-3}, "actor_lr=-0.001 is out of range"),
        ({"critic_lr": 0.0}, "critic_lr=0.0 is out of range"),
        ({"n_steps": 0}, "n_steps=0 is out of range"),
        ({"ent_coef": -0.1}, "ent_coef=-0.1 is out of range"),
        ({"n_envs": 0}, "n_envs=0 is out of range"),
        ({"hidden_sizes": ()}, "hidden_sizes=\\[\\] is out of range"),
        ({"n_steps": 100, "batch_size": 101}, "batch_size=101 is out of range"),
        ({"advantage": "textbook"}, "advantage='textbook' is not known; allowed: 'authors', 'post-decision'"),
        ({"dual_critic": False, "advantage": "post-decision"}, "with dual_critic=False only 'authors'"),
    ],
)
def test_invalid_arguments_raise_value_error(env, kwargs, message):
    with pytest.raises(ValueError, match=message):
        PDPPO(env, **kwargs)


def test_rejects_envs_without_multidiscrete_actions():
    with pytest.raises(ValueError, match="MultiDiscrete"):
        PDPPO(gym.make("CartPole-v1"))


def test_learn_arguments_are_checked(env):
    agent = PDPPO(env, seed=0, **FAST)
    for budget in (0, -1):
        with pytest.raises(ValueError, match=f"total_timesteps={budget} is out of range; allowed: an integer >= 1"):
            agent.learn(budget)

    class Noop(BaseCallback):
        def _on_step(self) -> bool:
            return True

    with pytest.raises(TypeError, match="BaseCallback objects are not supported"):
        agent.learn(100, callback=Noop())


def test_callback_receives_stats_and_can_stop_training(env):
    seen: list[dict] = []

    def stop_after_first(stats: dict) -> bool:
        seen.append(stats)
        return False

    agent = PDPPO(env, seed=0, **FAST).learn(1000, callback=stop_after_first)
    assert agent.num_timesteps == 100 and len(seen) == 1
    stats = seen[0]
    assert stats["num_timesteps"] == 100
    assert stats["episode_cost_mean"] == pytest.approx(-agent.episode_log[0][1])
    assert {"actor_loss", "critic_loss", "critic_post_loss", "entropy", "approx_kl"} <= stats.keys()


def test_rollouts_cut_inside_episodes_bootstrap_with_the_post_decision_state(env):
    agent = PDPPO(env, seed=0, n_steps=30, n_epochs=1, hidden_sizes=(16,)).learn(120)
    assert agent.num_timesteps == 120 and [t for t, _ in agent.episode_log] == [100]


def test_collects_from_the_native_vector_env(env):
    agent = PDPPO(env, seed=0, n_envs=2, n_steps=110, n_epochs=1, hidden_sizes=(16,)).learn(200)
    assert type(agent._vec).__name__ == "LotSizingVectorEnv"
    # NEXT_STEP autoreset: the step after an episode end only resets, so 2 x 109 real steps.
    assert agent.num_timesteps == 218
    assert [t for t, _ in agent.episode_log] == [200, 200]


def test_tensorboard_scalars_are_written(env, tmp_path):
    PDPPO(env, seed=0, tensorboard_log=str(tmp_path), **FAST).learn(100, progress_bar=True)
    runs = list(tmp_path.iterdir())
    assert [r.name for r in runs] == ["PDPPO_1"]
    assert any(f.name.startswith("events.out.tfevents") for f in runs[0].iterdir())


def test_gae_with_lambda_one_is_return_minus_value_and_stops_at_episode_ends():
    rewards = np.array([[1.0], [1.0]])
    values = np.array([[0.0], [0.0]])
    # Bootstrapped from last_values = 2: delta_1 = 1 + 0.5 * 2 = 2, A_0 = 1 + 0.5 * 0.5 * 2.
    np.testing.assert_allclose(gae(rewards, values, np.array([2.0]), np.zeros((2, 1)), 0.5, 0.5), [[1.5], [2.0]])
    # An episode end after step 0 stops both bootstrap and the GAE trace.
    np.testing.assert_allclose(gae(rewards, values, np.array([2.0]), np.array([[1.0], [0.0]]), 0.5, 0.5), [[1.0], [2.0]])


# A hand-made buffer: one copy, three steps, the episode ends at the last one (no bootstrap).
GAMMA = 0.5
WHOLE = np.array([[0.0], [2.0], [1.0]])  # r_t: the whole reward
SETUP = np.array([[-1.0], [0.0], [-2.0]])  # r^x_t = -setup_t
V = np.array([[3.0], [1.0], [1.5]])  # V(s_t)
VX = np.array([[-3.0], [-1.0], [0.0]])  # V^x(s^x_t)
DONES = np.array([[0.0], [0.0], [1.0]])
UNUSED = np.array([100.0])
# R = [0 + .5 * (2 + .5 * 1), 2 + .5 * 1, 1] = [1.25, 2.5, 1]
# R^x = [-1 + .5 * (0 + .5 * -2), 0 + .5 * -2, -2] = [-1.5, -1, -2]


def test_authors_advantage_is_the_max_of_the_whole_and_the_setup_stream():
    adv, returns, post_returns = pdppo_advantages(WHOLE, SETUP, V, VX, UNUSED, UNUSED, DONES, GAMMA, 1.0, "authors")
    # R - V = [-1.75, 1.5, -0.5];  R^x - V^x = [1.5, 0, -2]
    np.testing.assert_allclose(adv, [[1.5], [1.5], [-0.5]])
    np.testing.assert_allclose(returns, [[1.25], [2.5], [1.0]])
    np.testing.assert_allclose(post_returns, [[-1.5], [-1.0], [-2.0]])


def test_post_decision_advantage_is_setup_reward_plus_post_value_minus_value():
    adv, returns, post_returns = pdppo_advantages(WHOLE, SETUP, V, VX, UNUSED, None, DONES, GAMMA, 1.0, "post-decision")
    np.testing.assert_allclose(adv, [[-1 - 3 - 3.0], [0 - 1 - 1.0], [-2 + 0 - 1.5]])
    np.testing.assert_allclose(returns, [[1.25], [2.5], [1.0]])
    np.testing.assert_allclose(post_returns, [[2.25], [2.5], [3.0]])  # V^x fits R - r^x


def test_one_critic_advantage_is_the_whole_return_minus_the_post_decision_value():
    adv, returns, post_returns = pdppo_advantages(WHOLE, SETUP, None, VX, None, UNUSED, DONES, GAMMA, 1.0)
    assert returns is None
    np.testing.assert_allclose(adv, [[4.25], [3.5], [1.0]])
    np.testing.assert_allclose(post_returns, [[1.25], [2.5], [1.0]])


def test_advantages_bootstrap_a_rollout_cut_inside_an_episode():
    whole, setup, v, vx, not_done = [[1.0]], [[-1.0]], [[0.5]], [[2.0]], [[0.0]]
    args = [np.array(x) for x in (whole, setup, v, vx)]
    adv, returns, post_returns = pdppo_advantages(*args, np.array([4.0]), np.array([6.0]), np.array(not_done), GAMMA, 1.0)
    # R = 1 + .5 * 4 = 3, R - V = 2.5;  R^x = -1 + .5 * 6 = 2, R^x - V^x = 0
    np.testing.assert_allclose(adv, [[2.5]])
    np.testing.assert_allclose(returns, [[3.0]])
    np.testing.assert_allclose(post_returns, [[2.0]])
    adv, returns, post_returns = pdppo_advantages(*args, np.array([4.0]), None, np.array(not_done), GAMMA, 1.0, "post-decision")
    np.testing.assert_allclose(adv, [[-1 + 2 - 0.5]])
    np.testing.assert_allclose(returns, [[3.0]])
    np.testing.assert_allclose(post_returns, [[4.0]])


def test_unknown_advantages_are_rejected():
    with pytest.raises(ValueError, match=r"advantage='max' is not known; allowed: 'authors', 'post-decision'"):
        pdppo_advantages(WHOLE, SETUP, V, VX, UNUSED, UNUSED, DONES, GAMMA, 1.0, "max")
    with pytest.raises(ValueError, match="needs V"):
        pdppo_advantages(WHOLE, SETUP, None, VX, None, UNUSED, DONES, GAMMA, 1.0, "post-decision")


def test_both_reward_streams_share_one_scale_the_whole_returns_std(env):
    agent = PDPPO(env, seed=0, **FAST)
    agent._discounted = np.zeros(1)
    rewards = np.array([[[-10.0, -4.0]], [[-20.0, 0.0]]])  # (T, N, [whole, setup part])
    scaled = agent._scale_rewards(rewards, np.zeros((2, 1)), np.ones((2, 1), bool))
    # Discounted whole returns -10 and -10 * 0.9 - 20 = -29: one std for both streams.
    assert agent._return_stats.var == pytest.approx(np.var([-10.0, -29.0]), rel=1e-3)
    np.testing.assert_allclose(scaled, rewards / np.sqrt(agent._return_stats.var + 1e-8))


def test_progress_bar_ends_at_the_budget_and_num_timesteps_counts_the_steps_done(env, progress_bars):
    from gauntlet.agents import pdppo

    bars = progress_bars(pdppo)
    agent = PDPPO(env, seed=0, **FAST).learn(150, progress_bar=True)
    assert agent.num_timesteps == 200  # two whole rollouts of 100 steps
    assert [(bar.completed, bar._total) for bar in bars] == [(150, 150)]
    agent.learn(30, progress_bar=True)  # a second call continues the count
    assert agent.num_timesteps == 300 and bars[1].completed == 30


def test_saved_file_loads_with_torch_weights_only(env, tmp_path):
    path = tmp_path / "agent.pt"
    PDPPO(env, seed=0, **FAST).save(path)
    assert torch.load(path, weights_only=True)["format"] == "gauntlet-pdppo/2"


def test_files_of_the_earlier_pdppo_are_refused_with_a_reason(env, tmp_path):
    path = tmp_path / "agent.pt"
    PDPPO(env, seed=0, **FAST).save(path)
    data = torch.load(path, weights_only=True)
    torch.save({**data, "format": "gauntlet-pdppo/1"}, path)
    with pytest.raises(ValueError, match="earlier PDPPO .* retrain it"):
        PDPPO.load(path)
