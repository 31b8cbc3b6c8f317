"""``gauntlet bench --suite``: anchors per task, normalized scores, their IQM with a stratified
bootstrap CI, the performance profile, and the command end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gauntlet.bench import suite
from conftest import fake_run
from gauntlet.bench.suite import TaskScore
from gauntlet.cli import main
from gauntlet.registry import get_task

BOARDS = Path(__file__).resolve().parents[2] / "leaderboards"
FAIR = "gauntlet/FairThreshold-Synthetic-v0"
MEC = "gauntlet/mo-MECOffloading-v0"


def test_suite_tasks_are_the_benchmarked_tasks_the_agent_accepts():
    tasks = suite.suite_tasks("core", "ofs")
    assert tasks and all(get_task(t).benchmark is not None and t.startswith("gauntlet/FairThreshold-") for t in tasks)
    assert suite.suite_tasks("core", "random", ["gauntlet/FairThreshold-S*"]) == [FAIR]
    with pytest.raises(ValueError, match="unknown suite 'nope'; suites: \\['core'\\]"):
        suite.suite_tasks("nope", "random")
    with pytest.raises(ValueError, match="no task of suite 'core' matching \\['gauntlet/LotSizing-\\*'\\] accepts agent 'ofs'"):
        suite.suite_tasks("core", "ofs", ["gauntlet/LotSizing-*"])


def test_anchors_come_from_reference_scores_or_the_board():
    refs = get_task(FAIR).benchmark.reference_scores
    fair = suite.anchors(FAIR, BOARDS, "ofs")
    assert (fair["zero"], fair["one"]) == (refs["random"], refs["best"])
    mec = suite.anchors(MEC, BOARDS, "gmorl")  # no reference scores: random = 0, best baseline = 1
    board = json.loads((BOARDS / "mo-MECOffloading-v0.json").read_text())
    means = {e["agent"]: e["results"]["hypervolume"]["mean"] for e in board["entries"]}
    best = max((a for a, e in zip(means, board["entries"]) if e["kind"] == "baseline" and a != "random"), key=means.get)
    assert (mec["zero"], mec["one"]) == (means["random"], means[best]) and best in mec["source"]
    assert suite.anchors(MEC, BOARDS / "missing", "gmorl") is None


def test_scores_are_normalized_between_the_anchors(monkeypatch):
    monkeypatch.setattr(suite, "anchors", lambda task, directory, agent: {"zero": 10.0, "one": 20.0, "source": "test"})
    records = {0: 15.0, 1: 20.0, 2: 5.0}

    def run_one(task_id, agent, train_seed):
        return fake_run(FAIR, agent, train_seed, [{"return": records[train_seed], "violation": 0.0, "feasible": 1.0,
                                                   "final_disparity": 0.0, "length": 2000.0}])

    score = suite.score_task(FAIR, "random", [0, 1, 2], BOARDS, run_one)
    assert score.raw == [15.0, 20.0, 5.0] and score.normalized == [0.5, 1.0, -0.5]


def test_aggregate_is_the_iqm_with_a_stratified_bootstrap_ci_and_the_profile_counts_runs_above_tau():
    scores = [TaskScore("a", "m", [], None, [0.0, 1.0, 2.0, 3.0]), TaskScore("b", "m", [], None, [4.0, 5.0, 6.0, 7.0]),
              TaskScore("c", "m", [], None)]  # no anchors: left out
    total = suite.aggregate(scores)
    assert total["iqm"] == pytest.approx(3.5) and (total["n_tasks"], total["n_runs"]) == (2, 4)
    assert total["ci95"][0] < 3.5 < total["ci95"][1]
    profile, low, high = suite.performance_profile(scores, np.array([-1.0, 2.5, 10.0]))
    assert profile.tolist() == [1.0, 0.625, 0.0]  # above 2.5: 1 of 4 runs of task a, 4 of 4 of task b
    assert np.all(low <= profile) and np.all(profile <= high)


def test_bench_command_writes_scores_anchors_and_profile(tmp_path, capsys):
    out = tmp_path / "bench"
    assert main(["bench", "--suite", "core", "--agent", "random", "--tasks", FAIR, "--seeds", "2",
                 "--dir", str(BOARDS), "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "IQM of normalized scores over 1 tasks x 2 runs" in printed and "registry reference scores" in printed
    summary = json.loads((out / "suite.json").read_text())
    (task,) = summary["tasks"]
    refs = get_task(FAIR).benchmark.reference_scores
    assert task["task"] == FAIR and len(task["normalized"]) == 2
    assert (task["anchors"]["zero"], task["anchors"]["one"]) == (refs["random"], refs["best"])
    assert (out / "performance_profile.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["bench", "--suite", "core", "--agent", "nobody"]) == 2
