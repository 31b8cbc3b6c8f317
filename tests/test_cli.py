import json
import textwrap
from pathlib import Path

import pytest

from gauntlet.bench import leaderboard, sweep
from gauntlet.cli import main

TASK = "gauntlet/LotSizing-15x5-v0"


def test_list_shows_tasks_and_agents(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "LotSizing-15x5-v0" in out and "pdppo" in out and "base-stock" in out


def test_unknown_task_and_agent_list_the_known_ones(capsys):
    assert main(["run", "--task", "gauntlet/Nope-v0", "--agent", "random"]) == 2
    assert "known tasks" in capsys.readouterr().out
    assert main(["run", "--task", TASK, "--agent", "nope"]) == 2
    out = capsys.readouterr().out
    assert "known agents" in out and "pdppo" in out


def test_bad_json_kwargs_are_rejected(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--task", TASK, "--agent", "random", "--env-kwargs", "{oops"])
    assert "not valid JSON" in capsys.readouterr().err


def test_run_writes_records_and_a_leaderboard_entry(tmp_path, capsys):
    out, boards = tmp_path / "runs", tmp_path / "boards"
    code = main(["run", "--task", TASK, "--agent", "random", "--seeds", "2", "--out", str(out),
                 "--leaderboard", str(boards), "--no-progress"])
    assert code == 0
    for seed in (0, 1):
        record = json.loads((out / "gauntlet__LotSizing-15x5-v0" / "random" / f"seed{seed}.json").read_text())
        assert record["eval_seeds"][0] == 10_000 and len(record["episode_returns"]) == 20
        assert record["command"]
    board = leaderboard.load(boards / "LotSizing-15x5-v0.json")
    assert board["entries"][0]["results"]["cost"]["n_runs"] == 2


def test_run_on_dev_seeds(tmp_path):
    out = tmp_path / "runs"
    assert main(["run", "--task", TASK, "--agent", "random", "--eval", "dev", "--eval-episodes", "2",
                 "--out", str(out), "--no-progress"]) == 0
    record = json.loads((out / "gauntlet__LotSizing-15x5-v0" / "random" / "seed0.json").read_text())
    assert record["eval_seeds"] == [1000, 1001]


def test_sweep_runs_in_a_process_pool_and_resumes(tmp_path, capsys):
    out, boards = tmp_path / "runs", tmp_path / "boards"
    args = ["sweep", "--tasks", TASK, "--agents", "random,newsvendor", "--seeds", "2", "--out", str(out),
            "--workers", "2", "--leaderboard", str(boards), "--no-progress"]
    assert main(args) == 0
    assert "4 to run" in capsys.readouterr().out
    board = leaderboard.load(boards / "LotSizing-15x5-v0.json")
    assert sorted(e["agent"] for e in board["entries"]) == ["newsvendor", "random"]

    # An interrupted sweep: one run file is missing, the rest are skipped.
    jobs = sweep.plan([TASK], ["random", "newsvendor"], range(2), out)
    jobs[1].path.unlink()
    assert main(args) == 0
    assert "3 already done, 1 to run" in capsys.readouterr().out
    assert all(sweep.is_done(j) for j in jobs)


def test_sweep_rejects_unsupported_pairs(tmp_path, capsys):
    assert main(["sweep", "--tasks", TASK, "--agents", "ofs", "--out", str(tmp_path)]) == 2
    assert "does not support" in capsys.readouterr().out


def test_submit_adds_a_submission_entry(tmp_path, monkeypatch, capsys):
    module = tmp_path / "my_policy.py"
    module.write_text(textwrap.dedent('''
        import numpy as np

        class AlwaysIdle:
            def __init__(self, env):
                self.shape = env.action_space.shape

            def predict(self, observation, state=None, episode_start=None, deterministic=True):
                return np.zeros(self.shape, dtype=np.int64), state
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    boards = tmp_path / "boards"
    assert main(["submit", "--agent", "my_policy:AlwaysIdle", "--task", TASK, "--submitter", "alice",
                 "--leaderboard", str(boards)]) == 0
    board = leaderboard.load(boards / "LotSizing-15x5-v0.json")
    (entry,) = board["entries"]
    assert (entry["agent"], entry["kind"], entry["submitter"]) == ("alwaysidle", "submission", "alice")
    assert len(entry["provenance"]["artifact_sha256"]) == 64
    assert main(["submit", "--agent", "my_policy:Missing", "--task", TASK, "--submitter", "alice",
                 "--leaderboard", str(boards)]) == 2
    assert "cannot load the agent" in capsys.readouterr().out


def test_leaderboard_show_validate_export(tmp_path, capsys):
    boards = tmp_path / "boards"
    assert main(["run", "--task", TASK, "--agent", "random", "--out", str(tmp_path / "runs"),
                 "--leaderboard", str(boards), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["leaderboard", "show", TASK, "--dir", str(boards)]) == 0
    assert "random" in capsys.readouterr().out
    assert main(["leaderboard", "show", str(boards / "LotSizing-15x5-v0.json")]) == 0
    assert "random" in capsys.readouterr().out
    assert main(["leaderboard", "show", str(boards / "missing.json")]) == 2
    assert "no leaderboard file" in capsys.readouterr().out
    assert main(["leaderboard", "validate", "--dir", str(boards)]) == 0
    assert "ok" in capsys.readouterr().out
    target = tmp_path / "card.yaml"
    assert main(["leaderboard", "export", TASK, "--dir", str(boards), "--format", "model-index",
                 "--agent", "random", "--output", str(target)]) == 0
    assert target.read_text().startswith("model-index:")

    path = boards / "LotSizing-15x5-v0.json"
    board = json.loads(path.read_text())
    board["entries"][0]["runs"][0]["episode_returns"][0] += 1.0
    board["entries"][0]["runs"][0]["metrics"]["cost"][0] -= 1.0
    path.write_text(json.dumps(board))
    assert main(["leaderboard", "validate", str(path), "--dir", str(tmp_path / "elsewhere")]) == 2
    assert str(path) in capsys.readouterr().out


def test_leaderboard_show_ranks_solver_boards_by_shifted_geometric_mean(capsys):
    # The official MILP board stores nodes with a shift: the view shows the sgm next to the mean.
    boards = Path(__file__).resolve().parents[1] / "leaderboards"
    assert main(["leaderboard", "show", "gauntlet/MILPBranching-SetCover-v0", "--dir", str(boards)]) == 0
    out = capsys.readouterr().out
    assert "shifted geo. mean" in out
    assert out.index("scip-default") < out.index("random")
