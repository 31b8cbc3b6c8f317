import gymnasium as gym
import numpy as np
import pytest
import torch

import gauntlet  # noqa: F401  (registers the ids)
from gauntlet.agents.lex_dqn import LexDQN, lexicographic_action
from gauntlet.agents.pr_iqn import IQN, EnsembleIQN, PrIQN, preorder_action, preorder_subset, quantile_dominance, quantile_huber_loss

SMALL = dict(learning_starts=50, buffer_size=500, batch_size=8, hidden=16, n_quantiles_act=8, n_quantiles=4,
             target_update_interval=50)


def test_quantile_huber_loss_by_hand():
    taus = torch.tensor([[0.25]])
    pred = torch.zeros(1, 1, 1)
    # u = 2 > kappa: huber 2 - 0.5 = 1.5, weight |0.25 - 0|; u = -0.5: huber 0.125, weight |0.25 - 1|.
    assert quantile_huber_loss(pred, torch.full((1, 1, 1), 2.0), taus).item() == pytest.approx(0.25 * 1.5)
    assert quantile_huber_loss(pred, torch.full((1, 1, 1), -0.5), taus).item() == pytest.approx(0.75 * 0.125)
    # averaged over target samples, summed over levels and objectives
    target = torch.tensor([[[2.0, 0.0], [-0.5, 0.0]]])
    pred2 = torch.zeros(1, 2, 2)
    taus2 = torch.tensor([[0.25, 0.5]])
    expected = (0.25 * 1.5 + 0.75 * 0.125) / 2 + (0.5 * 1.5 + 0.5 * 0.125) / 2
    assert quantile_huber_loss(pred2, target, taus2).item() == pytest.approx(expected)


def test_quantile_dominance_by_hand():
    z = torch.tensor([[1.0, 0.0], [2.0, 2.0], [3.0, 4.0]])  # (n_tau, n_actions)
    qd = quantile_dominance(z)
    assert qd[1, 0].item() == pytest.approx(2 / 3) and qd[0, 1].item() == pytest.approx(2 / 3)
    assert qd[0, 0].item() == 1.0


def _z(*objectives):
    """(1, n_tau, n_actions, n_objectives) from per-objective (n_actions, n_tau) lists."""
    return torch.tensor(objectives, dtype=torch.float32).permute(2, 1, 0).unsqueeze(0)


def test_preorder_subset_removes_dominated_actions_objective_by_objective():
    safety = [[-10, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    efficiency = [[5, 5, 5, 5], [1, 1, 1, 1], [2, 2, 2, 2]]
    comfort = [[0, 0, 0, 0], [0, 0, 0, 0], [-1, -1, -1, -1]]
    z = _z(safety, efficiency, comfort)
    # safety removes action 0 (action 1 and 2 are at least as good everywhere, better at one
    # level); the equal actions 1 and 2 do not remove each other; efficiency then keeps 2.
    assert preorder_subset(z, (0, 1, 2), eps=0.0).tolist() == [[False, False, True]]
    assert preorder_action(z, (0, 1, 2), eps=0.0).item() == 2
    # by efficiency first, action 0 dominates every other: it survives alone
    assert preorder_subset(z, (1, 0, 2), eps=0.0).tolist() == [[True, False, False]]
    # one objective: plain argmax of the mean
    assert preorder_action(z, (1,), eps=0.0).item() == 0


def test_eps_loosens_dominance():
    safety = [[0, 1, 2, 3], [1, 2, 3, 2]]  # action 1 is higher at 3 of 4 levels
    efficiency = [[9, 9, 9, 9], [0, 0, 0, 0]]
    z = _z(safety, efficiency)
    assert preorder_subset(z, (0, 1), eps=0.0).tolist() == [[True, True]]
    assert preorder_subset(z, (0, 1), eps=0.25).tolist() == [[False, True]]


def test_a_dominance_cycle_keeps_the_set():
    # with eps = 1/3 (2 of 3 levels): b beats a, c beats b, a beats c
    safety = [[0, 1, 5], [1, 2, 0], [2, 0, 1]]
    efficiency = [[3, 3, 3], [2, 2, 2], [1, 1, 1]]
    z = _z(safety, efficiency)
    assert preorder_subset(z, (0, 1), eps=1 / 3).tolist() == [[True, True, True]]
    assert preorder_action(z, (0, 1), eps=1 / 3).item() == 0


def test_learn_predict_save_load_and_tensorboard(tmp_path):
    env = gym.make("gauntlet/Driving-Highway-Low-v0")
    agent = PrIQN(env, seed=1, tensorboard_log=str(tmp_path / "tb"), **SMALL)
    assert agent.preorder == (0, 1, 2)
    agent.learn(120)
    assert agent.num_timesteps == 120
    obs, _ = env.reset(seed=3)
    action, _ = agent.predict(obs)
    assert env.action_space.contains(action)
    batch, _ = agent.predict(np.stack([obs, obs]))
    assert batch.shape == (2,)
    agent.save(tmp_path / "w.pt")
    loaded = PrIQN.load(tmp_path / "w.pt", env=env)
    assert loaded.num_timesteps == 120 and loaded.predict(obs)[0] == action
    with torch.no_grad():
        taus = torch.rand(2, 5)
        x = torch.as_tensor(np.stack([obs, obs]))
        assert torch.equal(loaded.q_net(x, taus), agent.q_net(x, taus))
    assert any((tmp_path / "tb").rglob("events.out.tfevents.*"))
    with pytest.raises(ValueError, match="not a IQN checkpoint"):
        IQN.load(tmp_path / "w.pt")


def test_iqn_learns_the_scalar_reward_with_one_head():
    env = gym.make("gauntlet/Driving-Curvy-Low-v0")
    agent = IQN(env, seed=0, **SMALL)
    assert agent.preorder == (0,) and agent.q_net.n_objectives == 1
    agent.learn(60)
    with pytest.raises(ValueError, match="scalar reward"):
        IQN(gym.make("gauntlet/mo-Driving-v0"), **SMALL).learn(5)


def test_same_seed_same_weights():
    env = gym.make("gauntlet/Driving-Highway-Low-v0")
    a = PrIQN(env, seed=4, **SMALL).learn(100)
    b = PrIQN(gym.make("gauntlet/Driving-Highway-Low-v0"), seed=4, **SMALL).learn(100)
    for pa, pb in zip(a.q_net.parameters(), b.q_net.parameters()):
        assert torch.equal(pa, pb)


@pytest.mark.parametrize("kwargs, match", [
    ({"eps": 1.0}, r"eps=1.0 is out of range"),
    ({"preorder": (0, 0, 1)}, r"preorder=\(0, 0, 1\) is invalid; allowed: a permutation of 0..2"),
    ({"n_quantiles": 0}, r"n_quantiles=0 is invalid"),
    ({"gamma": 1.5}, r"gamma=1.5 is out of range"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PrIQN(gym.make("gauntlet/Driving-v0"), **kwargs)
    with pytest.raises(ValueError, match="Discrete action space"):
        PrIQN(gym.make("gauntlet/Driving-v0", action_type="continuous"))


def test_ensemble_iqn_heads_share_the_scalar_reward_and_act_on_their_mean(tmp_path):
    env = gym.make("gauntlet/Driving-Highway-Low-v0")
    agent = EnsembleIQN(env, seed=0, n_members=3, **SMALL).learn(80)
    assert agent.q_net.n_objectives == 3
    obs, _ = env.reset(seed=0)
    with torch.no_grad():
        z = agent.q_net(torch.as_tensor(obs[None]), agent._grid)
    assert agent.predict(obs)[0] == int(z.mean(dim=(1, 3)).argmax())
    agent.save(tmp_path / "e.pt")
    assert EnsembleIQN.load(tmp_path / "e.pt").n_members == 3
    with pytest.raises(ValueError, match="n_members=1 is invalid"):
        EnsembleIQN(env, n_members=1)


def test_lexicographic_action_with_slack_by_hand():
    # (batch 1, 3 actions, 2 objectives): safety 0, -0.03, -1; efficiency 1, 5, 9
    q = torch.tensor([[[0.0, 1.0], [-0.03, 5.0], [-1.0, 9.0]]])
    assert lexicographic_action(q, (0, 1), slack=0.04).item() == 1
    assert lexicographic_action(q, (0, 1), slack=0.0).item() == 0
    assert lexicographic_action(q, (0, 1), slack=2.0).item() == 2
    assert lexicographic_action(q, (1, 0), slack=0.04).item() == 2


def test_lex_dqn_learns_the_reward_vector(tmp_path):
    env = gym.make("gauntlet/mo-Driving-Curvy-Low-v0")
    agent = LexDQN(env, seed=0, **SMALL).learn(80)
    assert agent.q_net.n_objectives == 3 and agent.num_timesteps == 80
    obs, _ = env.reset(seed=1)
    agent.save(tmp_path / "l.pt")
    assert LexDQN.load(tmp_path / "l.pt").predict(obs)[0] == agent.predict(obs)[0]
    with pytest.raises(ValueError, match="slack=-1"):
        LexDQN(env, slack=-1.0)
