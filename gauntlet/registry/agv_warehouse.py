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


def _agv_tasks() -> list[TaskSpec]:
    tasks = [
        TaskSpec(
            id="gauntlet/AGVWarehouse-v0",
            entry_point="gauntlet.envs.agv_warehouse.env:AGVWarehouseEnv",
            vector_entry_point="gauntlet.envs.agv_warehouse.vector:AGVWarehouseVectorEnv",
            family="AGVWarehouse",
            paper=_AGV_PAPER,
            kwargs={"scene": "simple-static"},
        )
    ]
    for label, scene in (
        ("SimpleStatic", "simple-static"),
        ("SimpleDynamic", "simple-dynamic"),
        ("ComplexStatic", "complex-static"),
        ("ComplexDynamic", "complex-dynamic"),
    ):
        tasks.append(
            TaskSpec(
                id=f"gauntlet/AGVWarehouse-{label}-v0",
                entry_point="gauntlet.envs.agv_warehouse.env:AGVWarehouseEnv",
                vector_entry_point="gauntlet.envs.agv_warehouse.vector:AGVWarehouseVectorEnv",
                family="AGVWarehouse",
                paper=_AGV_PAPER,
                kwargs={"scene": scene},
                benchmark=BenchmarkSpec(
                    metrics=_AGV_METRICS,
                    primary_metric="success",
                    train_timesteps=300_000,
                    n_train_seeds=3,
                    eval_episodes=20,
                    episode_metrics="gauntlet.envs.agv_warehouse.env:episode_metrics",
                ),
            )
        )
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
