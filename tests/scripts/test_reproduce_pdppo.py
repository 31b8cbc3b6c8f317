import json
import shutil
import subprocess

from .script_runner import run_script

TASK_DIR = "gauntlet__LotSizing-15x5-v0"


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run_script("reproduce_pdppo.py", *args, check=check)


def test_a_run_lost_from_out_is_recovered_from_its_kept_weights_with_the_same_numbers(tmp_path):
    out, models, boards = tmp_path / "runs", tmp_path / "models", tmp_path / "boards"
    common = ["--tasks", "15x5", "--agents", "pdppo", "--seeds", "1", "--timesteps", "800", "--baselines",
              "--save", str(models), "--out", str(out), "--leaderboard-dir", str(boards)]
    run(*common, "--no-leaderboard")
    trained = json.loads((out / TASK_DIR / "pdppo" / "seed0.json").read_text())
    curve = json.loads((out / TASK_DIR / "pdppo" / "seed0.curve.json").read_text())
    shutil.rmtree(out)

    stdout = run(*common, "--recover").stdout

    assert "pdppo seed 0: recovered from" in stdout
    recovered = json.loads((out / TASK_DIR / "pdppo" / "seed0.json").read_text())
    assert recovered["episode_returns"] == trained["episode_returns"]
    assert recovered["artifact_sha256"] == trained["artifact_sha256"]
    assert recovered["learning_curve"] == trained["learning_curve"]
    assert json.loads((out / TASK_DIR / "pdppo" / "seed0.curve.json").read_text()) == curve
    assert recovered["steps_per_s"] is None, "the training time of a recovered run is not known"
    board = json.loads((boards / "LotSizing-15x5-v0.json").read_text())
    assert [len(e["runs"]) for e in board["entries"] if e["agent"] == "pdppo"] == [1]


def test_weights_trained_for_another_budget_are_not_recovered(tmp_path):
    out, models = tmp_path / "runs", tmp_path / "models"
    common = ["--tasks", "15x5", "--agents", "pdppo", "--seeds", "1", "--baselines", "--save", str(models),
              "--no-leaderboard"]
    run(*common, "--timesteps", "800", "--out", str(out))

    stdout = run(*common, "--timesteps", "1600", "--recover", "--out", str(tmp_path / "other")).stdout

    assert "recovered" not in stdout
    assert "pdppo seed 0: eval cost" in stdout  # trained again instead


def test_recover_needs_the_weights_directory():
    result = run("--recover", "--no-leaderboard", check=False)
    assert result.returncode == 2
    assert "--recover reads the weights under --save DIR" in result.stderr
