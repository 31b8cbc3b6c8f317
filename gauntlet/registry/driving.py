"""Driving (Pr-IQN): tasks and agents."""

from __future__ import annotations

from gauntlet.registry.specs import AgentSpec, BenchmarkSpec, Constraint, Metric, TaskSpec

_PAPER = ("Beyond Scalar Rewards: Distributional Reinforcement Learning with Preordered Objectives for Safe and "
          "Reliable Autonomous Driving (Pr-IQN, arXiv 2603.20230)")
PREORDER = (0, 1, 2)
"""The objectives' priority (safety > efficiency > comfort): ``MODrivingEnv.preorder``, and the
benchmark specs' ``preorder``."""

_METRICS = (
    Metric("success", "max", "fraction", "route completed without a collision or leaving the road"),
    Metric("collisions_per_km", "min", "1/km", "collisions with vehicles per km of route"),
    Metric("off_road_per_km", "min", "1/km", "road departures (collisions with the layout) per km of route"),
    Metric("route_completion", "max", "%", "share of the route driven (CARLA score_route)"),
    Metric("driving_score", "max", "%", "CARLA leaderboard driving score: route completion x infraction penalty"),
    Metric("mean_abs_jerk", "min", "m/s^3", "comfort: mean |jerk| per step"),
)
_SCENARIOS = {"Highway": "highway", "Intersection": "intersection", "Curvy": "curvy"}
_DENSITIES = ("low", "medium", "high")
# About one event in ten routes: routes are ~0.13 km at the intersection and 0.4 km elsewhere.
_BUDGET_PER_KM = {"highway": 0.25, "intersection": 0.75, "curvy": 0.25}


def _benchmark(scenario: str) -> BenchmarkSpec:
    budget = _BUDGET_PER_KM[scenario]
    return BenchmarkSpec(
        metrics=_METRICS,
        primary_metric="success",
        train_timesteps=20_000,
        n_train_seeds=3,
        eval_episodes=20,
        episode_metrics="gauntlet.envs.driving.env:episode_metrics",
        constraints=(Constraint("collisions_per_km", budget), Constraint("off_road_per_km", budget)),
        preorder=PREORDER,
    )


def _tasks() -> list[TaskSpec]:
    mo = dict(entry_point="gauntlet.envs.driving.env:MODrivingEnv",
              vector_entry_point="gauntlet.envs.driving.vector:MODrivingVectorEnv", family="Driving", paper=_PAPER)
    scalar = dict(entry_point="gauntlet.envs.driving.env:DrivingEnv",
                  vector_entry_point="gauntlet.envs.driving.vector:DrivingVectorEnv", family="Driving", paper=_PAPER)
    tasks = [TaskSpec(id="gauntlet/mo-Driving-v0", **mo), TaskSpec(id="gauntlet/Driving-v0", **scalar)]
    for label, scenario in _SCENARIOS.items():
        for density in _DENSITIES:
            kwargs = {"scenario": scenario, "density": density}
            name = f"Driving-{label}-{density.capitalize()}-v0"
            # The medium density of each scenario is benchmarked, on the scalar id (Pr-IQN reads
            # the vector from info["reward_vector"]).
            bench = _benchmark(scenario) if density == "medium" else None
            tasks.append(TaskSpec(id=f"gauntlet/mo-{name}", kwargs=kwargs, **mo))
            tasks.append(TaskSpec(id=f"gauntlet/{name}", kwargs=kwargs, benchmark=bench, **scalar))
    return tasks


TASKS = _tasks()

_DRIVING = ("gauntlet/Driving-*", "gauntlet/mo-Driving-*")
# The preordered agents take the preorder of each benchmarked task's spec (elsewhere, the env's).
_PREORDERED = {t.id: {"preorder": t.benchmark.preorder} for t in TASKS if t.benchmark is not None}

AGENTS = [
    AgentSpec("pr-iqn", "gauntlet.agents.pr_iqn:PrIQN", "reference", True, _DRIVING,
              "IQN with one quantile head per objective, quantile dominance and preorder subset extraction",
              hyperparameters=_PREORDERED),
    AgentSpec("iqn", "gauntlet.agents.pr_iqn:IQN", "baseline", True, ("gauntlet/Driving-*",),
              "IQN on the scalarized reward w . r"),
    AgentSpec("ensemble-iqn", "gauntlet.agents.pr_iqn:EnsembleIQN", "baseline", True, ("gauntlet/Driving-*",),
              "5 bootstrapped IQN heads on w . r, greedy on their mean"),
    AgentSpec("qrdqn", "gauntlet.baselines.driving:make_qrdqn", "baseline", True, ("gauntlet/Driving-*",),
              "sb3-contrib QR-DQN on w . r"),
    AgentSpec("lex-dqn", "gauntlet.agents.lex_dqn:LexDQN", "baseline", True, _DRIVING,
              "thresholded lexicographic DQN (slack 0.04) on the reward vector", hyperparameters=_PREORDERED),
    AgentSpec("idm-controller", "gauntlet.baselines.driving:IDMControllerAgent", "baseline", False, _DRIVING,
              "rule-based lane keeping (pure pursuit) + IDM, yielding at junctions"),
]
