"""The committed leaderboards pass every check of ``validate``: their numbers are what their
raw runs give, their protocol is the registry's, and every entry was produced under it."""

import copy
import json
from pathlib import Path

import pytest

from gauntlet.bench import leaderboard
from gauntlet.bench.runner import jsonable
from gauntlet.registry import get_task

BOARDS = sorted(p for p in (Path(__file__).resolve().parents[2] / "leaderboards").glob("*.json") if p.name != "schema.json")


def test_there_are_official_boards():
    assert any(p.name.startswith("LotSizing-15x5") for p in BOARDS)
    assert any(p.name.startswith("LotSizing-25x15") for p in BOARDS)


@pytest.mark.parametrize("path", BOARDS, ids=[p.stem for p in BOARDS])
def test_board_passes_validate(path):
    board = json.loads(path.read_text())
    leaderboard.validate(board, path)
    assert board["entries"], f"{path.name} has no entries"


@pytest.mark.parametrize("path", BOARDS, ids=[p.stem for p in BOARDS])
def test_board_values_match_the_registry(path):
    board = json.loads(path.read_text())
    task = get_task(board["task"])
    assert path == leaderboard.board_path(path.parent, task.id)
    assert board["env_kwargs"] == jsonable(task.kwargs)
    assert board["protocol"] == leaderboard.protocol(task.benchmark)


def test_the_registry_comparison_can_fail():
    # Guards the two tests above against comparing nothing: one edited value is reported.
    path = next(p for p in BOARDS if p.stem == "LotSizing-15x5-v0")
    board = copy.deepcopy(json.loads(path.read_text()))
    board["env_kwargs"]["n_items"] = 16
    assert leaderboard.registry_problems(board, path) == [
        f"{path}: field 'env_kwargs/n_items': 16 on the board, the task's kwargs are 15"
    ]


def test_fair_threshold_synthetic_ranks_feasible_entries_first():
    board = leaderboard.load(next(p for p in BOARDS if p.stem == "FairThreshold-Synthetic-v0"))
    order = [e["agent"] for e in leaderboard.ranked(board)]
    feasible = {e["agent"] for e in board["entries"] if e["results"]["violation"]["mean"] <= 20.0}
    assert set(order[: len(feasible)]) == feasible and "ofs" in feasible and "ucb" not in feasible


def test_perfect_info_is_shown_as_a_bound():
    for stem in ("LotSizing-15x5-v0", "LotSizing-25x15-v0"):
        board = leaderboard.load(next(p for p in BOARDS if p.stem == stem))
        assert [e["agent"] for e in leaderboard.bounds(board)] == ["perfect-info"]
        assert "perfect-info" not in [e["agent"] for e in leaderboard.ranked(board)]
