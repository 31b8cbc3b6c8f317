import json
import warnings

import gymnasium as gym
import numpy as np
import pytest

import gauntlet  # noqa: F401  (registers the ids)

from gauntlet.bench.multi_objective import (
    cardinality,
    expected_utility,
    hypervolume,
    mo_metrics,
    pareto_front,
    pareto_mask,
    plot_front,
)
from gauntlet.registry import TASKS

MO_IDS = sorted(t for t in TASKS if t.partition("/")[2].startswith("mo-"))


def test_pareto_front_keeps_non_dominated_points_once():
    pts = np.array([[1.0, 5.0], [2.0, 4.0], [1.5, 3.0], [3.0, 1.0], [2.0, 4.0], [0.0, 0.0]])
    np.testing.assert_array_equal(pareto_mask(pts), [True, True, False, True, False, False])
    np.testing.assert_array_equal(pareto_front(pts), [[1.0, 5.0], [2.0, 4.0], [3.0, 1.0]])
    assert cardinality(pts) == 3


def test_pareto_front_with_minimized_objectives():
    pts = np.array([[1.0, 5.0], [2.0, 4.0], [0.5, 6.0], [3.0, 7.0]])
    np.testing.assert_array_equal(pareto_front(pts, directions="min"), [[0.5, 6.0], [1.0, 5.0], [2.0, 4.0]])
    np.testing.assert_array_equal(pareto_front(pts, directions=("max", "min")), [[2.0, 4.0], [3.0, 7.0]])
    with pytest.raises(ValueError, match="directions"):
        pareto_front(pts, directions="up")


@pytest.mark.parametrize(
    "front, ref, expected",
    [
        ([[1.0, 1.0]], [0.0, 0.0], 1.0),
        ([[1.0, 2.0], [2.0, 1.0]], [0.0, 0.0], 3.0),  # 2 + 2 - 1 overlap
        ([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]], [0.0, 0.0], 6.0),  # staircase 3 + 2 + 1
        ([[-1.0, -3.0], [-2.0, -1.0]], [-4.0, -4.0], 3 * 1 + 2 * 3 - 2 * 1),  # negative rewards
        ([[1.0, 3.0], [2.0, 2.0], [0.5, 0.5]], [0.0, 0.0], 5.0),  # a dominated point adds nothing
        ([[1.0, -1.0]], [0.0, 0.0], 0.0),  # does not dominate the reference point
    ],
)
def test_hypervolume_of_known_2d_fronts(front, ref, expected):
    assert hypervolume(np.array(front), ref) == pytest.approx(expected)


def test_hypervolume_3d_box_and_shape_errors():
    assert hypervolume([[1.0, 2.0, 3.0]], [0.0, 0.0, 0.0]) == pytest.approx(6.0)
    with pytest.raises(ValueError, match="objectives"):
        hypervolume([[1.0, 2.0]], [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="NaN"):
        hypervolume([[np.nan, 2.0]], [0.0, 0.0])
    assert hypervolume(np.empty((0, 2)), [0.0, 0.0]) == 0.0


def test_hypervolume_matches_morl_baselines():
    indicators = pytest.importorskip("morl_baselines.common.performance_indicators")
    rng = np.random.default_rng(0)
    points = -rng.uniform(1, 50, size=(30, 2))
    ref = np.array([-60.0, -60.0])
    front = pareto_front(points)
    assert hypervolume(front, ref) == pytest.approx(indicators.hypervolume(ref, list(front)))
    assert hypervolume(points, ref) == pytest.approx(indicators.hypervolume(ref, list(points)))
    weights = np.array([[w, 1 - w] for w in np.linspace(0, 1, 11)])
    assert expected_utility(points, weights) == pytest.approx(indicators.expected_utility(list(points), list(weights)))


def test_expected_utility_is_mean_of_best_linear_utility():
    pts = np.array([[1.0, 0.0], [0.0, 1.0], [0.4, 0.4]])
    weights = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    assert expected_utility(pts, weights) == pytest.approx((1.0 + 0.5 + 1.0) / 3)


def test_mo_metrics_bundle():
    returns = np.array([[-10.0, -50.0], [-20.0, -30.0], [-25.0, -35.0]])
    weights = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    out = mo_metrics(returns, weights, (-40.0, -60.0))
    assert out["cardinality"] == 2
    assert out["front"] == [[-20.0, -30.0], [-10.0, -50.0]]
    assert out["hypervolume"] == pytest.approx(30 * 10 + 20 * 30 - 20 * 10)
    assert out["eum"] == pytest.approx(expected_utility(returns, weights))
    json.dumps(out)
    with pytest.raises(ValueError, match="same shape"):
        mo_metrics(returns, weights[:2], (-40.0, -60.0))


def test_plot_front_writes_png(tmp_path):
    path = plot_front({"a": [[-1.0, -3.0], [-2.0, -1.0]], "b": [[-3.0, -3.0]]}, tmp_path / "front.png",
                      ref_point=(-4.0, -4.0), objective_names=("delay", "energy"), title="t",
                      all_points={"a": [[-3.5, -3.5]]})
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_mo_leaderboard_entry_validates(tmp_path):
    from gauntlet.bench import leaderboard
    from gauntlet.bench.runner import RunRecord
    from gauntlet.registry import get_task

    task = "gauntlet/mo-MECOffloading-v0"
    spec = get_task(task).benchmark
    seeds = spec.eval_seeds(official=True)
    weights = np.asarray(spec.preference_weights)
    rng = np.random.default_rng(0)
    returns = [list(-rng.uniform(10, 300, size=2)) for _ in range(len(weights) * len(seeds))]
    mean = np.asarray(returns).reshape(len(weights), len(seeds), 2).mean(1)
    metrics = [{"return": float("nan"), "length": 100.0, "mean_delay": 1.0, "mean_energy": 0.1, "tasks": 90.0}
               for _ in returns]
    for m in metrics:
        del m["return"]
    run = RunRecord(
        task=task, agent="random", train_seed=0, train_timesteps=0, eval_seeds=seeds, episode_returns=returns,
        episode_metrics=metrics, train_time_s=0.0, eval_time_s=1.0, wall_time_s=1.0, steps_per_s=None,
        weights=weights.tolist(), mo_metrics=mo_metrics(mean, weights, spec.hv_ref_point),
        versions={"gauntlet": "test"}, command="pytest",
        train_env_kwargs={**get_task(task).kwargs, **spec.train_env_kwargs},
        eval_env_kwargs={**get_task(task).kwargs, **spec.eval_env_kwargs},
    )
    path = leaderboard.record([run], kind="baseline", directory=tmp_path)
    board = leaderboard.load(path)
    (entry,) = board["entries"]
    assert entry["results"]["hypervolume"]["mean"] == pytest.approx(run.mo_metrics["hypervolume"])
    assert entry["results"]["cardinality"]["mean"] == run.mo_metrics["cardinality"]
    assert entry["front"] == pareto_front(mean).tolist()


# ------------------------------------------------------------------ MO-Gymnasium conventions of mo- ids
def test_only_mo_ids_skip_the_passive_checker():
    assert MO_IDS
    for task_id in (t for t in TASKS if not TASKS[t].multi_agent):
        assert gym.spec(task_id).disable_env_checker == (task_id in MO_IDS), task_id


@pytest.mark.parametrize("task_id", MO_IDS)
def test_mo_id_steps_without_warnings_and_returns_a_float32_vector(task_id):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # Gymnasium's note that a newer version of an id exists (mo-MECOffloading-v1) is no checker warning.
        warnings.filterwarnings("ignore", message=r".*is out of date\. You should consider upgrading")
        env = gym.make(task_id)
        env.reset(seed=0)
        _, reward, _, _, _ = env.step(env.action_space.sample())
    reward_dim = env.unwrapped.reward_dim
    assert reward.shape == (reward_dim,) and reward.dtype == np.float32
    assert env.unwrapped.reward_space.shape == (reward_dim,)


@pytest.mark.parametrize("task_id", MO_IDS)
def test_mo_id_native_vector_env_returns_one_reward_vector_per_copy(task_id):
    envs = gym.make_vec(task_id, num_envs=2)
    envs.reset(seed=0)
    masks = envs.unwrapped.action_masks()
    actions = np.array([np.flatnonzero(m)[0] for m in masks])
    _, rewards, _, _, _ = envs.step(actions)
    assert rewards.shape == (2, envs.unwrapped.reward_dim) and rewards.dtype == np.float32
