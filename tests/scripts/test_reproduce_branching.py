import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pyscipopt")

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "reproduce_branching.py"


def run(*args: str) -> str:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=True,
                          cwd=ROOT).stdout


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
