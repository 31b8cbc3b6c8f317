"""gauntlet run --save keeps the trained weights; leaderboard evaluate re-evaluates them."""

import hashlib
import json
import shutil

import pytest
from conftest import FAIR, LOT

from gauntlet.bench import leaderboard
from gauntlet.cli import main


@pytest.fixture(scope="module")
def saved_ppo(tmp_path_factory):
    """A 400-step SB3 PPO on LotSizing-15x5 (one update), saved and recorded on a board."""
    root = tmp_path_factory.mktemp("ppo")
    assert main(["run", "--task", LOT, "--agent", "ppo", "--timesteps", "400", "--out", str(root / "runs"),
                 "--save", str(root / "models"), "--leaderboard", str(root / "boards"), "--no-progress"]) == 0
    return root


def test_run_save_writes_the_weights_and_records_their_sha256(saved_ppo):
    weights = saved_ppo / "models" / "gauntlet__LotSizing-15x5-v0" / "ppo" / "seed0.zip"
    sha = hashlib.sha256(weights.read_bytes()).hexdigest()
    record = json.loads((saved_ppo / "runs" / "gauntlet__LotSizing-15x5-v0" / "ppo" / "seed0.json").read_text())
    assert record["artifact_sha256"] == sha and record["artifact_path"] == str(weights)
    assert record["train_timesteps"] == 400 and record["trained_timesteps"] == 400  # SB3's num_timesteps
    (entry,) = leaderboard.load(saved_ppo / "boards" / "LotSizing-15x5-v0.json")["entries"]
    assert entry["runs"][0]["artifact_sha256"] == sha and entry["runs"][0]["trained_timesteps"] == 400


def test_evaluate_reproduces_the_entry_from_the_saved_weights(saved_ppo, capsys):
    weights = saved_ppo / "models" / "gauntlet__LotSizing-15x5-v0" / "ppo" / "seed0.zip"
    capsys.readouterr()
    assert main(["leaderboard", "evaluate", LOT, "ppo", "--weights", str(weights), "--dir", str(saved_ppo / "boards")]) == 0
    out = capsys.readouterr().out
    assert "reproduces run 0 (train seed 0) of (ppo, reference, submitter gauntlet) on every episode" in out


def test_weights_with_another_sha256_are_refused(saved_ppo, tmp_path, capsys):
    weights = saved_ppo / "models" / "gauntlet__LotSizing-15x5-v0" / "ppo" / "seed0.zip"
    other = tmp_path / "other.zip"
    shutil.copy(weights, other)
    with open(other, "ab") as fh:
        fh.write(b"\0")
    capsys.readouterr()
    assert main(["leaderboard", "evaluate", LOT, "ppo", "--weights", str(other), "--dir", str(saved_ppo / "boards")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {other}: sha256 {hashlib.sha256(other.read_bytes()).hexdigest()} is not the weights")
    assert "entries/0/runs/0/artifact_sha256 = " in err


def test_evaluate_needs_weights_and_an_agent(capsys):
    assert main(["leaderboard", "evaluate", LOT, "ppo"]) == 2
    assert "needs --weights FILE" in capsys.readouterr().err
    assert main(["leaderboard", "evaluate", LOT, "--weights", "x.zip"]) == 2
    assert "needs the agent" in capsys.readouterr().err


def test_online_learners_are_saved_before_they_are_evaluated(tmp_path, capsys):
    # OFS keeps learning while it is evaluated: its weights are the state before evaluation, so
    # re-evaluating them reproduces the run.
    boards = tmp_path / "boards"
    assert main(["run", "--task", FAIR, "--agent", "ofs", "--out", str(tmp_path / "runs"), "--save", str(tmp_path / "models"),
                 "--leaderboard", str(boards), "--no-progress"]) == 0
    weights = tmp_path / "models" / "gauntlet__FairThreshold-Synthetic-v0" / "ofs" / "seed0.weights"
    capsys.readouterr()
    assert main(["leaderboard", "evaluate", FAIR, "ofs", "--weights", str(weights), "--dir", str(boards)]) == 0
    assert "reproduces run 0 (train seed 0)" in capsys.readouterr().out
    # Without a board the re-evaluation is reported as it is.
    assert main(["leaderboard", "evaluate", FAIR, "ofs", "--weights", str(weights), "--dir", str(tmp_path / "none")]) == 0
    out = capsys.readouterr().out
    assert "evaluated on the 1 official seeds from 10000: return" in out and "no entry of 'ofs'" in out
