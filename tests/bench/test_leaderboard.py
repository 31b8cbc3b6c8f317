import json

import numpy as np
import pytest

from gauntlet.bench import leaderboard
from gauntlet.bench.runner import RunRecord
from gauntlet.registry import get_task

TASK = "gauntlet/LotSizing-15x5-v0"


def make_run(seed: int, agent: str = "random", offset: float = 0.0) -> RunRecord:
    spec = get_task(TASK).benchmark
    seeds = spec.eval_seeds(official=True)
    rng = np.random.default_rng(seed)
    costs = 3000.0 + offset + rng.normal(0, 50, size=len(seeds))
    return RunRecord(
        task=TASK, agent=agent, train_seed=seed, train_timesteps=0, eval_seeds=seeds,
        episode_returns=list(-costs),
        episode_metrics=[{"cost": c, "return": -c, "fill_rate": 0.9, "setups_per_period": 2.0, "length": 100.0}
                         for c in costs],
        train_time_s=0.0, eval_time_s=1.0, wall_time_s=1.0, steps_per_s=None,
        versions={"gauntlet": "test"}, command="pytest",
    )


def test_record_writes_a_valid_board_and_merges_by_key(tmp_path):
    path = leaderboard.record([make_run(0), make_run(1)], kind="baseline", directory=tmp_path)
    assert path == tmp_path / "LotSizing-15x5-v0.json"
    board = leaderboard.load(path)
    assert board["schema"] == "gauntlet-leaderboard/1"
    assert board["protocol"]["eval_seeds"][0] == 10_000
    (entry,) = board["entries"]
    assert entry["results"]["cost"]["n_runs"] == 2
    assert entry["results"]["cost"]["mean"] == pytest.approx(np.mean([np.mean(r["metrics"]["cost"]) for r in entry["runs"]]))

    leaderboard.record([make_run(0, offset=-500.0)], kind="baseline", directory=tmp_path)
    leaderboard.record([make_run(0, agent="newsvendor", offset=-100.0)], kind="baseline", directory=tmp_path)
    board = leaderboard.load(path)
    assert sorted(e["agent"] for e in board["entries"]) == ["newsvendor", "random"]
    random_entry = next(e for e in board["entries"] if e["agent"] == "random")
    assert random_entry["results"]["cost"]["n_runs"] == 1
    # Ranked best first on the primary metric (cost: lower is better).
    assert [e["agent"] for e in leaderboard.ranked(board)] == ["random", "newsvendor"]


def test_boards_get_the_permissions_of_an_ordinary_file_and_keep_them(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    path = leaderboard.record([make_run(0)], kind="baseline", directory=tmp_path)
    assert path.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777
    path.chmod(0o640)
    leaderboard.record([make_run(1)], kind="baseline", directory=tmp_path)
    assert path.stat().st_mode & 0o777 == 0o640


def test_tampered_result_is_rejected_with_path_and_field(tmp_path):
    path = leaderboard.record([make_run(0)], kind="baseline", directory=tmp_path)
    board = json.loads(path.read_text())
    board["entries"][0]["results"]["cost"]["mean"] -= 1000.0
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(board))
    with pytest.raises(leaderboard.LeaderboardError, match=r"tampered\.json.*entries/0/results/cost/mean"):
        leaderboard.load(tampered)


def test_malformed_board_is_rejected_and_previous_file_kept(tmp_path):
    path = leaderboard.record([make_run(0)], kind="baseline", directory=tmp_path)
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


def test_entries_must_use_the_official_seeds(tmp_path):
    run = make_run(0)
    run.eval_seeds = list(range(1000, 1020))
    with pytest.raises(leaderboard.LeaderboardError, match="official"):
        leaderboard.record([run], kind="baseline", directory=tmp_path)


def test_runs_of_different_agents_are_not_aggregated():
    with pytest.raises(leaderboard.LeaderboardError, match="disagree on agent"):
        leaderboard.entry_from_runs([make_run(0), make_run(1, agent="newsvendor")], kind="baseline")


def test_packaged_schema_is_the_published_one():
    from pathlib import Path

    published = Path(__file__).resolve().parents[2] / "leaderboards" / "schema.json"
    assert json.loads(published.read_text()) == leaderboard.schema()


def test_markdown_and_model_index_exports(tmp_path):
    path = leaderboard.record([make_run(0), make_run(1)], kind="baseline", directory=tmp_path)
    board = leaderboard.load(path)
    md = leaderboard.to_markdown(board)
    assert "| 1 | random | baseline | gauntlet |" in md
    yaml = leaderboard.to_model_index(board, "random")
    assert yaml.startswith("model-index:\n- name: random")
    assert f"name: {TASK}" in yaml
    with pytest.raises(leaderboard.LeaderboardError, match="no entry for agent 'pdppo'"):
        leaderboard.to_model_index(board, "pdppo")


def test_normalized_score_follows_the_protocol_reference_scores(tmp_path):
    spec = get_task(TASK).benchmark
    path = leaderboard.record([make_run(0)], kind="baseline", directory=tmp_path)
    board = json.loads(path.read_text())
    entry = board["entries"][0]
    ref = spec.reference_scores
    expected = (entry["results"]["cost"]["mean"] - ref["random"]) / (ref["best"] - ref["random"])
    assert board["protocol"]["reference_scores"] == ref
    assert entry["normalized_score"] == pytest.approx(expected)
    entry["normalized_score"] = 0.99
    path.write_text(json.dumps(board))
    with pytest.raises(leaderboard.LeaderboardError, match=r"entries/0/normalized_score"):
        leaderboard.load(path)


MILP_TASK = "gauntlet/MILPBranching-SetCover-v0"


def make_milp_run(agent: str, nodes: list[float]) -> RunRecord:
    seeds = get_task(MILP_TASK).benchmark.eval_seeds(official=True)
    nodes = (nodes * len(seeds))[: len(seeds)]
    return RunRecord(
        task=MILP_TASK, agent=agent, train_seed=0, train_timesteps=0, eval_seeds=seeds,
        episode_returns=[-n for n in nodes],
        episode_metrics=[{"nodes": n, "lp_iterations": 10.0 * n, "solving_time": 1.0, "gap": 0.0} for n in nodes],
        train_time_s=0.0, eval_time_s=1.0, wall_time_s=1.0, steps_per_s=None,
        versions={"gauntlet": "test"}, command="pytest",
    )


def test_shifted_metrics_report_and_rank_by_shifted_geometric_mean(tmp_path):
    # Mean favours "steady" (100 < 250.5), the shifted geometric mean favours "skewed":
    # sqrt(2 * 500) - 1 = 30.6 < 100.
    path = leaderboard.record([make_milp_run("steady", [100.0])], kind="baseline", directory=tmp_path)
    leaderboard.record([make_milp_run("skewed", [1.0, 499.0])], kind="baseline", directory=tmp_path)
    board = leaderboard.load(path)
    shifts = {m["name"]: m.get("shift") for m in board["protocol"]["metrics"]}
    assert shifts == {"nodes": 1.0, "lp_iterations": 10.0, "solving_time": 1.0, "solved": None}
    skewed = next(e for e in board["entries"] if e["agent"] == "skewed")
    assert skewed["results"]["nodes"]["sgm"] == pytest.approx(np.sqrt(2.0 * 500.0) - 1.0)
    assert skewed["results"]["nodes"]["mean"] == pytest.approx(250.0)
    assert [e["agent"] for e in leaderboard.ranked(board)] == ["skewed", "steady"]
    assert "nodes (sgm)" in leaderboard.to_markdown(board)

    board["entries"][0]["results"]["nodes"]["sgm"] = 1.0
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(board))
    with pytest.raises(leaderboard.LeaderboardError, match=r"results/nodes/sgm"):
        leaderboard.load(tampered)
