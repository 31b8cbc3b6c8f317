"""AGVWarehouse (PPO+RND): tasks and agents."""

from __future__ import annotations

from gauntlet.registry.specs import AgentSpec, BenchmarkSpec, Metric, TaskSpec

# ------------------------------------------------------------------------ AGVWarehouse
_AGV_PAPER = "Random Network Distillation Based Deep Reinforcement Learning for AGV Path Planning (arXiv 2404.12594)"
_AGV_METRICS = (
    Metric("success", "max", "fraction", "goal reached"),
    Metric("return", "max", "", "sum of extrinsic rewards"),
    Metric("collision", "min", "fraction", "episode ended in a collision"),
    Metric("steps_to_goal", "min", "steps", "episode length of successful episodes (NaN otherwise)"),
    Metric("path_length", "min", "m", "distance travelled"),
)


# The paper's protocol: one fixed map per scene. Layout seed 0 for every scene (the first seed
# tried; scripts/agv_reachability.py prints how reachable each map is for a random policy).
LAYOUT_SEEDS = {"simple-static": 0, "simple-dynamic": 0, "complex-static": 0, "complex-dynamic": 0}
_SCENE_LABELS = {"simple-static": "SimpleStatic", "simple-dynamic": "SimpleDynamic",
                 "complex-static": "ComplexStatic", "complex-dynamic": "ComplexDynamic"}
TRAIN_TIMESTEPS = 150_000


def _agv_benchmark() -> BenchmarkSpec:
    return BenchmarkSpec(
        metrics=_AGV_METRICS,
        primary_metric="success",
        train_timesteps=TRAIN_TIMESTEPS,
        n_train_seeds=3,
        eval_episodes=20,
        episode_metrics="gauntlet.envs.agv_warehouse.env:episode_metrics",
    )


def _agv_task(env_id: str, kwargs: dict, benchmark: BenchmarkSpec | None) -> TaskSpec:
    return TaskSpec(
        id=env_id,
        entry_point="gauntlet.envs.agv_warehouse.env:AGVWarehouseEnv",
        vector_entry_point="gauntlet.envs.agv_warehouse.vector:AGVWarehouseVectorEnv",
        family="AGVWarehouse",
        paper=_AGV_PAPER,
        kwargs=kwargs,
        benchmark=benchmark,
    )


def _agv_tasks() -> list[TaskSpec]:
    default = {"scene": "simple-static", "layout_seed": LAYOUT_SEEDS["simple-static"]}
    tasks = [_agv_task("gauntlet/AGVWarehouse-v1", default, None)]
    for scene, label in _SCENE_LABELS.items():
        fixed = {"scene": scene, "layout_seed": LAYOUT_SEEDS[scene]}
        tasks.append(_agv_task(f"gauntlet/AGVWarehouse-{label}-v1", fixed, _agv_benchmark()))
        tasks.append(_agv_task(f"gauntlet/AGVWarehouse-{label}-Procedural-v1", {"scene": scene}, _agv_benchmark()))
    return tasks


TASKS = _agv_tasks()

_AGV = ("gauntlet/AGVWarehouse-*",)

# PPO and PPO+RND share these on AGVWarehouse so the comparison isolates the intrinsic reward.
_AGV_PPO_HP = {"n_steps": 1024, "batch_size": 256, "n_epochs": 4, "learning_rate": 3e-4, "gamma": 0.99}

PPO_HYPERPARAMETERS = {"gauntlet/AGVWarehouse-*": _AGV_PPO_HP}

AGENTS = [
    AgentSpec("ppo-rnd", "gauntlet.agents.ppo_rnd:PPORND", "reference", True, _AGV,
              "PPO with Random Network Distillation intrinsic reward",
              hyperparameters={"gauntlet/AGVWarehouse-*": _AGV_PPO_HP}),
    AgentSpec("straight-to-goal", "gauntlet.baselines.agv_warehouse:StraightToGoalAgent", "baseline", False, _AGV,
              "turn towards the goal and drive"),
    AgentSpec("astar", "gauntlet.baselines.agv_warehouse:AStarAgent", "baseline", False, _AGV,
              "A* on the occupancy grid + pure-pursuit tracking, replanning around dynamic obstacles"),
]
