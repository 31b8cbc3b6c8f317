"""gauntlet tune: Ray Tune over an agent's declared search space, on development seeds only."""

import csv
import json
import math

import pytest

pytest.importorskip("ray")

from gauntlet.bench.tuning import tune_agent  # noqa: E402
from gauntlet.cli import main  # noqa: E402
from gauntlet.registry import get_agent  # noqa: E402
from gauntlet.registry.specs import DEV_EVAL_SEED_START, OFFICIAL_EVAL_SEED_START  # noqa: E402

TASK = "gauntlet/LotSizing-15x5-v0"


def test_tune_writes_best_config_and_trials_from_dev_seeds(tmp_path):
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        best = tune_agent(TASK, "ppo", samples=2, out=tmp_path, timesteps=400, eval_episodes=2)
    finally:
        ray.shutdown()
    space = get_agent("ppo").search_space
    saved = json.loads((tmp_path / "best_config.json").read_text())
    assert saved["config"] == best["config"] and set(saved["config"]) == set(space)
    assert saved["eval_seeds"] == [DEV_EVAL_SEED_START, DEV_EVAL_SEED_START + 1]
    rows = list(csv.DictReader((tmp_path / "trials.csv").open()))
    assert len(rows) == 2
    for row in rows:
        lo, hi = space["learning_rate"]["loguniform"]
        assert lo <= float(row["config/learning_rate"]) <= hi
        assert float(row["config/clip_range"]) in space["clip_range"]["choice"]
        seeds = [int(s) for s in row["eval_seeds"].split(",")]
        assert all(DEV_EVAL_SEED_START <= s < OFFICIAL_EVAL_SEED_START for s in seeds)
        assert float(row["score"]) == -float(row["cost"])  # cost is a "min" metric
        assert int(row["trained_timesteps"]) >= 400
    assert best["score"] == max(float(row["score"]) for row in rows)
    assert not math.isnan(best["cost"])


@pytest.mark.parametrize("task, agent, space, message", [
    (TASK, "random", None, "does not learn"),
    (TASK, "pdppo", None, "declares no search space"),
    (TASK, "ppo", {"learnin_rate": {"loguniform": [1e-4, 1e-3]}}, "learnin_rate"),
    (TASK, "ppo", {"learning_rate": {"gaussian": [1e-4, 1e-3]}}, "expected one of"),
    ("gauntlet/LotSizing-15x5-v0", "no-such-agent", None, "unknown agent"),
])
def test_bad_input_is_one_clear_error(tmp_path, task, agent, space, message):
    with pytest.raises((ValueError, KeyError), match=message):
        tune_agent(task, agent, samples=1, out=tmp_path, timesteps=10, search_space=space)
    assert not (tmp_path / "best_config.json").exists()


@pytest.mark.parametrize("argv, message", [
    (["--task", "gauntlet/NoSuchTask-v0", "--agent", "ppo"], "unknown task"),
    (["--task", TASK, "--agent", "random"], "does not learn"),
])
def test_cli_prints_one_error_line_and_exits_2(tmp_path, capsys, argv, message):
    assert main(["tune", *argv, "--samples", "1", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("error:") and message in err[0]
