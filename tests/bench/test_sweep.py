"""Sweep resume compares each run file's config with its job's."""

import json

import pytest
from conftest import LOT, make_lot_run

from gauntlet.bench import sweep
from gauntlet.cli import main


def test_a_matching_run_file_is_done(tmp_path):
    (job,) = sweep.plan([LOT], ["random"], [0], tmp_path)
    assert not sweep.is_done(job)
    make_lot_run(0).save(job.path)
    assert sweep.is_done(job)


def test_a_run_file_with_another_budget_is_refused_naming_the_file_and_field(tmp_path):
    (job,) = sweep.plan([LOT], ["pdppo"], [0], tmp_path, total_timesteps=4000)
    make_lot_run(0, agent="pdppo", train_timesteps=400).save(job.path)
    with pytest.raises(sweep.SweepConfigError) as info:
        sweep.sweep([job], sweep.SerialExecutor())
    message = str(info.value)
    assert f"{job.path}: train_timesteps: 400 in the file, the job has 4000" in message
    assert "nothing was run" in message


def test_a_run_file_of_an_older_version_is_refused(tmp_path):
    (job,) = sweep.plan([LOT], ["random"], [0], tmp_path)
    make_lot_run(0, train_env_kwargs=None).save(job.path)
    with pytest.raises(sweep.SweepConfigError, match=r"train_env_kwargs: null in the file, the job has \{"):
        sweep.is_done(job)


def test_a_run_file_on_other_eval_seeds_is_refused(tmp_path):
    (job,) = sweep.plan([LOT], ["random"], [0], tmp_path, eval_seeds=[1000, 1001])
    make_lot_run(0).save(job.path)
    with pytest.raises(sweep.SweepConfigError, match=r"eval_seeds: \[10000,10001,.*\] in the file, the job has \[1000,1001\]"):
        sweep.check_resumable([job])


def test_an_unreadable_run_file_is_rerun(tmp_path):
    (job,) = sweep.plan([LOT], ["random"], [0], tmp_path)
    job.path.parent.mkdir(parents=True)
    job.path.write_text("{half a file")
    assert not sweep.is_done(job)


def test_the_cli_refuses_a_mismatched_sweep_directory_and_runs_nothing(tmp_path, capsys):
    out = tmp_path / "runs"
    (job,) = sweep.plan([LOT], ["pdppo"], [0], out, total_timesteps=4000)
    make_lot_run(0, agent="pdppo", train_timesteps=400).save(job.path)
    before = job.path.read_text()
    assert main(["sweep", "--tasks", LOT, "--agents", "pdppo", "--timesteps", "4000", "--out", str(out),
                 "--executor", "serial", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: run files in the sweep's output directory were made with another config")
    assert "train_timesteps: 400 in the file, the job has 4000" in err
    assert job.path.read_text() == before
    assert json.loads(before)["train_timesteps"] == 400


def test_sweep_save_keeps_weights_and_reruns_a_run_saved_without_them(tmp_path):
    out, models = tmp_path / "runs", tmp_path / "models"
    (job,) = sweep.plan(["gauntlet/FairThreshold-Synthetic-v0"], ["ofs"], [0], out, save_dir=models)
    outcome = sweep.sweep([job], sweep.SerialExecutor())
    assert outcome["done"] == [job], outcome["failed"]
    record = json.loads(job.path.read_text())
    assert record["artifact_path"] == str(models / "gauntlet__FairThreshold-Synthetic-v0" / "ofs" / "seed0.weights")
    assert sweep.is_done(job)
    record["artifact_sha256"] = None  # a run made without --save
    job.path.write_text(json.dumps(record))
    assert not sweep.is_done(job)
