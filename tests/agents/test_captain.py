import gymnasium as gym
import numpy as np
import pytest
import torch

import gauntlet  # noqa: F401  (registers the ids)
from gauntlet.agents.captain import Captain, _to_tensors
from gauntlet.bench.runner import evaluate, make_agent
from gauntlet.envs.uam_fleet.env import episode_metrics
from gauntlet.registry import get_agent

SMALL, LARGE = "gauntlet/UAMFleet-Small-v0", "gauntlet/UAMFleet-v0"
TINY = {"n_envs": 2, "n_steps": 16, "batch_size": 16, "n_epochs": 1, "embed_dim": 16, "n_heads": 2, "graph_layers": 1}


def observations(task_id, n, seed=0):
    env = gym.make(task_id)
    obs, info = env.reset(seed=seed)
    out = [obs]
    rng = np.random.default_rng(seed)
    for _ in range(n - 1):
        obs, *_ = env.step(int(rng.choice(np.flatnonzero(info["action_mask"]))))
        info = {"action_mask": obs["action_mask"] > 0.5}
        out.append(obs)
    return out


def test_encoder_handles_the_small_and_large_ids_with_one_set_of_weights():
    agent = Captain(gym.make(SMALL), seed=0, **TINY)
    for task_id, (v, a) in ((SMALL, (4, 10)), (LARGE, (8, 40))):
        batch = _to_tensors(observations(task_id, 3))
        h, f, where = agent.policy.encode(batch)
        assert h.shape == (3, v, 16) and f.shape == (3, a, 16) and where.shape == (3, a)
        logits, value = agent.policy(batch)
        assert logits.shape == (3, v) and value.shape == (3,)
        masked = batch["action_mask"] < 0.5
        assert torch.all(torch.isneginf(logits[masked])) and torch.all(torch.isfinite(logits[~masked]))
        # each aircraft is matched to the vertiport it is at or flying to
        env = gym.make(task_id)
        env.reset(seed=0)
        np.testing.assert_array_equal(where[0].numpy(), env.unwrapped.loc)


def test_learns_saves_loads_and_acts_within_the_mask(tmp_path):
    env = gym.make(SMALL)
    agent = Captain(env, seed=1, tensorboard_log=str(tmp_path / "tb"), **TINY)
    stats = []
    agent.learn(64, callback=stats.append)
    assert agent.num_timesteps == 64 and len(stats) == 2 and np.isfinite(stats[-1]["policy_loss"])
    assert list((tmp_path / "tb").iterdir())[0].name == "Captain_1"
    agent.save(tmp_path / "captain.pt")
    big = gym.make(LARGE)
    loaded = Captain.load(tmp_path / "captain.pt", env=big)
    assert loaded.num_timesteps == 64
    for key, tensor in agent.policy.state_dict().items():
        assert torch.equal(tensor, loaded.policy.state_dict()[key])
    obs, _ = big.reset(seed=3)
    mask = big.unwrapped.action_masks()
    action, _ = loaded.predict(obs, action_masks=mask)
    assert mask[action] and action == agent.predict(obs, action_masks=mask)[0]


def test_registry_builds_it_and_the_runner_evaluates_it_with_latency():
    env = gym.make(SMALL)
    agent = make_agent(get_agent("captain"), env, SMALL, seed=0, agent_kwargs=TINY)
    (result,) = evaluate(agent, env, [1000], episode_metrics=episode_metrics)
    assert result.metrics["constraint_violations"] == 0 and result.metrics["decision_latency_ms"] > 0


def test_bad_hyperparameters_and_files_raise(tmp_path):
    env = gym.make(SMALL)
    with pytest.raises(ValueError, match="embed_dim=30"):
        Captain(env, embed_dim=30, n_heads=4)
    with pytest.raises(ValueError, match="n_envs=0"):
        Captain(env, n_envs=0)
    torch.save({"format": "other"}, tmp_path / "x.pt")
    with pytest.raises(ValueError, match="not a Captain file"):
        Captain.load(tmp_path / "x.pt", env=env)
