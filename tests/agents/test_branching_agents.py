import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pyscipopt")
torch = pytest.importorskip("torch")

from gauntlet.agents.gcnn import (  # noqa: E402
    BipartiteGCN,
    GCNNImitation,
    HalfConvolution,
    Sample,
    best_candidates,
    collate,
    is_informative,
    load_samples,
    save_samples,
)
from gauntlet.agents.revibranch import (  # noqa: E402
    ReviBranch,
    Transition,
    depth_encoding,
    large_margin_loss,
    revive,
    tree_targets,
)

ROOT = Path(__file__).resolve().parents[2]


def fake_sample(rng, n_vars=7, n_rows=4, n_edges=12, n_cands=3, target=1, group=0):
    scores = rng.random(n_cands)
    scores[target] = 2.0  # the expert's choice has the best score
    return Sample(
        rng.standard_normal((n_vars, 19)).astype(np.float32), rng.standard_normal((n_rows, 5)).astype(np.float32),
        np.stack([rng.integers(0, n_rows, n_edges), rng.integers(0, n_vars, n_edges)]),
        rng.standard_normal((n_edges, 1)).astype(np.float32), rng.choice(n_vars, n_cands, replace=False),
        target, scores, group,
    )


def test_gcnn_forward_shapes():
    rng = np.random.default_rng(0)
    samples = [fake_sample(rng, n_vars=7, n_cands=3), fake_sample(rng, n_vars=5, n_rows=6, n_cands=2)]
    g = collate(samples)
    net = BipartiteGCN(emb=16).eval()
    assert net.embed(g).shape == (12, 16)
    assert net(g).shape == (5,)
    assert g.cand_graph.tolist() == [0, 0, 0, 1, 1]
    assert int(g.edge_index[1].max()) < 12 and int(g.edge_index[0].max()) < 10


@pytest.mark.skipif(not (shutil.which("g++") or shutil.which("clang++")), reason="torch.compile needs a C++ compiler")
def test_compiled_messages_match_the_eager_model():
    rng = np.random.default_rng(0)
    samples = [fake_sample(rng, n_edges=10 + 3 * i) for i in range(3)]
    torch.manual_seed(0)
    eager = BipartiteGCN(16)
    compiled = BipartiteGCN(16)
    compiled.load_state_dict(eager.state_dict())
    compiled.compile_messages()
    for batch in (samples, samples[:2]):  # a second edge count must not need another model
        g = collate(batch)
        torch.testing.assert_close(compiled(g), eager(g))
    compiled(collate(samples)).sum().backward()
    assert compiled.conv_c_to_v.final_norm.weight.grad is not None


def test_half_convolution_sums_messages_like_the_paper():
    torch.manual_seed(0)
    conv = HalfConvolution(emb=8)
    target, source = torch.randn(3, 8), torch.randn(4, 8)
    t_idx, s_idx = torch.tensor([0, 0, 2, 1, 2]), torch.tensor([1, 3, 0, 0, 2])
    edge = torch.randn(5, 1)
    out = conv(target, source, t_idx, s_idx, edge)
    # the paper applies the final linear layer per edge before summing
    msg = conv.final(torch.relu(conv.final_norm(conv.left(target)[t_idx] + conv.edge(edge) + conv.right(source)[s_idx])))
    agg = torch.zeros(3, 8).index_add_(0, t_idx, msg)
    expected = conv.out(torch.cat([conv.post(agg), target], dim=-1))
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)


def test_gcnn_training_steps_reduce_the_loss_on_a_fixed_batch():
    rng = np.random.default_rng(1)
    samples = [fake_sample(rng, target=int(rng.integers(3))) for _ in range(8)]
    agent = GCNNImitation(None, seed=0, batch_size=8, learning_rate=1e-2)
    before = agent.evaluate(samples)["loss"]
    agent.fit(samples, n_epochs=30)
    after = agent.evaluate(samples)
    assert after["loss"] < before
    assert 0.0 <= after["acc@1"] <= after["acc@5"] <= 1.0


class FixedLogits(torch.nn.Module):
    def __init__(self, logits):
        super().__init__()
        self.logits = torch.tensor(logits)

    def forward(self, g):
        return self.logits


def test_tied_best_candidates_all_count_as_agreement():
    rng = np.random.default_rng(2)
    sample = fake_sample(rng, n_cands=4, target=0)
    sample.scores = np.array([2.0, 0.5, 2.0, 1.0])  # both children infeasible for candidates 0 and 2
    assert best_candidates(sample).tolist() == [True, False, True, False]
    agent = GCNNImitation(None, seed=0)
    agent.policy = FixedLogits([0.5, -1.0, -1.0, 0.0])  # top-1: candidate 0
    sample.scores = np.array([1.0, 0.5, 2.0, 2.0])
    assert agent.evaluate([sample])["acc@1"] == 0.0
    sample.scores = np.array([2.0, 0.5, 1.0, 2.0])
    result = agent.evaluate([sample])
    assert result["acc@1"] == 1.0 and result["acc@5"] == 1.0
    p = np.exp([0.5, -1.0, -1.0, 0.0]) / np.exp([0.5, -1.0, -1.0, 0.0]).sum()
    np.testing.assert_allclose(result["loss"], -np.log(p[0] + p[3]), rtol=1e-5)


def test_samples_where_every_candidate_ties_are_not_trained_on():
    rng = np.random.default_rng(3)
    sample = fake_sample(rng, n_cands=3)
    assert is_informative(sample)
    sample.scores = np.full(3, 2.0)
    assert not is_informative(sample)
    sample.scores, sample.target = np.array([1.0, 0.0, 0.0]), -1
    assert not is_informative(sample)
    with pytest.raises(ValueError, match="none of the 1 training samples is informative"):
        GCNNImitation(None, seed=0).fit([sample])


def test_gcnn_collect_predict_save_load(cycles_env, tmp_path):
    agent = GCNNImitation(cycles_env, seed=0, n_epochs=2, batch_size=4)
    samples = agent.collect(cycles_env, 6, seed=0)
    assert len(samples) == 6
    for s in samples:
        assert s.target == int(np.argmax(s.scores)) and len(s.scores) == len(s.candidates)
    path = tmp_path / "samples.npz"
    save_samples(path, samples)
    loaded = load_samples(path)
    assert len(loaded) == 6 and all(np.array_equal(a.candidates, b.candidates) for a, b in zip(samples, loaded))
    # the cycles instances are tiny and often tie every candidate: add states that carry a label
    agent.fit(loaded[:4] + [fake_sample(np.random.default_rng(i)) for i in range(4)], loaded[4:])
    assert len(agent.history) == 2 and "valid/acc@1" in agent.history[-1]
    obs, info = cycles_env.reset(seed=1)
    action, _ = agent.predict(obs)
    assert info["action_mask"][action]
    agent.save(tmp_path / "gcnn.pt")
    again = GCNNImitation.load(tmp_path / "gcnn.pt")
    assert again.predict(obs)[0] == action


def test_gcnn_collect_caps_the_samples_per_instance(cycles_env):
    agent = GCNNImitation(None, seed=0)
    samples = agent.collect(cycles_env, 5, seed=7, max_per_episode=2)
    groups = [s.group for s in samples]
    assert len(samples) == 5 and groups == [7, 7, 8, 8, 9]
    with pytest.raises(ValueError, match="max_per_episode"):
        agent.collect(cycles_env, 5, max_per_episode=0)


def test_gcnn_splits_whole_instances_into_train_validation_and_test():
    samples = [Sample(*([None] * 5), target=0, group=g) for g in range(10) for _ in range(3)]
    agent = GCNNImitation(None, seed=4, valid_fraction=0.2, test_fraction=0.3)
    train, valid, test = agent.split(samples)
    groups = [{s.group for s in part} for part in (train, valid, test)]
    assert [len(g) for g in groups] == [5, 2, 3] and len(train) + len(valid) + len(test) == len(samples)
    assert groups[0].isdisjoint(groups[1]) and groups[0].isdisjoint(groups[2]) and groups[1].isdisjoint(groups[2])
    assert agent.split_groups == {"train": sorted(groups[0]), "valid": sorted(groups[1]), "test": sorted(groups[2])}
    # the validation split is the one the committed models picked their epochs on: the first
    # valid_fraction of one shuffle of the instances, as before the test split existed
    assert groups[1] == set(np.random.default_rng(4).permutation(10)[:2].tolist())
    no_test = GCNNImitation(None, seed=4, valid_fraction=0.2, test_fraction=0.0).split(samples)
    assert {s.group for s in no_test[1]} == groups[1] and not no_test[2]
    # a split is never emptied of training instances
    few = GCNNImitation(None, seed=0, valid_fraction=0.5, test_fraction=0.4).split(samples[:6])
    assert [len({s.group for s in part}) for part in few] == [1, 1, 0]


@pytest.mark.parametrize("kwargs, message", [
    (dict(valid_fraction=1.5), r"valid_fraction=1.5 is out of range; allowed: \(0, 1\)"),
    (dict(test_fraction=-0.1), r"test_fraction=-0.1 is out of range; allowed: \[0, 1\)"),
    (dict(valid_fraction=0.5, test_fraction=0.5), r"test_fraction=0.5 is invalid; allowed: \[0, 1 - valid_fraction\)"),
])
def test_gcnn_rejects_bad_split_fractions(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GCNNImitation(None, **kwargs)


class FakeTrainingStates(GCNNImitation):
    """Collects and holds out real states of the cycles instances, but trains on labelled fake
    ones: the cycles instances tie every candidate too often to train on."""

    def fit(self, train, valid=(), n_epochs=None, callback=None):
        return super().fit([fake_sample(np.random.default_rng(i)) for i in range(4)], valid, n_epochs, callback)


def test_gcnn_learn_records_validation_and_test_agreement(cycles_env, tmp_path):
    agent = FakeTrainingStates(cycles_env, seed=0, n_epochs=1, batch_size=4, valid_fraction=0.34, test_fraction=0.34,
                               tensorboard_log=str(tmp_path / "tb"))
    agent.learn(9)
    assert set(agent.held_out) == {"valid", "test"} and agent.best_epoch == 0
    for split in ("valid", "test"):
        assert agent.held_out[split]["instances"] == len(agent.split_groups[split]) >= 1
        assert 0.0 <= agent.held_out[split]["acc@1"] <= agent.held_out[split]["acc@5"] <= 1.0
    assert [p.name for p in (tmp_path / "tb").iterdir()] == ["GCNN_1"]
    agent.save(tmp_path / "gcnn.pt")
    again = GCNNImitation.load(tmp_path / "gcnn.pt")
    assert again.held_out == agent.held_out and again.split_groups == agent.split_groups and again.best_epoch == 0


@pytest.mark.parametrize("problem", ["setcover", "cauction", "indset", "facility"])
def test_committed_models_load_with_weights_only_and_keep_their_validation_record(problem):
    path = ROOT / "models" / "branching" / f"{problem}_gcnn.pt"
    agent = GCNNImitation.load(path)  # torch.load(weights_only=True)
    raw = torch.load(path, weights_only=False)
    for name, tensor in raw["policy"].items():
        torch.testing.assert_close(agent.policy.state_dict()[name], tensor, rtol=0, atol=0)
    scores = [h["valid/acc@1"] for h in raw["history"]]
    assert agent.best_epoch == scores.index(max(scores))  # fit() kept the first best epoch
    assert agent.held_out["valid"]["acc@1"] == max(scores) and "test" not in agent.held_out
    g = collate([fake_sample(np.random.default_rng(0))])
    reference = GCNNImitation(None, **raw["config"])
    reference.policy.load_state_dict(raw["policy"])
    with torch.no_grad():
        torch.testing.assert_close(agent.policy.eval()(g), reference.policy.eval()(g), rtol=0, atol=0)


def test_revive_redistributes_the_terminal_reward_over_a_chain():
    # root 1 -> children 2 (decided) and 3 (leaf); 2 -> 4 (decided), 5 (leaf); 4 -> two leaves
    decisions = [dict(node_id=1, parent_id=0), dict(node_id=2, parent_id=1), dict(node_id=4, parent_id=2)]
    transitions = revive(decisions, total_nodes=7, reward_scale=1.0)
    assert [(i, kids) for i, _, kids in transitions] == [(0, (1,)), (1, (2,)), (2, ())]
    rewards = np.array([r for _, r, _ in transitions])
    # local weights 1 + undecided children: 2, 2, 3 (of 7)
    np.testing.assert_allclose(rewards, -7 * np.array([2, 2, 3]) / 7)
    assert rewards.sum() == pytest.approx(-7)


def fixed_point(transitions, gamma=1.0):
    """Iterate the tree target with exact (tabular) children's values until it stops changing."""
    n = len(transitions)
    rewards = torch.tensor([r for _, r, _ in transitions], dtype=torch.float64)
    parent = torch.tensor([i for i, _, kids in transitions for _ in kids])
    child = torch.tensor([j for _, _, kids in transitions for j in kids])
    values = torch.zeros(n, dtype=torch.float64)
    for _ in range(n + 1):
        values = tree_targets(rewards, values[child], parent, gamma)
    return values.numpy()


# two branching levels below the root, listed in an interleaved visiting order:
# A(1) -> B(2), C(3); C -> leaves 6, 7; B -> D(4), leaf 5; D -> leaves 8, 9   (9 nodes)
TWO_LEVEL_TREE = [dict(node_id=1, parent_id=0), dict(node_id=3, parent_id=1), dict(node_id=2, parent_id=1),
                  dict(node_id=4, parent_id=2)]


def test_revive_gives_one_transition_per_decision_with_all_its_decided_children():
    transitions = revive(TWO_LEVEL_TREE, total_nodes=9, reward_scale=1.0)
    assert [(i, kids) for i, _, kids in transitions] == [(0, (1, 2)), (1, ()), (2, (3,)), (3, ())]
    # l = 1 + leaf children: A 1, C 3, B 2, D 3 (sum 9 = the tree's nodes)
    np.testing.assert_allclose([r for _, r, _ in transitions], [-1, -3, -2, -3])


def test_tree_target_converges_to_minus_the_subtree_sizes():
    # subtrees by hand: A all 9 nodes, C {3, 6, 7}, B {2, 4, 5, 8, 9}, D {4, 8, 9}
    values = fixed_point(revive(TWO_LEVEL_TREE, total_nodes=9, reward_scale=1.0))
    np.testing.assert_allclose(values, [-9, -3, -5, -3])
    # scaled reward, and a solve whose node count differs from the recorded tree: values scale with N / 9
    np.testing.assert_allclose(fixed_point(revive(TWO_LEVEL_TREE, total_nodes=18, reward_scale=0.01)),
                               0.01 * 2 * np.array([-9, -3, -5, -3]))
    # discounted: A = -1 + 0.5 * (C + B) with B = -2 + 0.5 * D
    np.testing.assert_allclose(fixed_point(revive(TWO_LEVEL_TREE, total_nodes=9, reward_scale=1.0), gamma=0.5),
                               [-1 + 0.5 * (-3 + (-2 + 0.5 * -3)), -3, -2 + 0.5 * -3, -3])


def test_tree_target_sums_the_children_where_a_mean_would_halve_them():
    # the example: a root with two decided children, each with two leaves (7 nodes)
    decisions = [dict(node_id=1, parent_id=0), dict(node_id=2, parent_id=1), dict(node_id=3, parent_id=1)]
    np.testing.assert_allclose(fixed_point(revive(decisions, total_nodes=7, reward_scale=1.0)), [-7, -3, -3])


@pytest.mark.parametrize("decisions, message", [
    ([dict(node_id=1, parent_id=0), dict(node_id=5, parent_id=3)],
     r"decisions\[1\] \(node 5\) has parent_id=3, a node that never asked for a decision: the tree has a child "
     r"that was never visited"),
    ([dict(node_id=1, parent_id=0), dict(node_id=1, parent_id=0)],
     r"decisions\[1\] has node_id=1, already the node of decisions\[0\]"),
])
def test_revive_rejects_an_incomplete_tree(decisions, message):
    with pytest.raises(ValueError, match=message):
        revive(decisions, total_nodes=5, reward_scale=1.0)


def test_agent_targets_add_every_childs_double_dqn_value():
    rng = np.random.default_rng(0)
    samples = [fake_sample(rng, target=int(rng.integers(3)), group=i) for i in range(5)]
    agent = ReviBranch(None, seed=0, batch_size=2, emb_size=16, gamma=0.9)
    torch.nn.init.normal_(agent.q_target.q_head[2].weight)  # a target network that differs from the online one
    agent.q.eval()

    def value(sample, depth):
        with torch.no_grad():
            g = collate([sample])
            best = int(torch.argmax(agent.q(g, torch.tensor([depth]))))
            return float(agent.q_target(g, torch.tensor([depth]))[best])

    y = agent.targets((-1.0, -2.0, -0.5), ((samples[1], samples[2]), (), (samples[3],)), ((1.0, 2.0), (), (4.0,)))
    expected = [-1 + 0.9 * (value(samples[1], 1.0) + value(samples[2], 2.0)), -2.0, -0.5 + 0.9 * value(samples[3], 4.0)]
    torch.testing.assert_close(y, torch.tensor(expected), rtol=1e-5, atol=1e-6)


def test_depth_encoding_shape_and_values():
    pe = depth_encoding(torch.tensor([0.0, 3.0]), dim=8)
    assert pe.shape == (2, 8)
    torch.testing.assert_close(pe[0], torch.tensor([0.0] * 4 + [1.0] * 4))


def test_revibranch_learns_predicts_and_reloads(cycles_env, tmp_path):
    agent = ReviBranch(cycles_env, seed=0, batch_size=4, learning_starts=4, emb_size=16, target_update_interval=2,
                       tensorboard_log=str(tmp_path / "tb"))
    agent.learn(12)
    assert [p.name for p in (tmp_path / "tb").iterdir()] == ["ReviBranch_1"]
    assert agent.num_timesteps >= 12 and agent.n_updates > 0 and len(agent.buffer) > 0
    obs, info = cycles_env.reset(seed=3)
    agent.on_reset(cycles_env, obs, info)
    action, _ = agent.predict(obs)
    assert info["action_mask"][action]
    agent.save(tmp_path / "rb.pt")
    again = ReviBranch.load(tmp_path / "rb.pt")
    again.on_reset(cycles_env, obs, info)
    assert again.predict(obs)[0] == action


def test_revibranch_warm_start_begins_as_the_imitation_policy(tmp_path):
    rng = np.random.default_rng(0)
    samples = [fake_sample(rng, target=int(rng.integers(3)), group=i) for i in range(8)]
    gcnn = GCNNImitation(None, seed=0, n_epochs=2, batch_size=4).fit(samples)
    gcnn.save(tmp_path / "gcnn.pt")
    agent = ReviBranch(None, seed=1, pretrained_gcnn=str(tmp_path / "gcnn.pt"), warm_start_q_scale=0.01)
    gcnn.policy.eval()
    agent.q.eval()
    g = collate(samples)
    with torch.no_grad():
        logits = gcnn.policy(g)
        q = agent.q(g, torch.arange(len(samples), dtype=torch.float32) * 3)
    torch.testing.assert_close(q, 0.01 * logits)


def test_revibranch_warm_start_keeps_the_input_normalization_frozen(tmp_path):
    rng = np.random.default_rng(0)
    samples = [fake_sample(rng, target=int(rng.integers(3)), group=i) for i in range(8)]
    GCNNImitation(None, seed=0, n_epochs=1, batch_size=4).fit(samples).save(tmp_path / "gcnn.pt")
    agent = ReviBranch(None, seed=1, batch_size=4, pretrained_gcnn=str(tmp_path / "gcnn.pt"))
    # decisions with no, one and two decided children
    kids = [samples[i + 1 : i + 1 + i % 3] for i in range(8)]
    agent.buffer = [Transition(s, 0, -1.0, float(i), tuple(kids[i]), tuple(float(i + 1) for _ in kids[i]), 1)
                    for i, s in enumerate(samples)]
    before = agent.q.encoder.var_emb[0].running_mean.clone()
    for _ in range(3):
        assert np.isfinite(agent.train_step())
    torch.testing.assert_close(agent.q.encoder.var_emb[0].running_mean, before)
    assert not agent.q_target.training
    agent.save(tmp_path / "rb.pt")
    assert ReviBranch.load(tmp_path / "rb.pt").freeze_input_norm


def test_large_margin_loss_penalises_candidates_within_the_margin_of_the_expert():
    q = torch.tensor([1.0, 0.5, 0.0, 0.3, 9.0])
    graph = torch.tensor([0, 0, 1, 1, 2])
    # graph 0: the expert leads by more than the margin (0); graph 1: candidate 1 beats it by 0.3 plus
    # the margin (0.5); graph 2 has no expert choice and does not count
    loss = large_margin_loss(q, graph, torch.tensor([0, 0, -1]), margin=0.2)
    assert float(loss) == pytest.approx(0.25)


def test_revibranch_stores_the_imitation_choice_and_keeps_the_expert_on_reload(cycles_env, tmp_path):
    rng = np.random.default_rng(0)
    samples = [fake_sample(rng, target=int(rng.integers(3)), group=i) for i in range(8)]
    gcnn = GCNNImitation(None, seed=0, n_epochs=1, batch_size=4, emb_size=16).fit(samples)
    gcnn.save(tmp_path / "gcnn.pt")
    agent = ReviBranch(cycles_env, seed=0, batch_size=4, learning_starts=4, emb_size=16,
                       pretrained_gcnn=str(tmp_path / "gcnn.pt"), exploration_initial_eps=0.0,
                       exploration_final_eps=0.0)
    agent.learn(10)
    gcnn.policy.eval()
    for t in agent.buffer:
        with torch.no_grad():
            logits = gcnn.policy(collate([t.state]))
        assert t.expert == int(torch.argmax(logits))
    agent.save(tmp_path / "rb.pt")
    again = ReviBranch.load(tmp_path / "rb.pt")
    for a, b in zip(agent.expert.state_dict().values(), again.expert.state_dict().values()):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("kwargs, message", [
    (dict(gamma=1.5), r"gamma=1.5 is invalid: it must be in \[0, 1\]"),
    (dict(batch_size=0), "batch_size=0 is invalid: it must be >= 1"),
    (dict(buffer_size=8, batch_size=16), r"buffer_size=8 is invalid: it must be >= batch_size \(16\)"),
    (dict(exploration_initial_eps=-0.1), r"exploration_initial_eps=-0.1 is invalid: it must be in \[0, 1\]"),
    (dict(warm_start_q_scale=0.0), "warm_start_q_scale=0.0 is invalid: it must be > 0"),
    (dict(imitation_margin=-1.0), "imitation_margin=-1.0 is invalid: it must be >= 0"),
    (dict(imitation_coef=-0.5), r"imitation_coef=-0.5 is invalid: it must be >= 0 \(0 turns the margin loss off\)"),
])
def test_revibranch_rejects_invalid_hyperparameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ReviBranch(None, **kwargs)
