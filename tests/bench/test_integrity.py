"""Every kind of tampering is rejected by validate, naming the file and the field."""

import copy
import json
import re

import numpy as np
import pytest
from conftest import FAIR, MEC, fake_run, make_lot_run

from gauntlet.bench import leaderboard
from gauntlet.bench.identity import entry_sha256
from gauntlet.bench.multi_objective import mo_metrics
from gauntlet.registry import get_task


@pytest.fixture(scope="module")
def written_board(tmp_path_factory):
    directory = tmp_path_factory.mktemp("boards")
    path = leaderboard.record([make_lot_run(0), make_lot_run(1), make_lot_run(2)], kind="baseline", directory=directory)
    leaderboard.record([make_lot_run(0, agent="newsvendor", offset=-100.0)], kind="baseline", directory=directory)
    return leaderboard.load(path)


@pytest.fixture
def board(written_board):
    return copy.deepcopy(written_board)


def rejected(board, tmp_path, field, name="LotSizing-15x5-v0.json", rehash=False):
    """Write ``board`` to ``name`` and assert validate names the file and the field."""
    if rehash:  # a tamperer who also recomputed the entry's hash
        for entry in board["entries"]:
            entry["sha256"] = entry_sha256(entry)
    path = tmp_path / "tampered" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(board))
    with pytest.raises(leaderboard.LeaderboardError) as info:
        leaderboard.validate(json.loads(path.read_text()), path)
    assert re.search(rf"{re.escape(str(path))}: .*field '{re.escape(field)}'", str(info.value)), str(info.value)
    return str(info.value)


def test_the_untampered_board_validates(board, tmp_path):
    leaderboard.validate(board, tmp_path / "LotSizing-15x5-v0.json")


def test_shifted_ci(board, tmp_path):
    board["entries"][0]["results"]["cost"]["ci95"][0] -= 10.0
    message = rejected(board, tmp_path, "entries/0/results/cost/ci95")
    assert "recomputed from its runs" in message


def test_mean_ci_of_a_fraction(board, tmp_path):
    board["entries"][0]["results"]["fill_rate"]["mean_ci95"] = [0.0, 1.0]
    rejected(board, tmp_path, "entries/0/results/fill_rate/mean_ci95")


def test_edited_mean(board, tmp_path):
    board["entries"][0]["results"]["cost"]["mean"] -= 1000.0
    rejected(board, tmp_path, "entries/0/results/cost/mean")


def test_edited_n_runs(board, tmp_path):
    board["entries"][0]["results"]["cost"]["n_runs"] = 5
    rejected(board, tmp_path, "entries/0/results/cost/n_runs")


def test_edited_train_timesteps(board, tmp_path):
    board["entries"][0]["config"]["train_timesteps"] = 30_000
    message = rejected(board, tmp_path, "entries/0/runs/0/train_timesteps")
    assert "config/train_timesteps is 30000" in message


def test_edited_train_timesteps_everywhere_is_caught_by_the_config_hash(board, tmp_path):
    entry = board["entries"][0]
    entry["config"]["train_timesteps"] = 30_000
    for run in entry["runs"]:
        run["train_timesteps"] = 30_000
    rejected(board, tmp_path, "entries/0/config")


def test_edited_train_seed(board, tmp_path):
    board["entries"][0]["runs"][2]["train_seed"] = 3
    message = rejected(board, tmp_path, "entries/0/runs/2/train_seed")
    assert "the entry's train_seeds say 2" in message


def test_train_seed_outside_the_protocol(board, tmp_path):
    board["entries"][0]["runs"][2]["train_seed"] = 7
    board["entries"][0]["train_seeds"][2] = 7
    rejected(board, tmp_path, "entries/0/runs/2/train_seed")


def test_edited_eval_seeds(board, tmp_path):
    board["protocol"]["eval_seeds"] = [s + 1 for s in board["protocol"]["eval_seeds"]]
    message = rejected(board, tmp_path, "protocol/eval_seeds/0")
    assert "10001 on the board, the task's protocol has 10000" in message


def test_edited_task(board, tmp_path):
    board["task"] = "gauntlet/LotSizing-25x15-v0"
    message = rejected(board, tmp_path, "task")
    assert "named LotSizing-25x15-v0.json" in message


def test_flipped_metric_direction(board, tmp_path):
    board["protocol"]["metrics"][0]["direction"] = "max"
    message = rejected(board, tmp_path, "protocol/metrics/0/direction")
    assert '"max" on the board, the task\'s protocol has "min"' in message


def test_edited_env_kwargs(board, tmp_path):
    board["env_kwargs"]["n_items"] = 20
    rejected(board, tmp_path, "env_kwargs/n_items")


def test_board_of_another_env_version(board, tmp_path):
    board["task"] = "gauntlet/LotSizing-15x5-v1"
    message = rejected(board, tmp_path, "task", name="LotSizing-15x5-v1.json")
    assert "another env version" in message and "gauntlet/LotSizing-15x5-v0" in message


def test_board_of_the_previous_schema(board, tmp_path):
    board["schema"] = "gauntlet-leaderboard/1"
    message = rejected(board, tmp_path, "schema")
    assert "gauntlet-leaderboard/2" in message


def test_edited_wall_time(board, tmp_path):
    board["entries"][1]["runs"][0]["wall_time_s"] = 0.5
    message = rejected(board, tmp_path, "entries/1/sha256")
    assert "edited after it was written" in message


def test_edited_command(board, tmp_path):
    board["entries"][0]["runs"][1]["provenance"]["command"] = "gauntlet run --timesteps 1000000"
    rejected(board, tmp_path, "entries/0/sha256")


def test_edited_kind_is_caught_by_the_hash(board, tmp_path):
    board["entries"][1]["kind"] = "reference"
    rejected(board, tmp_path, "entries/1/sha256")


def test_entry_off_the_protocol_even_with_a_consistent_hash(board, tmp_path):
    board["entries"][0]["config"]["train_env_kwargs"]["horizon"] = 50
    from gauntlet.bench.identity import content_sha256

    board["entries"][0]["config_sha256"] = content_sha256(board["entries"][0]["config"])
    message = rejected(board, tmp_path, "entries/0/config/train_env_kwargs/horizon", rehash=True)
    assert "produced under another protocol" in message


def test_every_problem_is_listed(board, tmp_path):
    board["protocol"]["metrics"][0]["direction"] = "max"
    board["env_kwargs"]["n_items"] = 20
    message = rejected(board, tmp_path, "env_kwargs/n_items")
    assert "2 problems" in message and "protocol/metrics/0/direction" in message


def test_tampered_multi_objective_figures(tmp_path):
    spec = get_task(MEC).benchmark
    seeds, weights = spec.eval_seeds(official=True), np.asarray(spec.preference_weights)
    rng = np.random.default_rng(0)
    returns = [list(-rng.uniform(10, 90, size=2)) for _ in range(len(weights) * len(seeds))]
    mean = np.asarray(returns).reshape(len(weights), len(seeds), 2).mean(1)
    metrics = [{"length": 100.0, "mean_delay": 1.0, "mean_energy": 0.1} for _ in returns]
    run = fake_run(MEC, "random", 0, metrics, returns=returns, weights=weights.tolist(),
                   mo_metrics=mo_metrics(mean, weights, spec.hv_ref_point))
    board = leaderboard.load(leaderboard.record([run], kind="baseline", directory=tmp_path))
    tampered = copy.deepcopy(board)
    tampered["entries"][0]["runs"][0]["mo_metrics"]["hypervolume"] *= 1.5
    rejected(tampered, tmp_path, "entries/0/runs/0/mo_metrics/hypervolume", name="mo-MECOffloading-v0.json")
    tampered = copy.deepcopy(board)
    tampered["entries"][0]["front"] = tampered["entries"][0]["front"][:-1]
    rejected(tampered, tmp_path, "entries/0/front", name="mo-MECOffloading-v0.json")


def test_constraint_budget_edited(tmp_path, fair_run):
    path = leaderboard.record([fair_run("ofs", 0, 1136.0, 5.0)], kind="reference", directory=tmp_path)
    board = leaderboard.load(path)
    board["protocol"]["constraints"][0]["budget"] = 1000.0
    message = rejected(board, tmp_path, "protocol/constraints/0/budget", name=f"{FAIR.split('/')[1]}.json")
    assert "1000.0 on the board, the task's protocol has 20.0" in message
