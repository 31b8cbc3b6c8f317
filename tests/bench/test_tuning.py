"""gauntlet tune: Ray Tune over an agent's declared search space, on development seeds only."""

import csv
import dataclasses
import json
import math

import pytest

pytest.importorskip("ray")

from gauntlet.bench.executors import init_ray  # noqa: E402
from gauntlet.bench.tuning import tune_agent  # noqa: E402
from gauntlet.cli import main  # noqa: E402
from gauntlet.registry import AGENTS  # noqa: E402
from gauntlet.registry.specs import DEV_EVAL_SEED_START, OFFICIAL_EVAL_SEED_START  # noqa: E402

TASK = "gauntlet/LotSizing-15x5-v0"


# Wide enough that some trials learn nothing in 400 steps (the smallest rates) and others do;
# one trial at a time, so ASHA sees the trials in the sampler's (seeded) order and its decisions
# are the same on every run.
WIDE_SPACE = {"learning_rate": {"loguniform": [1e-7, 1e-1]}, "n_epochs": {"choice": [5]}}


@pytest.fixture(scope="module")
def local_ray():
    import ray

    ray.shutdown()
    init_ray(num_cpus=2)  # as gauntlet tune starts it: workers at the caller's priority
    yield
    ray.shutdown()


def test_asha_stops_weak_trials_at_a_rung_and_scores_on_dev_seeds_only(local_ray, tmp_path):
    # PPO on LotSizing trains in rollouts of 400 steps (8 copies x 50): one rollout per rung.
    best = tune_agent(TASK, "ppo", samples=3, out=tmp_path, timesteps=800, eval_episodes=1, rungs=2,
                      search_space=WIDE_SPACE, max_concurrent=1)
    saved = json.loads((tmp_path / "best_config.json").read_text())
    assert saved["config"] == best["config"] and set(saved["config"]) == set(WIDE_SPACE)
    assert saved["eval_seeds"] == [DEV_EVAL_SEED_START]
    assert saved["asha"] == {"rungs": 2, "grace_period": 1, "reduction_factor": 2}
    rows = list(csv.DictReader((tmp_path / "trials.csv").open()))
    assert len(rows) == 3
    for row in rows:
        lo, hi = WIDE_SPACE["learning_rate"]["loguniform"]
        assert lo <= float(row["config/learning_rate"]) <= hi
        seeds = [int(s) for s in row["eval_seeds"].split(",")]
        assert all(DEV_EVAL_SEED_START <= s < OFFICIAL_EVAL_SEED_START for s in seeds)
        assert float(row["score"]) == -float(row["cost"])  # cost is a "min" metric
        assert row["rungs_planned"] == "2" and not row["error"]
        assert int(row["trained_timesteps"]) == 400 * int(row["rungs"])
        assert (row["stopped_early"] == "True") == (row["rungs"] == "1")
    stopped = [row for row in rows if row["stopped_early"] == "True"]
    finished = [row for row in rows if row["stopped_early"] == "False"]
    assert stopped and finished and saved["stopped_early"] == len(stopped)
    assert best["score"] == max(float(row["score"]) for row in finished)
    assert not math.isnan(best["cost"])


def test_every_trial_failing_is_one_error_line_naming_the_cause(local_ray, tmp_path, capfd, monkeypatch):
    # A float for PPO's epoch count builds, then fails in every trial's first update.
    bad = dataclasses.replace(AGENTS["ppo"], search_space={"n_epochs": {"uniform": [2, 3]}})
    monkeypatch.setitem(AGENTS, "ppo", bad)
    argv = ["tune", "--task", TASK, "--agent", "ppo", "--samples", "1", "--timesteps", "400", "--rungs", "1",
            "--eval-episodes", "1", "--out", str(tmp_path)]
    assert main(argv) == 1
    err = capfd.readouterr().err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "every trial of 'ppo'" in errors[0] and "failed (1 of 1)" in errors[0]
    assert "TypeError: 'float' object cannot be interpreted as an integer" in errors[0]
    assert not (tmp_path / "best_config.json").exists()


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
