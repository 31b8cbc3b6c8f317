import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pyscipopt")

from .script_runner import ROOT, run_script


def run(*args: str) -> str:
    return run_script("reproduce_branching.py", *args).stdout


def test_small_run_reports_every_policy_and_writes_run_records_but_no_board(tmp_path):
    out = run("--problems", "setcover", "--size", "small", "--instances", "2", "--agents", "most-fractional",
              "random", "--seed", "3", "--out", str(tmp_path / "runs"), "--leaderboard-dir", str(tmp_path / "boards"))
    assert "most-fractional" in out and "random" in out and "solved 2/2" in out
    assert "instances solved by every policy: 2/2" in out
    assert len(list((tmp_path / "runs").rglob("seed3.json"))) == 2
    assert not (tmp_path / "boards").exists()  # not the official seeds: no leaderboard entry


def test_no_agents_compares_the_board_entries_on_commonly_solved_instances(tmp_path):
    boards = tmp_path / "boards"
    boards.mkdir()
    shutil.copy(ROOT / "leaderboards" / "MILPBranching-IndependentSet-v0.json", boards)
    out = run("--problems", "indset", "--agents", "--compare", "scip-default", "gcnn", "--out",
              str(tmp_path / "runs"), "--leaderboard-dir", str(boards))
    assert "gcnn: from its entry on" in out
    assert "instances solved by every policy: 20/20" in out  # both solve every instance on the board
    assert "nodes relative to scip-default: gcnn" in out
    assert "revibranch" not in out.split("instances solved by every policy")[1]


def fake_states(path: Path, groups: range, per_group: int = 3) -> None:
    """Labelled node states (random features, 4 candidates) of instances ``groups``, saved as
    collect_strong_branching.py saves them."""
    from gauntlet.agents.gcnn import Sample, save_samples

    rng = np.random.default_rng(groups.start)
    samples = []
    for g in groups:
        for _ in range(per_group):
            scores = rng.random(4)
            samples.append(Sample(rng.standard_normal((9, 19)).astype(np.float32), rng.standard_normal((5, 5)).astype(np.float32),
                                  np.stack([rng.integers(0, 5, 20), rng.integers(0, 9, 20)]),
                                  rng.standard_normal((20, 1)).astype(np.float32), rng.choice(9, 4, replace=False),
                                  int(np.argmax(scores)), scores, g))
    save_samples(path, samples)


def test_gcnn_reports_validation_and_test_agreement_and_measures_a_saved_model(tmp_path):
    fake_states(tmp_path / "train.npz", range(10))
    fake_states(tmp_path / "test.npz", range(100, 103))
    common = ["--problems", "setcover", "--size", "small", "--out", str(tmp_path / "runs"),
              "--leaderboard-dir", str(tmp_path / "boards")]
    out = run(*common, "--instances", "1", "--agents", "gcnn", "--gcnn-data", str(tmp_path / "train.npz"),
              "--gcnn-epochs", "2")
    # 10 instances: 2 validate (pick the epoch), 2 test, 6 train
    assert "gcnn: 18 training states of 6 instances; kept epoch" in out
    assert "validation (picks the epoch), 6 states of 2 instances: top-1 agreement with strong branching" in out
    assert "test (unseen by training and selection), 6 states of 2 instances: top-1" in out
    saved = tmp_path / "runs" / "setcover_gcnn.pt"
    out = run(*common, "--agents", "--gcnn-model", str(saved), "--gcnn-test-data", str(tmp_path / "test.npz"))
    assert "validation (picks the epoch), 6 states of 2 instances" in out
    assert "test (unseen by training and selection), 9 states of 3 instances" in out
    refused = run_script("reproduce_branching.py", *common, "--agents", "--gcnn-model", str(saved),
                         "--gcnn-test-data", str(tmp_path / "train.npz"), check=False)
    assert refused.returncode != 0
    assert "error: --gcnn-test-data holds instances the GCNN was trained or validated on" in refused.stderr
