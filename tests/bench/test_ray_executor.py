"""The Ray executor on a local Ray instance the test starts (``ray.init(num_cpus=2)``): the same
run files as the serial executor, a failing job reported without losing the others, a bad
address a clear error."""

from __future__ import annotations

import dataclasses
import json
import os

import pytest

pytest.importorskip("ray", reason="the Ray executor needs the ray extra (pip install 'gauntlet-rl[ray]')")

import ray  # noqa: E402

from gauntlet.bench import sweep  # noqa: E402
from gauntlet.bench import executors  # noqa: E402
from gauntlet.bench.executors import RayExecutor, task_options  # noqa: E402
from gauntlet.registry import AGENTS  # noqa: E402

FAIR = "gauntlet/FairThreshold-Synthetic-v0"


@pytest.fixture(scope="module")
def executor():
    ray.shutdown()
    yield RayExecutor(num_cpus=2)
    ray.shutdown()


def _returns(jobs):
    return {(j.agent, j.train_seed): json.loads(j.path.read_text())["episode_returns"] for j in jobs}


def test_ray_sweep_writes_the_same_runs_as_the_serial_executor(executor, tmp_path):
    jobs = sweep.plan([FAIR], ["random", "ucb"], [0, 1], tmp_path / "ray")
    outcome = sweep.sweep(jobs, executor)
    assert len(outcome["done"]) == 4 and not outcome["failed"]
    serial = sweep.plan([FAIR], ["random", "ucb"], [0, 1], tmp_path / "serial")
    sweep.sweep(serial, sweep.SerialExecutor())
    assert _returns(jobs) == _returns(serial)
    assert sweep.sweep(jobs, executor)["skipped"] == jobs  # resumable: finished runs are not rerun


def test_a_failing_job_is_reported_and_the_others_kept(executor, tmp_path):
    jobs = sweep.plan([FAIR], ["random"], [0, 1], tmp_path)

    def flaky(job):
        if job.train_seed == 1:
            raise RuntimeError("boom")
        return job.train_seed

    results = dict((j.train_seed, r) for j, r in executor.map(flaky, jobs))
    assert results[0] == 0
    assert isinstance(results[1], RuntimeError) and "boom" in str(results[1])


def test_a_job_declares_the_gpus_its_agent_declares(tmp_path, monkeypatch):
    monkeypatch.setitem(AGENTS, "ucb", dataclasses.replace(AGENTS["ucb"], num_gpus=0.5))
    jobs = sweep.plan([FAIR], ["random", "ucb"], [0], tmp_path)
    options = {job.agent: task_options(job, max_retries=2) for job in jobs}
    assert options["random"]["num_gpus"] == 0 and options["ucb"]["num_gpus"] == 0.5
    assert all(o["num_cpus"] == 1 and o["max_retries"] == 2 for o in options.values())
    # Ray takes them as the task's options (bound, not scheduled: no Ray instance or GPU is needed)
    node = ray.remote(sweep.execute).options(**options["ucb"]).bind(jobs[1])
    assert node.get_options()["num_gpus"] == 0.5


def test_map_asks_each_job_its_options(executor, tmp_path, monkeypatch):
    jobs = sweep.plan([FAIR], ["random", "ucb"], [0], tmp_path)
    asked = []
    monkeypatch.setattr(executors, "task_options", lambda job, retries: asked.append(job.agent) or
                        task_options(job, retries))
    assert sorted(result for _, result in executor.map(lambda job: job.agent, jobs)) == ["random", "ucb"]
    assert sorted(asked) == ["random", "ucb"]


def test_local_workers_run_at_the_callers_priority(executor):
    # Ray's default worker niceness (15) starves the runs behind any other job on the machine
    def niceness() -> int:
        return os.nice(0)

    assert ray.get(ray.remote(num_cpus=1)(niceness).remote()) == niceness()


def test_an_unreachable_address_is_a_clear_error():
    if ray.is_initialized():
        ray.shutdown()
    with pytest.raises(ValueError, match="cannot reach the Ray cluster at address '127.0.0.1:1'"):
        RayExecutor("127.0.0.1:1")
