"""The committed leaderboards are valid and were produced under the registry's current protocol."""

from pathlib import Path

import pytest

from gauntlet.bench import leaderboard
from gauntlet.registry import get_task

BOARDS = sorted(p for p in (Path(__file__).resolve().parents[2] / "leaderboards").glob("*.json") if p.name != "schema.json")


def test_there_are_official_boards():
    assert any(p.name.startswith("LotSizing-15x5") for p in BOARDS)
    assert any(p.name.startswith("LotSizing-25x15") for p in BOARDS)


@pytest.mark.parametrize("path", BOARDS, ids=[p.stem for p in BOARDS])
def test_board_validates_and_matches_the_registry(path):
    board = leaderboard.load(path)
    task = get_task(board["task"])
    assert path == leaderboard.board_path(path.parent, task.id)
    assert board["protocol"] == leaderboard.protocol(task.benchmark)
    assert board["env_kwargs"] == {**task.kwargs, **board["env_kwargs"]}
    assert board["entries"], f"{path.name} has no entries"
