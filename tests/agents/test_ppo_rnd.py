"""PPO + RND: the intrinsic reward reaches the rollout buffer, the predictor learns, seeds make
training reproducible, and the SB3-shaped API (save/load, TensorBoard) works."""

import glob

import gymnasium as gym
import numpy as np
import pytest
import torch as th

import gauntlet  # noqa: F401  (registers the ids)
from gauntlet.agents.ppo_rnd import PPORND, RNDNetworks

SMALL = dict(n_steps=64, batch_size=32, n_epochs=1)


def zero_reward_env(max_steps=1000):
    return gym.wrappers.TransformReward(gym.make("gauntlet/AGVWarehouse-v1", max_steps=max_steps), lambda r: 0.0)


def test_advantage_combines_extrinsic_and_non_episodic_intrinsic_streams():
    model = PPORND(zero_reward_env(max_steps=10), seed=0, int_coef=1.0, ext_coef=2.0, **SMALL).learn(64)
    buf, intrinsic = model.rollout_buffer, model.intrinsic
    # the buffer keeps the extrinsic rewards (0 here; SB3 adds gamma * V(s_T) at time-limit ends)
    ends = np.append(buf.episode_starts[1:], 0).astype(bool)
    assert (buf.rewards[~ends] == 0).all()
    assert (intrinsic["rewards"] > 0).all() and np.isfinite(intrinsic["rewards"]).all()
    # the raw prediction errors, divided by the running std of the discounted intrinsic return
    assert np.allclose(intrinsic["rewards"], intrinsic["raw_rewards"] / np.sqrt(model.int_rms.var + 1e-8))
    a_ext = buf.returns - buf.values
    assert np.allclose(buf.advantages, 2.0 * a_ext + 1.0 * intrinsic["advantages"], atol=1e-5)
    # non-episodic GAE: A_t = r_t + g V_{t+1} - V_t + g lambda A_{t+1}, also across episode ends
    assert buf.episode_starts[1:].sum() >= 5
    r, v, adv, g, lam = intrinsic["rewards"], intrinsic["values"], intrinsic["advantages"], 0.99, model.gae_lambda
    assert adv[-1] == pytest.approx(r[-1] + g * v[-1] - v[-2], abs=1e-5)
    assert np.allclose(adv[:-1], r[:-1] + g * v[1:-1] - v[:-2] + g * lam * adv[1:], atol=1e-5)
    assert np.allclose(intrinsic["returns"], adv + v[:-1])

    plain = PPORND(zero_reward_env(), seed=0, int_coef=0.0, ext_coef=2.0, **SMALL).learn(64)
    pbuf = plain.rollout_buffer
    assert np.allclose(pbuf.advantages, 2.0 * (pbuf.returns - pbuf.values), atol=1e-5)


def test_predictor_error_drops_on_observations_it_trains_on():
    th.manual_seed(0)
    rnd = RNDNetworks(obs_dim=6)
    seen, unseen = th.randn(256, 6), th.randn(256, 6) + 3.0
    opt = th.optim.Adam(rnd.predictor.parameters(), lr=1e-3)
    before = rnd(seen).mean().item()
    target_before = [p.clone() for p in rnd.target.parameters()]
    for _ in range(200):
        loss = rnd(seen).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert rnd(seen).mean().item() < 0.2 * before
    assert rnd(unseen).mean().item() > rnd(seen).mean().item()  # novelty stays high off-distribution
    assert all(th.equal(a, b) for a, b in zip(target_before, rnd.target.parameters()))  # target is fixed


def test_same_seed_same_training():
    params = []
    for _ in range(2):
        model = PPORND(gym.make("gauntlet/AGVWarehouse-v1"), seed=3, **SMALL).learn(128)
        params.append(th.cat([p.flatten() for p in model.policy.parameters()]))
        params.append(th.cat([p.flatten() for p in model.rnd.predictor.parameters()]))
    assert th.equal(params[0], params[2]) and th.equal(params[1], params[3])


def test_save_load_predict_and_tensorboard(tmp_path):
    env = gym.make("gauntlet/AGVWarehouse-v1")
    model = PPORND(env, seed=0, tensorboard_log=str(tmp_path), **SMALL)
    assert model.learn(128) is model
    obs, _ = env.reset(seed=1)
    action, state = model.predict(obs, deterministic=True)
    assert action.shape == (2,) and state is None
    model.save(tmp_path / "agent.zip")
    loaded = PPORND.load(tmp_path / "agent.zip", env=env)
    assert np.array_equal(loaded.predict(obs, deterministic=True)[0], action)
    assert np.array_equal(loaded.obs_rms.mean, model.obs_rms.mean)
    for a, b in zip([*model.rnd.state_dict().values(), *model.int_critic.state_dict().values()],
                    [*loaded.rnd.state_dict().values(), *loaded.int_critic.state_dict().values()]):
        assert th.equal(a, b)
    assert (loaded.int_coef, loaded.ext_coef) == (model.int_coef, model.ext_coef)
    loaded.learn(64, reset_num_timesteps=False)
    assert loaded.num_timesteps == 192

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = glob.glob(str(tmp_path / "**" / "events.out.tfevents.*"), recursive=True)
    tags = set()
    for path in events:
        acc = EventAccumulator(path)
        acc.Reload()
        tags |= set(acc.Tags()["scalars"])
    assert {"rnd/intrinsic_reward", "rnd/predictor_loss", "rnd/intrinsic_value_loss"} <= tags


def test_user_callbacks_still_run():
    calls = []
    model = PPORND(gym.make("gauntlet/AGVWarehouse-v1"), seed=0, **SMALL)
    model.learn(64, callback=lambda _locals, _globals: calls.append(1) or True)
    assert len(calls) == 64


@pytest.mark.parametrize("kwargs, match", [
    (dict(int_coef=-1.0), "int_coef=-1.0"),
    (dict(ext_coef=0.0), "ext_coef=0.0"),
    (dict(int_gamma=1.0), "int_gamma=1.0"),
    (dict(rnd_update_proportion=0.0), "rnd_update_proportion"),
    (dict(rnd_epochs=0), "rnd_epochs=0"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PPORND(gym.make("gauntlet/AGVWarehouse-v1"), **kwargs)


def test_progress_bar_ends_at_the_budget_and_num_timesteps_counts_whole_rollouts(progress_bars):
    from gauntlet.agents import sb3

    bars = progress_bars(sb3)
    model = PPORND(gym.make("gauntlet/AGVWarehouse-v1"), seed=0, **SMALL).learn(100, progress_bar=True)
    assert model.num_timesteps == 128
    assert [(bar.completed, bar._total) for bar in bars] == [(100, 100)]
