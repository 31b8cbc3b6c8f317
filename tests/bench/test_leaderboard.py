import json
from pathlib import Path

import numpy as np
import pytest
from conftest import LOT, MILP

from gauntlet.bench import leaderboard
from gauntlet.bench.identity import content_sha256, entry_sha256
from gauntlet.registry import get_task


def test_record_writes_a_valid_board_with_identity_and_hashes(tmp_path, lot_run):
    path = leaderboard.record([lot_run(0), lot_run(1)], kind="baseline", directory=tmp_path)
    assert path == tmp_path / "LotSizing-15x5-v0.json"
    board = leaderboard.load(path)
    leaderboard.validate(board, path)
    assert board["schema"] == "gauntlet-leaderboard/2"
    assert board["protocol"]["eval_seeds"][0] == 10_000
    (entry,) = board["entries"]
    assert entry["config"] == {"train_timesteps": 0, "agent_kwargs": {},
                               "train_env_kwargs": {"n_items": 15, "n_machines": 5},
                               "eval_env_kwargs": {"n_items": 15, "n_machines": 5}}
    assert entry["config_sha256"] == content_sha256(entry["config"])
    assert entry["sha256"] == entry_sha256(entry)
    assert entry["train_seeds"] == [0, 1]
    assert entry["runs"][0]["provenance"] == {"command": "pytest", "git_commit": None, "versions": {"gauntlet": "test"}}
    assert entry["results"]["cost"]["n_runs"] == 2
    assert entry["results"]["cost"]["mean"] == pytest.approx(np.mean([np.mean(r["metrics"]["cost"]) for r in entry["runs"]]))


def test_same_config_merges_new_seeds_and_keeps_identical_reruns(tmp_path, lot_run):
    path = leaderboard.record([lot_run(0), lot_run(1)], kind="baseline", directory=tmp_path)
    # Seed 1 again (the same measurement) and a new seed 2: one entry with three runs.
    leaderboard.record([lot_run(1), lot_run(2)], kind="baseline", directory=tmp_path)
    (entry,) = leaderboard.load(path)["entries"]
    assert entry["train_seeds"] == [0, 1, 2]
    assert entry["results"]["cost"]["n_runs"] == 3


def test_a_seed_measured_differently_is_refused_and_nothing_changes(tmp_path, lot_run):
    path = leaderboard.record([lot_run(0)], kind="baseline", directory=tmp_path)
    before = path.read_bytes()
    with pytest.raises(leaderboard.LeaderboardError,
                       match=r"LotSizing-15x5-v0\.json: train seed 0 .* other results \(first difference runs/episode_returns/0"):
        leaderboard.record([lot_run(0, offset=-500.0)], kind="baseline", directory=tmp_path)
    assert path.read_bytes() == before


def test_a_rerun_differing_only_in_a_wall_clock_metric_merges(tmp_path, milp_run):
    # SCIP's solving time depends on the machine's load (Metric.wall_clock); nodes must reproduce.
    path = leaderboard.record([milp_run("pseudocost", [5.0, 7.0])], kind="baseline", directory=tmp_path)
    rerun = milp_run("pseudocost", [5.0, 7.0])
    for m in rerun.episode_metrics:
        m["solving_time"] = 2.5
    leaderboard.record([rerun], kind="baseline", directory=tmp_path)
    assert leaderboard.load(path)["entries"][0]["runs"][0]["metrics"]["solving_time"][0] == 1.0
    rerun = milp_run("pseudocost", [5.0, 7.0])
    rerun.episode_metrics[0]["nodes"] = 6.0
    with pytest.raises(leaderboard.LeaderboardError, match="first difference runs/metrics/nodes/0"):
        leaderboard.record([rerun], kind="baseline", directory=tmp_path)


def test_a_rerun_equal_but_for_the_summation_order_merges(tmp_path, lot_run):
    path = leaderboard.record([lot_run(0)], kind="baseline", directory=tmp_path)
    rerun = lot_run(0)
    # One ulp off, as a return summed in another order is; a 1e-6 relative change is refused.
    rerun.episode_returns = [float(np.nextafter(r, 0.0)) for r in rerun.episode_returns]
    leaderboard.record([rerun], kind="baseline", directory=tmp_path)
    assert leaderboard.load(path)["entries"][0]["train_seeds"] == [0]
    rerun.episode_returns = [r * (1 + 1e-6) for r in rerun.episode_returns]
    with pytest.raises(leaderboard.LeaderboardError, match="first difference runs/episode_returns/0"):
        leaderboard.record([rerun], kind="baseline", directory=tmp_path)


def test_another_config_is_refused_field_by_field_and_nothing_changes(tmp_path, lot_run):
    path = leaderboard.record([lot_run(0, agent="pdppo", train_timesteps=30_000)], kind="reference", directory=tmp_path)
    before = path.read_bytes()
    smaller = lot_run(0, agent="pdppo", train_timesteps=400, agent_kwargs={"n_epochs": 2})
    with pytest.raises(leaderboard.LeaderboardError) as info:
        leaderboard.record([smaller], kind="reference", directory=tmp_path)
    message = str(info.value)
    assert "LotSizing-15x5-v0.json: the entry (pdppo, reference, submitter gauntlet) exists with another config" in message
    assert "config/train_timesteps: 30000 on the board, 400 in the new runs" in message
    assert "config/agent_kwargs/n_epochs: (unset) on the board, 2 in the new runs" in message
    assert "--submitter" in message and "--replace" in message
    assert path.read_bytes() == before


def test_another_submitter_keeps_both_and_replace_replaces(tmp_path, lot_run):
    path = leaderboard.record([lot_run(0, agent="pdppo", train_timesteps=30_000)], kind="reference", directory=tmp_path)
    small = lot_run(0, agent="pdppo", train_timesteps=400)
    leaderboard.record([small], kind="reference", submitter="me", directory=tmp_path)
    assert sorted(e["submitter"] for e in leaderboard.load(path)["entries"]) == ["gauntlet", "me"]
    leaderboard.record([small], kind="reference", directory=tmp_path, replace=True)
    entries = {e["submitter"]: e for e in leaderboard.load(path)["entries"]}
    assert entries["gauntlet"]["config"]["train_timesteps"] == 400


def test_replace_without_an_entry_is_an_error_and_writes_nothing(tmp_path, lot_run):
    with pytest.raises(leaderboard.LeaderboardError, match=r"LotSizing-15x5-v0\.json: --replace: there is no board"):
        leaderboard.record([lot_run(0)], kind="baseline", directory=tmp_path, replace=True)
    assert not list(tmp_path.iterdir())
    path = leaderboard.record([lot_run(0)], kind="baseline", directory=tmp_path)
    before = path.read_bytes()
    with pytest.raises(leaderboard.LeaderboardError,
                       match=r"--replace: there is no entry \(newsvendor, baseline, submitter gauntlet\) to replace "
                             r"\(entries: \(random, baseline, submitter gauntlet\)\)"):
        leaderboard.record([lot_run(0, agent="newsvendor")], kind="baseline", directory=tmp_path, replace=True)
    assert path.read_bytes() == before


def test_runs_off_the_protocol_are_refused(tmp_path, lot_run):
    run = lot_run(0, train_env_kwargs={"n_items": 15, "n_machines": 5, "horizon": 50})
    with pytest.raises(leaderboard.LeaderboardError,
                       match=r"not produced under the task's protocol:\n  config/train_env_kwargs/horizon: 50 in the runs"):
        leaderboard.record([run], kind="baseline", directory=tmp_path)
    assert not list(tmp_path.iterdir())


def test_a_training_choice_the_protocol_allows_is_part_of_the_config_not_a_departure(tmp_path, milp_run):
    # MILP learners may cap SCIP's time per training instance; the evaluation limit is fixed.
    run = milp_run("revibranch", [10.0, 20.0])
    run.train_env_kwargs = {**run.train_env_kwargs, "time_limit": 60.0}
    path = leaderboard.record([run], kind="reference", directory=tmp_path)
    (entry,) = leaderboard.load(path)["entries"]
    assert entry["config"]["train_env_kwargs"]["time_limit"] == 60.0
    off = milp_run("revibranch", [10.0, 20.0])
    off.eval_env_kwargs = {**off.eval_env_kwargs, "time_limit": 60.0}
    with pytest.raises(leaderboard.LeaderboardError, match="config/eval_env_kwargs/time_limit: 60.0 in the runs"):
        leaderboard.record([off], kind="reference", directory=tmp_path, submitter="other")


def test_runs_without_recorded_env_kwargs_are_refused(tmp_path, lot_run):
    with pytest.raises(leaderboard.LeaderboardError, match="does not record the env kwargs"):
        leaderboard.record([lot_run(0, train_env_kwargs=None)], kind="baseline", directory=tmp_path)


def test_one_run_has_no_spread(tmp_path, lot_run):
    path = leaderboard.record([lot_run(0)], kind="baseline", directory=tmp_path)
    stat = leaderboard.load(path)["entries"][0]["results"]["cost"]
    assert stat["n_runs"] == 1 and stat["std"] is None
    assert stat["ci95"] == [None, None] and stat["mean_ci95"] == [None, None]
    assert "± –" in leaderboard.to_markdown(leaderboard.load(path))


def test_boards_get_the_permissions_of_an_ordinary_file_and_keep_them(tmp_path, lot_run):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    path = leaderboard.record([lot_run(0)], kind="baseline", directory=tmp_path)
    assert path.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777
    path.chmod(0o640)
    leaderboard.record([lot_run(1)], kind="baseline", directory=tmp_path)
    assert path.stat().st_mode & 0o777 == 0o640


def test_malformed_board_is_rejected_and_previous_file_kept(tmp_path, lot_run):
    path = leaderboard.record([lot_run(0)], kind="baseline", directory=tmp_path)
    before = path.read_text()
    board = json.loads(before)
    board["entries"][0]["kind"] = "champion"
    with pytest.raises(leaderboard.LeaderboardError, match=r"entries/0/kind"):
        leaderboard.save(board, path)
    assert path.read_text() == before
    assert not list(tmp_path.glob(".*.tmp"))


def test_invalid_json_names_the_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(leaderboard.LeaderboardError, match="broken.json: not valid JSON"):
        leaderboard.load(path)


def test_entries_must_use_the_official_seeds(tmp_path, lot_run):
    run = lot_run(0)
    run.eval_seeds = list(range(1000, 1020))
    with pytest.raises(leaderboard.LeaderboardError, match="official"):
        leaderboard.record([run], kind="baseline", directory=tmp_path)


def test_runs_of_different_agents_or_configs_are_not_aggregated(lot_run):
    with pytest.raises(leaderboard.LeaderboardError, match="disagree on agent"):
        leaderboard.entry_from_runs([lot_run(0), lot_run(1, agent="newsvendor")], kind="baseline")
    with pytest.raises(leaderboard.LeaderboardError, match="disagree on config"):
        leaderboard.entry_from_runs([lot_run(0), lot_run(1, train_timesteps=5)], kind="baseline")


def test_packaged_schema_is_the_published_one():
    published = Path(__file__).resolve().parents[2] / "leaderboards" / "schema.json"
    assert json.loads(published.read_text()) == leaderboard.schema()


def test_markdown_and_model_index_exports(tmp_path, lot_run):
    path = leaderboard.record([lot_run(0), lot_run(1)], kind="baseline", directory=tmp_path)
    board = leaderboard.load(path)
    md = leaderboard.to_markdown(board)
    assert "| 1 | random | baseline | gauntlet |" in md
    yaml = leaderboard.to_model_index(board, "random")
    assert yaml.startswith("model-index:\n- name: random")
    assert f"name: {LOT}" in yaml
    with pytest.raises(leaderboard.LeaderboardError, match="no entry for agent 'pdppo'"):
        leaderboard.to_model_index(board, "pdppo")


def test_normalized_score_follows_the_protocol_reference_scores(tmp_path, lot_run):
    ref = get_task(LOT).benchmark.reference_scores
    path = leaderboard.record([lot_run(0)], kind="baseline", directory=tmp_path)
    board = json.loads(path.read_text())
    entry = board["entries"][0]
    expected = (entry["results"]["cost"]["mean"] - ref["random"]) / (ref["best"] - ref["random"])
    assert board["protocol"]["reference_scores"] == ref
    assert entry["normalized_score"] == pytest.approx(expected)


def test_refresh_follows_the_registry_and_refuses_another_protocol(tmp_path, lot_run):
    path = leaderboard.record([lot_run(0)], kind="baseline", directory=tmp_path)
    board = leaderboard.load(path)
    stale = json.loads(json.dumps(board))
    stale["protocol"]["metrics"][0]["description"] = "an older description"
    stale["entries"][0]["sha256"] = entry_sha256(stale["entries"][0])
    assert leaderboard.refresh(stale, path) == board
    other = json.loads(json.dumps(board))
    other["protocol"]["eval_episodes"] = 5
    with pytest.raises(leaderboard.LeaderboardError, match=r"eval_episodes: 5 on the board, 20 in the registry"):
        leaderboard.refresh(other, path)


def test_shifted_metrics_report_and_rank_by_shifted_geometric_mean(tmp_path, milp_run):
    # Mean favours "steady" (100 < 250), the shifted geometric mean favours "skewed":
    # sqrt(2 * 500) - 1 = 30.6 < 100.
    path = leaderboard.record([milp_run("steady", [100.0])], kind="baseline", directory=tmp_path)
    leaderboard.record([milp_run("skewed", [1.0, 499.0])], kind="baseline", directory=tmp_path)
    board = leaderboard.load(path)
    shifts = {m["name"]: m.get("shift") for m in board["protocol"]["metrics"]}
    assert shifts == {"nodes": 1.0, "lp_iterations": 10.0, "solving_time": 1.0, "solved": None}
    skewed = next(e for e in board["entries"] if e["agent"] == "skewed")
    assert skewed["results"]["nodes"]["sgm"] == pytest.approx(np.sqrt(2.0 * 500.0) - 1.0)
    assert skewed["results"]["nodes"]["mean"] == pytest.approx(250.0)
    assert [e["agent"] for e in leaderboard.ranked(board)] == ["skewed", "steady"]
    assert "nodes (sgm)" in leaderboard.to_markdown(board)
    assert board["task"] == MILP
