import json
import subprocess

from PIL import Image

from .script_runner import run_script

TASK_DIR = "gauntlet__AGVWarehouse-SimpleStatic-v1"


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run_script("reproduce_rnd.py", *args, check=check)


def test_a_tiny_run_logs_curves_prints_the_table_and_draws_the_figures_without_touching_a_board(tmp_path):
    out, img, boards = tmp_path / "runs", tmp_path / "img", tmp_path / "boards"
    common = ["--scenes", "simple-static", "--out", str(out), "--img-dir", str(img), "--leaderboard-dir", str(boards)]
    stdout = run(*common, "--agents", "random", "ppo-rnd", "--seeds", "1", "--timesteps", "256",
                 "--no-leaderboard").stdout

    rows = {line.split("|")[1].strip(): line for line in stdout.splitlines() if line.startswith("| ")}
    assert {"random", "ppo-rnd"} <= rows.keys()
    assert "n/a (no training)" in rows["random"]
    assert (out / TASK_DIR / "ppo-rnd" / "seed0.json").is_file()
    curve = json.loads((out / "curves" / TASK_DIR / "ppo-rnd" / "seed0.json").read_text())
    assert curve["intrinsic"], "PPO+RND logs its intrinsic reward per rollout"
    assert all(0.0 <= fraction <= 1.0 for _, fraction in curve["coverage"])
    for figure in ("agv_rnd_learning_curve.png", "agv_episode.png"):
        with Image.open(img / figure) as image:
            assert image.width > 0 and image.height > 0
    assert not boards.exists()

    # --report-only rebuilds the same table from the runs on disk, without training
    again = run(*common, "--agents", "random", "ppo-rnd", "--report-only").stdout
    assert [line for line in again.splitlines() if line.startswith("| ppo-rnd")] == [rows["ppo-rnd"]]


def test_a_non_positive_budget_is_refused():
    result = run("--timesteps", "0", "--no-leaderboard", check=False)
    assert result.returncode == 2
    assert "--timesteps must be >= 1, got 0" in result.stderr
