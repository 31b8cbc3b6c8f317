"""Multi-agent tasks through the runner and the boards: dict actions, team return vectors."""

import numpy as np
import pytest

import gauntlet
from gauntlet.bench import leaderboard
from gauntlet.bench.integrity import validate
from gauntlet.bench.reevaluation import reevaluate
from gauntlet.bench.runner import evaluate_parallel, make_task_env, run
from gauntlet.baselines.mo_coop import RandomJointAgent

NAV = "gauntlet/MOCoopNavigation-v0"
TINY = {"n_worlds": 2, "batch_episodes": 1, "buffer_episodes": 4, "epsilon_anneal_steps": 50}


def test_evaluate_parallel_returns_the_team_reward_vector_summed():
    env = make_task_env(NAV)
    agent = RandomJointAgent(env, seed=0)
    (episode,) = evaluate_parallel(agent, env, [7], weights=[0.5, 0.5])
    # replay the same episode by hand: the same seeds give the same actions and rewards
    env2, agent2, total = gauntlet.make_parallel(NAV), RandomJointAgent(env, seed=0), np.zeros(2)
    obs, _ = env2.reset(seed=7)
    while env2.agents:
        obs, rewards, _, _, _ = env2.step(agent2.predict(obs)[0])
        total += rewards["agent_0"]
    assert episode.length == 25 and episode.weights == [0.5, 0.5]
    np.testing.assert_allclose(episode.episode_return, total, rtol=1e-12)
    assert "return" not in episode.metrics and episode.metrics["length"] == 25.0


def test_random_joint_run_writes_a_board_that_validates(tmp_path):
    record = run(NAV, "random-joint", eval_seeds=gauntlet.registry.get_task(NAV).benchmark.eval_seeds())
    assert len(record.episode_returns) == 11 * 10 and len(record.episode_returns[0]) == 2
    assert set(record.mo_metrics) >= {"hypervolume", "eum", "cardinality", "sparsity", "spacing", "spread", "front"}
    path = leaderboard.record([record], kind="baseline", directory=tmp_path)
    board = leaderboard.load(path)
    validate(board, path)
    (entry,) = board["entries"]
    for name in ("sparsity", "spacing", "spread"):
        assert entry["results"][name]["mean"] == pytest.approx(record.mo_metrics[name])
    entry["runs"][0]["mo_metrics"]["spacing"] += 1.0
    with pytest.raises(leaderboard.LeaderboardError, match="mo_metrics/spacing"):
        validate(board, path)


def test_a_learner_saves_and_is_re_evaluated_from_its_weights(tmp_path):
    seeds = gauntlet.registry.get_task(NAV).benchmark.eval_seeds()
    record = run(NAV, "mo-mix", total_timesteps=100, agent_kwargs=TINY, eval_seeds=seeds, save_dir=tmp_path / "w")
    assert record.trained_timesteps == 100 and record.artifact_sha256
    leaderboard.record([record], kind="reference", directory=tmp_path)
    report = reevaluate(NAV, "mo-mix", record.artifact_path, directory=tmp_path)
    assert report.matches


def test_single_agent_tasks_still_use_gymnasium():
    env = make_task_env("gauntlet/LotSizing-15x5-v0")
    assert hasattr(env, "action_space") and not callable(env.action_space)
    with pytest.raises(ValueError, match="single-agent Gymnasium env"):
        gauntlet.make_parallel("gauntlet/LotSizing-15x5-v0")


def test_a_sweep_runs_a_multi_agent_task_and_resumes(tmp_path):
    import dataclasses

    from gauntlet.bench.sweep import SerialExecutor, load_runs, plan, sweep

    jobs = plan([NAV], ["mo-mix"], [0, 1], tmp_path, total_timesteps=60, eval_seeds=[1000])
    jobs = [dataclasses.replace(job, agent_kwargs=TINY) for job in jobs]
    outcome = sweep(jobs, SerialExecutor())
    assert len(outcome["done"]) == 2 and not outcome["failed"], outcome["failed"]
    runs = load_runs(jobs)[(NAV, "mo-mix")]
    assert [r.train_seed for r in runs] == [0, 1] and all(len(r.episode_returns[0]) == 2 for r in runs)
    assert len(sweep(jobs, SerialExecutor())["skipped"]) == 2
