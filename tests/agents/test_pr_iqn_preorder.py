import gymnasium as gym
import pytest

import gauntlet  # noqa: F401
from gauntlet.bench.entries import protocol
from gauntlet.bench.runner import make_agent
from gauntlet.envs.driving.env import MODrivingEnv
from gauntlet.registry import get_agent, get_task

BENCHMARKED = [f"gauntlet/Driving-{s}-Medium-v0" for s in ("Highway", "Intersection", "Curvy")]


@pytest.mark.parametrize("task_id", BENCHMARKED)
def test_the_benchmark_spec_holds_the_env_preorder_outside_the_board_protocol(task_id):
    spec = get_task(task_id).benchmark
    assert spec.preorder == MODrivingEnv.preorder == (0, 1, 2)
    assert "preorder" not in protocol(spec)


@pytest.mark.parametrize("agent", ["pr-iqn", "lex-dqn"])
def test_the_preordered_agents_take_the_spec_preorder_on_benchmarked_tasks_and_the_env_one_elsewhere(agent):
    spec = get_agent(agent)
    for task_id in BENCHMARKED:
        assert spec.hyperparameters_for(task_id) == {"preorder": get_task(task_id).benchmark.preorder}
    task_id = BENCHMARKED[1]
    env = gym.make(task_id)
    assert make_agent(spec, env, task_id, seed=0).preorder == get_task(task_id).benchmark.preorder
    assert spec.hyperparameters_for("gauntlet/mo-Driving-v0") == {}
    mo = gym.make("gauntlet/mo-Driving-v0")
    assert make_agent(spec, mo, "gauntlet/mo-Driving-v0", seed=0).preorder == mo.unwrapped.preorder
