import hashlib
import json
import os
import subprocess
import sys
import textwrap
import urllib.error
from pathlib import Path

import pytest

from gauntlet.bench import leaderboard, sweep
from gauntlet.cli import main
from gauntlet.data import fetch as fetch_module

TASK = "gauntlet/LotSizing-15x5-v0"

IDLE_POLICY = '''
import numpy as np

class AlwaysIdle:
    def __init__(self, env):
        self.shape = env.action_space.shape

    def predict(self, observation, state=None, episode_start=None, deterministic=True):
        return np.zeros(self.shape, dtype=np.int64), state
'''


def user_error(capsys) -> str:
    """What a user error printed to stderr: one ``error:`` line, no traceback."""
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err, err
    return err


def test_list_shows_tasks_agents_and_extras(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "LotSizing-15x5-v0" in out and "pdppo" in out and "base-stock" in out
    # rich would read "[scip]" as a style and print nothing
    rows = {line.split()[1]: line for line in out.splitlines() if "gauntlet/" in line}
    assert "[scip]" in rows["gauntlet/MILPBranching-SetCover-v0"] and "[data]" in rows["gauntlet/ESGPortfolio-v0"]
    assert "[" not in rows["gauntlet/LotSizing-15x5-v0"]


def test_unknown_task_and_agent_list_the_known_ones(capsys):
    assert main(["run", "--task", "gauntlet/Nope-v0", "--agent", "random"]) == 2
    err = user_error(capsys)
    assert err.startswith("error: unknown task 'gauntlet/Nope-v0'; known tasks:") and TASK in err
    assert main(["run", "--task", TASK, "--agent", "nope"]) == 2
    err = user_error(capsys)
    assert err.startswith("error: unknown agent 'nope'; known agents:") and "pdppo" in err
    assert main(["sweep", "--tasks", "gauntlet/Nope-*", "--agents", "random"]) == 2
    assert "no benchmarked task matches 'gauntlet/Nope-*'; benchmarked tasks:" in user_error(capsys)


def test_bad_json_and_integers_are_rejected_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--task", TASK, "--agent", "random", "--env-kwargs", "{oops"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "not valid JSON" in err and "expected a JSON object such as" in err
    with pytest.raises(SystemExit):
        main(["run", "--task", TASK, "--agent", "random", "--agent-kwargs", "[1, 2]"])
    assert "expected a JSON object such as" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run", "--task", TASK, "--agent", "random", "--seeds", "two"])
    assert "argument --seeds: expected an integer >= 1, got 'two'" in capsys.readouterr().err


def test_unknown_agent_kwargs_list_the_accepted_hyperparameters(tmp_path, capsys):
    base = ["run", "--task", TASK, "--out", str(tmp_path), "--no-progress", "--agent-kwargs"]
    assert main([*base, '{"n_step": 64}', "--agent", "pdppo"]) == 2
    err = user_error(capsys)
    assert err.startswith("error: agent 'pdppo': unknown hyperparameter(s) ['n_step']; accepted: dual_critic, gamma")
    assert "n_steps" in err and "tensorboard_log" in err and len(err.splitlines()) == 1
    assert main([*base, '{"depth": 3}', "--agent", "base-stock"]) == 2
    assert "accepted: reorder_cover, order_up_to_cover" in user_error(capsys)
    assert main([*base, '{"lr": 0.1}', "--agent", "ppo"]) == 2  # SB3's keywords
    assert "MaskablePPO: unknown hyperparameter(s) ['lr']; accepted: tensorboard_log, verbose, n_envs, learning_rate" \
        in user_error(capsys)
    assert main([*base, '{"seed": 3}', "--agent", "random"]) == 2
    assert "['seed'] cannot be given as hyperparameters" in user_error(capsys)
    assert not list(tmp_path.iterdir())


def test_corrupt_dataset_is_one_line_naming_the_file(tmp_path, monkeypatch, capsys):
    target = tmp_path / "fairness" / "german.data"
    target.parent.mkdir()
    target.write_bytes(b"corrupt")
    monkeypatch.setenv("GAUNTLET_DATA_HOME", str(tmp_path))

    def offline(url, destination):
        raise urllib.error.URLError("network unreachable")

    monkeypatch.setattr(fetch_module, "_download", offline)
    assert main(["run", "--task", "gauntlet/FairThreshold-German-v0", "--agent", "random", "--no-progress",
                 "--out", str(tmp_path / "runs")]) == 2
    err = user_error(capsys)
    assert err.startswith(f"error: cached file {target} is corrupt") and "could not be downloaded" in err


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
    assert "does not support" in user_error(capsys)


def test_submit_imports_from_the_current_directory(tmp_path, monkeypatch, capsys):
    (tmp_path / "my_policy.py").write_text(IDLE_POLICY)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    path_before = list(sys.path)
    assert main(["submit", "--agent", "my_policy:AlwaysIdle", "--task", TASK, "--submitter", "alice",
                 "--leaderboard", "boards"]) == 0
    assert sys.path == path_before  # the current directory was importable during the submission only
    path = tmp_path / "boards" / "LotSizing-15x5-v0.json"
    (entry,) = leaderboard.load(path)["entries"]
    assert (entry["agent"], entry["kind"], entry["submitter"]) == ("alwaysidle", "submission", "alice")
    assert hashlib.sha256(IDLE_POLICY.encode()).hexdigest() in path.read_text()  # the policy's source, hashed
    capsys.readouterr()
    assert main(["submit", "--agent", "my_policy:Missing", "--task", TASK, "--submitter", "alice",
                 "--leaderboard", "boards"]) == 2
    assert f"cannot load the agent 'my_policy:Missing' (from the current directory {tmp_path}" in user_error(capsys)


def test_submit_from_the_console_script(tmp_path):
    # The installed `gauntlet` script's sys.path starts with its own directory, not the caller's.
    script = Path(sys.executable).with_name("gauntlet")
    if not script.is_file():
        pytest.skip(f"no gauntlet console script next to {sys.executable}")
    (tmp_path / "my_policy.py").write_text(IDLE_POLICY)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([str(script), "submit", "--agent", "my_policy:AlwaysIdle", "--task", TASK,
                           "--submitter", "bob", "--leaderboard", "boards"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert leaderboard.load(tmp_path / "boards" / "LotSizing-15x5-v0.json")["entries"][0]["submitter"] == "bob"


@pytest.mark.parametrize("source, message", [
    ("class NoEnv:\n    def predict(self, observation, **kwargs):\n        return 0, None\n",
     "'no_env_policy:NoEnv' cannot be called with the env (too many positional arguments); --agent must name an "
     "object with predict("),
    ("class NoPredict:\n    def __init__(self, env):\n        pass\n",
     "'no_predict_policy:NoPredict' returned NoPredict, which has no predict() method; --agent must name"),
    ("NoPolicy = 3\n", "'int_policy:NoPolicy' (type int) is neither a policy nor callable; --agent must name"),
])
def test_submit_explains_what_an_agent_must_be(tmp_path, monkeypatch, capsys, source, message):
    name = message.split("'")[1]
    (tmp_path / f"{name.partition(':')[0]}.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    assert main(["submit", "--agent", name, "--task", TASK, "--submitter", "alice"]) == 2
    err = user_error(capsys)
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "leaderboards").exists()


def test_a_bug_in_the_policy_keeps_its_traceback(tmp_path, monkeypatch):
    (tmp_path / "buggy_policy.py").write_text(textwrap.dedent('''
        class Buggy:
            def __init__(self, env):
                self.table = {}

            def predict(self, observation, state=None, episode_start=None, deterministic=True):
                return self.table["missing"], state
    '''))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(KeyError, match="missing"):
        main(["submit", "--agent", "buggy_policy:Buggy", "--task", TASK, "--submitter", "alice"])


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
    assert "no leaderboard file" in user_error(capsys)
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
    assert str(path) in user_error(capsys)


def test_leaderboard_show_ranks_solver_boards_by_shifted_geometric_mean(capsys):
    # The official MILP board stores nodes with a shift: the view shows the sgm next to the mean.
    boards = Path(__file__).resolve().parents[1] / "leaderboards"
    assert main(["leaderboard", "show", "gauntlet/MILPBranching-SetCover-v0", "--dir", str(boards)]) == 0
    out = capsys.readouterr().out
    assert "shifted geo. mean" in out
    assert out.index("scip-default") < out.index("random")
