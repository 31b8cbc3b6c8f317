"""The board commands of the CLI: run/sweep --replace, leaderboard show/validate/refresh."""

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import LOT

from gauntlet.bench import leaderboard
from gauntlet.bench.identity import entry_sha256
from gauntlet.cli import main

OFFICIAL = Path(__file__).resolve().parents[2] / "leaderboards"


def test_replace_needs_a_leaderboard(tmp_path, capsys):
    assert main(["run", "--task", LOT, "--agent", "random", "--out", str(tmp_path), "--replace", "--no-progress"]) == 2
    assert "--replace replaces a leaderboard entry: it needs --leaderboard DIR" in capsys.readouterr().err


def test_replace_of_a_missing_entry_is_an_error_and_writes_no_board(tmp_path, capsys):
    boards = tmp_path / "boards"
    assert main(["run", "--task", LOT, "--agent", "random", "--out", str(tmp_path / "runs"), "--leaderboard", str(boards),
                 "--replace", "--no-progress"]) == 2
    assert "--replace: there is no board, so no entry (random, baseline, submitter gauntlet) to replace" in capsys.readouterr().err
    assert not (boards / "LotSizing-15x5-v0.json").exists()


def test_runs_with_other_env_kwargs_do_not_go_on_the_board(tmp_path, capsys):
    boards = tmp_path / "boards"
    assert main(["run", "--task", LOT, "--agent", "random", "--env-kwargs", '{"horizon": 20}', "--out", str(tmp_path / "runs"),
                 "--leaderboard", str(boards), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "not produced under the task's protocol" in err and "config/train_env_kwargs/horizon: 20 in the runs" in err
    assert not (boards / "LotSizing-15x5-v0.json").exists()


def test_show_lists_feasible_entries_first_and_bounds_apart(capsys):
    assert main(["leaderboard", "show", "gauntlet/FairThreshold-Synthetic-v0", "--dir", str(OFFICIAL)]) == 0
    out = capsys.readouterr().out
    assert "feasible" in out and out.index("ofs") < out.index("ucb") and "no: violation 257.8 (budget <= 20)" in out
    assert main(["leaderboard", "show", LOT, "--dir", str(OFFICIAL)]) == 0
    out = capsys.readouterr().out
    assert "bounds (not policies, not ranked)" in out
    bounds_table = out[out.index("bounds (not policies"):]
    assert "perfect-info" in bounds_table and "cost_lower_bound" in bounds_table
    assert "perfect-info" not in out[: out.index("bounds (not policies")]


def test_validate_with_no_argument_checks_every_board_in_the_directory(capsys, monkeypatch):
    monkeypatch.chdir(OFFICIAL.parent)
    failing = []
    for path in sorted(OFFICIAL.glob("*-v*.json")):
        try:
            leaderboard.validate(leaderboard.read(path), Path("leaderboards") / path.name)
        except leaderboard.LeaderboardError:
            failing.append(path.name)
    assert main(["leaderboard", "validate"]) == (2 if failing else 0)
    captured = capsys.readouterr()
    assert captured.out.count("ok  leaderboards/") == len(list(OFFICIAL.glob("*-v*.json"))) - len(failing)
    for name in failing:
        assert f"error: leaderboards/{name}" in captured.err


def test_refresh_rewrites_a_board_under_the_registry(tmp_path, capsys):
    path = tmp_path / "LotSizing-15x5-v0.json"
    shutil.copy(OFFICIAL / path.name, path)
    board = json.loads(path.read_text())
    board["protocol"]["metrics"][0]["description"] = "an old description"
    for entry in board["entries"]:
        entry["sha256"] = entry_sha256(entry)
    path.write_text(json.dumps(board))
    assert main(["leaderboard", "validate", str(path)]) == 2
    assert "protocol/metrics/0/description" in capsys.readouterr().err
    assert main(["leaderboard", "refresh", str(path)]) == 0
    assert f"refreshed  {path}" in capsys.readouterr().out
    assert main(["leaderboard", "validate", str(path)]) == 0
    assert json.loads(path.read_text())["entries"] == json.loads((OFFICIAL / path.name).read_text())["entries"]


@pytest.mark.parametrize("stem", ["LotSizing-15x5-v0", "FairThreshold-Synthetic-v0"])
def test_markdown_export_of_an_official_board(stem, capsys):
    assert main(["leaderboard", "export", f"gauntlet/{stem}", "--dir", str(OFFICIAL)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"### gauntlet/{stem}")
    assert not re.search(r"(?<![\w.])-0(\.0*)?(?![\w.])", out)  # no negative zero in any cell
