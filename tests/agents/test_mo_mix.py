import numpy as np
import pytest
import torch

import gauntlet
from gauntlet.agents.mo_mix import MOMIX, ExplorationGuide, non_dominated
from gauntlet.agents.qmix import EPYMARL_QMIX, QMixer
from gauntlet.baselines.mo_coop import IQLScalarized, OuterLoopQMIX, RandomJointAgent

TINY = dict(n_worlds=4, batch_episodes=2, buffer_episodes=20, epsilon_anneal_steps=200)


@pytest.fixture
def env():
    return gauntlet.make_parallel("gauntlet/MOCoopNavigation-v0", max_cycles=10)


def _assert_monotone(mixer, n_agents, state_dim):
    torch.manual_seed(0)
    qs = torch.randn(64, n_agents, requires_grad=True)
    mixer(qs, torch.randn(64, state_dim)).sum().backward()
    assert (qs.grad >= 0).all(), "Q_tot must not decrease when any agent's Q increases"
    assert (qs.grad > 0).any()


def test_qmix_mixer_is_monotone_in_every_agent_q():
    mixer = QMixer(state_dim=7, n_agents=3, embed_dim=32, hypernet_embed=64)
    _assert_monotone(mixer, 3, 7)


def test_mo_mix_mixers_are_monotone_in_every_agent_q_for_every_objective(env):
    agent = MOMIX(env, seed=0, **TINY)
    agent.learn(200)  # trained weights, not only the initial ones
    core = agent.core
    assert len(core.mixers) == env.reward_dim == 2
    for mixer in core.mixers:
        _assert_monotone(mixer, 3, env.state_space.shape[0] + env.reward_dim)
    # through the whole pipeline too: each joint value grows with every agent's chosen value
    obs = torch.randn(16, 3, env.observation_space("agent_0").shape[0])
    w = torch.rand(16, 2)
    q = core.q_values(obs, w).gather(2, torch.zeros(16, 3, 1, 2, dtype=torch.long)).squeeze(2).detach().requires_grad_(True)
    for k in range(2):
        grad, = torch.autograd.grad(core.mix(q, torch.randn(16, env.state_space.shape[0]), w, core.mixers)[:, k].sum(), q)
        assert (grad[..., k] >= 0).all() and (grad[..., 1 - k] == 0).all(), "objective k's mixer reads only objective k"


def test_agent_network_sees_the_preference(env):
    core = MOMIX(env, seed=0, **TINY).core
    obs = torch.randn(1, 3, env.observation_space("agent_0").shape[0])
    a = core.q_values(obs, torch.tensor([[1.0, 0.0]]))
    b = core.q_values(obs, torch.tensor([[0.0, 1.0]]))
    assert a.shape == (1, 3, 5, 2) and not torch.allclose(a, b)


def test_non_dominated_and_the_guide_on_a_hand_made_front():
    pts = np.array([[0.0, 10.0], [1.0, 9.0], [2.0, 8.0], [10.0, 0.0], [1.0, 1.0]])
    np.testing.assert_array_equal(non_dominated(pts), [True, True, True, True, False])
    guide = ExplorationGuide(2, guide_prob=1.0, archive=10, rng=np.random.default_rng(0))
    weights = np.array([[0.0, 1.0], [0.1, 0.9], [0.2, 0.8], [1.0, 0.0], [0.5, 0.5]])
    guide.record(weights, pts)
    # (10, 0) is the isolated point; its nearest front neighbour is (2, 8)
    first, second = guide.sparse_pair()
    np.testing.assert_array_equal(first, [1.0, 0.0])
    np.testing.assert_array_equal(second, [0.2, 0.8])
    samples = guide.sample(100)
    assert np.allclose(samples.sum(1), 1.0) and (samples[:, 0] >= 0.2 - 1e-12).all()


def test_guide_falls_back_to_uniform_preferences_without_a_front():
    guide = ExplorationGuide(3, guide_prob=1.0, archive=10, rng=np.random.default_rng(0))
    samples = guide.sample(50)
    assert samples.shape == (50, 3) and np.allclose(samples.sum(1), 1.0) and samples.std(0).min() > 0.1


def test_learn_is_reproducible_and_save_load_round_trips(env, tmp_path):
    a, b = MOMIX(env, seed=3, **TINY), MOMIX(env, seed=3, **TINY)
    a.learn(240)
    b.learn(240)
    assert a.num_timesteps == 240 and a.core.updates > 0
    for pa, pb in zip(a.core.parameters(), b.core.parameters()):
        torch.testing.assert_close(pa, pb, rtol=0, atol=0)
    a.save(tmp_path / "m.pt")
    c = MOMIX.load(tmp_path / "m.pt", env=env)
    assert c.num_timesteps == 240 and c.guide_prob == a.guide_prob
    obs, info = env.reset(seed=5, options={"weights": [0.2, 0.8]})
    for agent in (a, c):
        agent.on_reset(env, obs, info)
    np.testing.assert_array_equal(c.weights, [0.2, 0.8])
    actions, _ = c.predict(obs)
    assert actions == a.predict(obs)[0] and set(actions) == set(env.agents)
    assert all(0 <= v < 5 for v in actions.values())
    OuterLoopQMIX(env, **TINY).save(tmp_path / "o.pt")
    with pytest.raises(ValueError, match="holds 'OuterLoopQMIX' weights, not 'MOMIX'"):
        MOMIX.load(tmp_path / "o.pt", env=env)


def test_tensorboard_log(env, tmp_path):
    MOMIX(env, seed=0, tensorboard_log=str(tmp_path), **TINY).learn(400)
    assert list(tmp_path.glob("MOMIX_1/events.*"))


def test_outer_loop_qmix_trains_one_qmix_per_weight_and_acts_with_the_nearest(env, tmp_path):
    agent = OuterLoopQMIX(env, seed=0, weights=[[1.0, 0.0], [0.0, 1.0]], **TINY)
    agent.learn(400)
    assert agent.num_timesteps == 400 and all(c.updates > 0 for c in agent.cores)
    assert agent._core_for(np.array([0.9, 0.1])) is agent.cores[0]
    assert agent._core_for(np.array([0.2, 0.8])) is agent.cores[1]
    assert all(not c.conditioned and len(c.mixers) == 1 and c.q_dim == 1 for c in agent.cores)
    agent.save(tmp_path / "o.pt")
    clone = OuterLoopQMIX.load(tmp_path / "o.pt", env=env)
    np.testing.assert_array_equal(clone.weight_set, agent.weight_set)
    with pytest.raises(ValueError, match="weights=.* is invalid"):
        OuterLoopQMIX(env, weights=[[1.0, 0.0, 0.0]])


def test_iql_has_no_mixer_and_random_moves_every_live_agent(env):
    iql = IQLScalarized(env, seed=0, **TINY)
    iql.learn(200)
    assert len(iql.cores[0].mixers) == 0 and iql.cores[0].conditioned
    obs, _ = env.reset(seed=0)
    actions, _ = RandomJointAgent(env, seed=0).predict(obs)
    assert set(actions) == set(env.agents)


def test_epymarl_settings_and_bad_arguments(env):
    assert EPYMARL_QMIX["lr"] == 5e-4 and EPYMARL_QMIX["target_update_interval"] == 200
    assert EPYMARL_QMIX["mixing_embed_dim"] == 32 and EPYMARL_QMIX["hypernet_embed"] == 64
    with pytest.raises(ValueError, match="n_worlds=0 is out of range"):
        MOMIX(env, n_worlds=0)
    with pytest.raises(ValueError, match="guide_prob=2 is out of range"):
        MOMIX(env, guide_prob=2)
    with pytest.raises(ValueError, match="needs a MOCoop env"):
        MOMIX(object())
    with pytest.raises(ValueError, match="load needs env="):
        MOMIX.load("x.pt")
