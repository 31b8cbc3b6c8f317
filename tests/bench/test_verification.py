"""``gauntlet leaderboard verify``: entries re-run from their provenance, verified only when the
numbers reproduce, the outcome written into the entry without breaking the board's integrity."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gauntlet.bench import leaderboard
from gauntlet.bench.identity import entry_sha256
from gauntlet.bench.verification import verify
from gauntlet.cli import main

FAIR = "gauntlet/FairThreshold-Synthetic-v0"

BOARDS = Path(__file__).resolve().parents[2] / "leaderboards"
FAIR_FILE = "FairThreshold-Synthetic-v0.json"


@pytest.fixture
def boards(tmp_path) -> Path:
    shutil.copy(BOARDS / FAIR_FILE, tmp_path / FAIR_FILE)
    return tmp_path


def _entry(path: Path, agent: str, submitter: str = "gauntlet") -> dict:
    return next(e for e in leaderboard.load(path)["entries"] if e["agent"] == agent and e["submitter"] == submitter)


def test_baseline_reruns_exactly_and_is_marked_verified(boards):
    before = _entry(boards / FAIR_FILE, "random")
    result = verify(FAIR, "random", directory=boards, seeds=[0, 1])
    assert result.verified
    after = _entry(boards / FAIR_FILE, "random")
    record = after["verification"]
    assert record["status"] == "verified" and record["mode"] == "exact"
    assert [(r["train_seed"], r["source"], r["exact"], r["differences"]) for r in record["runs"]] == \
        [(0, "re-run", True, []), (1, "re-run", True, []), ]
    assert record["metrics"]["return"]["board_mean"] == before["results"]["return"]["mean"]
    # the entry is re-hashed with its verification, everything else untouched
    assert after["sha256"] == entry_sha256(after) != before["sha256"]
    assert {k: v for k, v in after.items() if k not in ("verification", "sha256")} == \
        {k: v for k, v in before.items() if k != "sha256"}
    leaderboard.validate(leaderboard.read(boards / FAIR_FILE), boards / FAIR_FILE)


def test_edited_verification_is_caught_by_the_entry_hash(boards):
    verify(FAIR, "random", directory=boards, seeds=[0])
    board = leaderboard.read(boards / FAIR_FILE)
    entry = next(e for e in board["entries"] if "verification" in e)
    entry["verification"]["status"] = "not reproduced"
    with pytest.raises(leaderboard.LeaderboardError, match="sha256"):
        leaderboard.validate(board, registry=False)


def test_numbers_that_do_not_reproduce_are_not_verified(boards, fair_run):
    # An entry of the real `random` baseline whose numbers were made up: re-running it differs.
    leaderboard.record([fair_run("random", 0, 1200.0, 5.0), fair_run("random", 1, 1201.0, 6.0)],
                       kind="baseline", submitter="someone", directory=boards)
    result = verify(FAIR, "random", directory=boards, submitter="someone")
    assert not result.verified
    record = _entry(boards / FAIR_FILE, "random", "someone")["verification"]
    assert record["status"] == "not reproduced" and record["mode"] == "exact"
    assert all(not r["exact"] and r["differences"][0].startswith("episode_returns/0: 1200") for r in record["runs"][:1])
    assert "not reproduced" in result.lines[-1]
    leaderboard.validate(leaderboard.read(boards / FAIR_FILE), boards / FAIR_FILE)


def test_new_runs_merged_later_drop_the_verification(boards, fair_run):
    leaderboard.record([fair_run("random", 0, 1200.0, 5.0)], kind="baseline", submitter="someone", directory=boards)
    verify(FAIR, "random", directory=boards, submitter="someone")
    assert "verification" in _entry(boards / FAIR_FILE, "random", "someone")
    leaderboard.record([fair_run("random", 1, 1201.0, 6.0)], kind="baseline", submitter="someone", directory=boards)
    assert "verification" not in _entry(boards / FAIR_FILE, "random", "someone")


def test_dry_run_writes_nothing(boards):
    text = (boards / FAIR_FILE).read_text()
    assert verify(FAIR, "random", directory=boards, seeds=[0], write=False).verified
    assert (boards / FAIR_FILE).read_text() == text


def test_bad_requests_are_clear_errors(boards, tmp_path, fair_run):
    with pytest.raises(ValueError, match="no entry of agent 'nobody'.*entries: \\(ofs, reference"):
        verify(FAIR, "nobody", directory=boards)
    with pytest.raises(ValueError, match=r"seeds=\[42\].*train seeds \[0, 1"):
        verify(FAIR, "random", directory=boards, seeds=[42])
    leaderboard.record([fair_run("random", 0, 1200.0, 5.0)], kind="baseline", submitter="someone", directory=boards)
    with pytest.raises(ValueError, match="2 entries of agent 'random'.*--submitter"):
        verify(FAIR, "random", directory=boards)
    with pytest.raises(FileNotFoundError, match="no leaderboard"):
        verify(FAIR, "random", directory=tmp_path / "empty")


def test_learned_run_without_its_weights_needs_retrain(tmp_path):
    name = "mo-MECOffloading-v0.json"
    shutil.copy(BOARDS / name, tmp_path / name)
    with pytest.raises(FileNotFoundError, match="no weights with sha256 [0-9a-f]{64} under .*--retrain"):
        verify("gauntlet/mo-MECOffloading-v0", "linucb", directory=tmp_path, models=tmp_path / "models")


def test_cli_exit_status_and_report(boards, capsys):
    assert main(["leaderboard", "verify", FAIR, "random", "--dir", str(boards), "--seeds", "0", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "train seed 0 (re-run): every episode reproduced" in out and "verified (not written)" in out
    assert main(["leaderboard", "verify", FAIR, "random", "--dir", str(boards), "--seeds", "zero"]) == 2
    assert "--seeds must be comma-separated" in capsys.readouterr().err
    assert "verification" not in json.loads((boards / FAIR_FILE).read_text())["entries"][0]
