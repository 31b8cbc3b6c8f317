"""Learning curves: what the runner records for SB3 models (their Monitors) and for agents with
an ``episode_log``, how they are downsampled, and how boards store them without changing the
content (and hash) of entries recorded without one."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gauntlet.bench import leaderboard, runner
from gauntlet.bench.entries import LeaderboardError
from gauntlet.bench.integrity import schema
from gauntlet.bench.runner import MAX_CURVE_POINTS, RunRecord, downsample_curve

from conftest import LOT


def test_downsampling_keeps_first_last_and_evenly_spaced_points():
    points = [(10 * i, float(-i)) for i in range(1000)]
    kept = downsample_curve(points)
    assert len(kept) == MAX_CURVE_POINTS
    assert kept[0] == [0, 0.0] and kept[-1] == [9990, -999.0]
    gaps = np.diff([t for t, _ in kept])
    assert gaps.min() >= 40 and gaps.max() <= 60  # 999 / 199 ~ 5 episodes apart
    assert downsample_curve(points[:5]) == [[t, r] for t, r in points[:5]]
    assert downsample_curve(points, 2) == [[0, 0.0], [9990, -999.0]]
    with pytest.raises(ValueError, match="max_points must be >= 2"):
        downsample_curve(points, 1)


def test_schema_limit_is_the_runners():
    curve = schema()["$defs"]["run"]["properties"]["learning_curve"]
    assert curve["maxItems"] == MAX_CURVE_POINTS


@pytest.fixture(scope="module")
def ppo_run(tmp_path_factory):
    # LotSizing episodes are 100 steps and PPO trains 8 copies x 50 steps per rollout: 1,600 steps
    # end 2 episodes per copy, at global steps 800 and 1,600.
    out = tmp_path_factory.mktemp("runs")
    return runner.run(LOT, "ppo", train_seed=0, total_timesteps=1600, out_dir=out), out


def test_sb3_runs_record_their_training_episodes(ppo_run):
    record, out = ppo_run
    assert record.trained_timesteps == 1600
    assert [t for t, _ in record.learning_curve] == [800] * 8 + [1600] * 8
    assert all(r < 0 for _, r in record.learning_curve)  # LotSizing returns are negative costs
    saved = RunRecord.load(runner.run_path(out, LOT, "ppo", 0))
    assert saved.learning_curve == record.learning_curve


def test_agents_with_an_episode_log_record_it():
    # one env copy and rollouts of one 100-step episode, so 200 steps end two episodes
    small = {"n_envs": 1, "n_steps": 100, "n_epochs": 2, "batch_size": 50, "hidden_sizes": [32, 32]}
    record = runner.run(LOT, "pdppo", train_seed=0, total_timesteps=200, eval_seeds=[10_000], agent_kwargs=small)
    assert record.learning_curve == [[int(t), float(r)] for t, r in record.agent_obj.episode_log]
    assert [t for t, _ in record.learning_curve] == [100, 200]


def test_agents_that_do_not_learn_have_no_curve():
    assert runner.run(LOT, "random", train_seed=0).learning_curve is None


def test_boards_store_curves_and_leave_entries_without_them_unchanged(ppo_run, lot_run, tmp_path):
    record, _ = ppo_run
    path = leaderboard.record([record], kind="reference", directory=tmp_path)
    board = leaderboard.load(path)
    leaderboard.validate(board, path)
    assert board["entries"][0]["runs"][0]["learning_curve"] == record.learning_curve
    plain = leaderboard.entry_from_runs([lot_run(0)], kind="baseline")
    assert "learning_curve" not in plain["runs"][0]
    too_long = json.loads(json.dumps(board))
    too_long["entries"][0]["runs"][0]["learning_curve"] = [[t, -1.0] for t in range(MAX_CURVE_POINTS + 1)]
    with pytest.raises(LeaderboardError, match="learning_curve"):
        leaderboard.validate(too_long, path)


def test_a_curve_attached_to_a_loaded_run_reaches_the_board(lot_run, tmp_path):
    run = lot_run(0, agent="pdppo")
    path = run.save(tmp_path / "seed0.json")
    loaded = RunRecord.load(path)
    loaded.attach_learning_curve([(100 * (i + 1), -3000.0 - i) for i in range(1000)])
    assert len(loaded.learning_curve) == MAX_CURVE_POINTS and loaded.learning_curve[-1] == [100_000, -3999.0]
    entry = leaderboard.entry_from_runs([loaded], kind="reference")
    assert entry["runs"][0]["learning_curve"] == loaded.learning_curve
