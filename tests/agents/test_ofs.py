import numpy as np
import pytest

from gauntlet.agents.ofs import OFS, cost_vector
from gauntlet.envs.fair_threshold.env import FairThresholdEnv


def play(agent, env, rounds, seed):
    obs, info = env.reset(seed=seed)
    agent.on_reset(env, obs, info)
    arms, infos = [], []
    for _ in range(rounds):
        action, _ = agent.predict(obs)
        obs, reward, terminated, truncated, info = env.step(action)
        agent.on_step(obs, reward, terminated, truncated, info)
        arms.append(int(action))
        infos.append(info)
    return np.array(arms), infos


def expected_dp(env, arm):
    probe = FairThresholdEnv(**env.config)
    probe.reset(seed=0)
    return probe.step(arm)[4]["expected_cost"]["dp"]


def test_ofs_settles_on_a_feasible_threshold_when_the_unconstrained_optimum_is_infeasible():
    # Synthetic benchmark, 11 thresholds: tau = 0.5 maximizes reward but violates DP (eps = 0.1).
    env = FairThresholdEnv(n_thresholds=11, horizon=1500)
    rewards = []
    for arm in range(11):
        probe = FairThresholdEnv(**env.config)
        probe.reset(seed=0)
        rewards.append(probe.step(arm)[4]["expected_reward"])
    unconstrained = int(np.argmax(rewards))
    assert env.thresholds[unconstrained] == 0.5 and expected_dp(env, unconstrained) > 0

    arms, _ = play(OFS(env, seed=0), env, 1500, seed=100)
    modal = int(np.bincount(arms[-300:]).argmax())
    assert expected_dp(env, modal) <= 0.0
    assert np.mean(arms[-300:] == unconstrained) < 0.05


def test_every_threshold_is_tried_once_first():
    env = FairThresholdEnv(n_thresholds=11)
    arms, _ = play(OFS(env, seed=3), env, 11, seed=0)
    assert sorted(arms) == list(range(11))


def test_same_seed_same_choices_and_seed_changes_tie_breaking():
    env = FairThresholdEnv(n_thresholds=11)
    a, _ = play(OFS(env, seed=1), env, 200, seed=5)
    b, _ = play(OFS(env, seed=1), env, 200, seed=5)
    c, _ = play(OFS(env, seed=2), env, 200, seed=5)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[:11], c[:11])


def test_bounds_are_optimistic_and_shrink_with_data():
    env = FairThresholdEnv(n_thresholds=5)
    agent = OFS(env, seed=0)
    agent.last_arm = 2
    agent.update(0.6, {"dp": 0.05})
    mean, ucb, cost_mean, lcb = agent.bounds()
    assert np.isnan(mean[0]) and ucb[0] == np.inf and lcb[0, 0] == -np.inf
    assert mean[2] == 0.6 and ucb[2] > 0.6 and cost_mean[2, 0] == 0.05 and lcb[2, 0] < 0.05
    width = ucb[2] - mean[2]
    for _ in range(50):
        agent.last_arm = 2
        agent.update(0.6, {"dp": 0.05})
    mean, ucb, _, _ = agent.bounds()
    assert ucb[2] - mean[2] < width


def test_falls_back_to_least_optimistic_violation():
    env = FairThresholdEnv(n_thresholds=3, rho=0.5)
    agent = OFS(env, seed=0, confidence=0.0)
    for arm, cost in enumerate(({"dp": 0.3, "service": -0.5}, {"dp": 0.1, "service": 0.05}, {"dp": 0.2, "service": 0.5})):
        agent.last_arm = arm
        agent.update(0.9 - 0.1 * arm, cost)
    assert agent.select() == 1


def test_prefers_highest_ucb_among_optimistically_feasible():
    env = FairThresholdEnv(n_thresholds=3)
    agent = OFS(env, seed=0, confidence=0.0)
    for arm, (reward, dp) in enumerate(((0.5, -0.1), (0.7, 0.2), (0.6, -0.01))):
        agent.last_arm = arm
        agent.update(reward, {"dp": dp})
    assert agent.select() == 2


def test_learn_save_load_roundtrip(tmp_path):
    env = FairThresholdEnv(n_thresholds=11, horizon=50)
    agent = OFS(env, seed=4).learn(120)
    assert agent.t == 120 and agent.counts.sum() == 120
    agent.save(tmp_path / "ofs.json")
    clone = OFS.load(tmp_path / "ofs.json", env=env)
    for name in ("counts", "reward_sum", "reward_sq", "cost_sum", "cost_sq"):
        np.testing.assert_array_equal(getattr(clone, name), getattr(agent, name))
    assert [clone.select() for _ in range(5)] == [agent.select() for _ in range(5)]
    with pytest.raises(ValueError, match="needs env="):
        OFS.load(tmp_path / "ofs.json")


def test_learn_callback_can_stop():
    env = FairThresholdEnv(n_thresholds=5)
    agent = OFS(env, seed=0).learn(100, callback=lambda local, glob: local["step"] < 9)
    assert agent.t == 10


def test_continuous_action_space_uses_a_grid():
    env = FairThresholdEnv(continuous=True)
    agent = OFS(env, seed=0, n_grid=11)
    action, state = agent.predict(np.zeros(14, dtype=np.float32))
    assert action.shape == (1,) and action.dtype == np.float32 and env.action_space.contains(action)
    assert state is None
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(action)
    agent.on_step(obs, reward, terminated, truncated, info)
    assert agent.counts.sum() == 1 and agent.reward_sum.sum() == reward


def test_update_errors():
    env = FairThresholdEnv(n_thresholds=5, rho=0.2)
    agent = OFS(env, seed=0)
    with pytest.raises(RuntimeError, match="before predict"):
        agent.update(0.5, {"dp": 0.0, "service": 0.0})
    agent.predict(None)
    with pytest.raises(ValueError, match="expected 2"):
        agent.update(0.5, {"dp": 0.0})


@pytest.mark.parametrize("kwargs, match", [({"confidence": -1.0}, "confidence=-1.0"), ({"min_std": 0.0}, "min_std=0.0")])
def test_bad_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        OFS(FairThresholdEnv(), **kwargs)


def test_cost_vector_accepts_dicts_floats_and_sequences():
    np.testing.assert_array_equal(cost_vector({"dp": 0.1, "service": -0.2}), [0.1, -0.2])
    np.testing.assert_array_equal(cost_vector(0.3), [0.3])
    np.testing.assert_array_equal(cost_vector([0.1, 0.2]), [0.1, 0.2])


def test_tensorboard_logging(tmp_path):
    env = FairThresholdEnv(n_thresholds=5)
    OFS(env, seed=0, tensorboard_log=str(tmp_path), log_interval=10).learn(20)
    assert any(p.name.startswith("events.out.tfevents") for p in (tmp_path / "OFS_1").iterdir())


def test_num_timesteps_counts_learning_rounds_and_the_bar_ends_there(progress_bars):
    from gauntlet.agents import ofs

    bars = progress_bars(ofs)
    env = FairThresholdEnv(n_thresholds=5, horizon=20)
    agent = OFS(env, seed=0).learn(37, progress_bar=True)
    assert agent.num_timesteps == 37 and (bars[0].completed, bars[0]._total) == (37, 37)
    agent.learn(50, progress_bar=True, callback=lambda local, glob: local["step"] < 9)
    assert agent.num_timesteps == 47 and bars[1].completed == 10
    play(agent, env, 5, seed=1)  # evaluation rounds are credited (t) but are not training steps
    assert agent.t == 52 and agent.num_timesteps == 47


def test_num_timesteps_survives_save_and_load(tmp_path):
    env = FairThresholdEnv(n_thresholds=5, horizon=20)
    OFS(env, seed=0).learn(25).save(tmp_path / "ofs.json")
    assert OFS.load(tmp_path / "ofs.json", env=env).num_timesteps == 25
