"""UAMFleet (CapTAIN): tasks and agents."""

from __future__ import annotations

from gauntlet.registry.specs import AgentSpec, BenchmarkSpec, Constraint, Metric, TaskSpec

_UAM_PAPER = ("Graph Learning-based Fleet Scheduling for Urban Air Mobility under Operational Constraints, "
              "Varying Demand & Uncertainties (CapTAIN, arXiv 2401.04851)")
_UAM_METRICS = (
    Metric("daily_profit", "max", "$", "ticket revenue - electricity - operating cost over the day"),
    Metric("passengers_served", "max", "passengers", "passengers boarded during the day"),
    Metric("demand_served_pct", "max", "%", "passengers served / passengers who arrived"),
    Metric("constraint_violations", "min", "count",
           "parking, charging, take-off window, reserve, closure and route violations (audited; 0 under the mask)"),
    Metric("decision_latency_ms", "min", "ms",
           "the agent's compute per decision, planning included (wall time: machine-dependent, not reproduced "
           "bit for bit)", wall_clock=True),
)
SMALL_KWARGS = {"n_vertiports": 4, "n_aircraft": 10, "parking_per_vertiport": 5, "charging_pads_per_vertiport": 3,
                "max_takeoffs_per_window": 2, "square_miles": 30.0}
"""The 4 x 10 instance; the default arguments are the paper's 8 vertiports and 40 aircraft."""


def _benchmark() -> BenchmarkSpec:
    return BenchmarkSpec(
        metrics=_UAM_METRICS,
        primary_metric="daily_profit",
        # A CPU budget (both learners train at about 200 steps/s on one core): 50,000 decisions
        # are about 250 Small days or 80 days of the 8 x 40 instance; the prototype used 4M steps.
        train_timesteps=50_000,
        n_train_seeds=3,
        # 20 unseen test days: the official evaluation seeds 10000..10019 (training draws its
        # days from the train seeds' generators, tuning uses 1000..).
        eval_episodes=20,
        episode_metrics="gauntlet.envs.uam_fleet.env:episode_metrics",
        constraints=(Constraint("constraint_violations", 0.0),),
    )


def _uam_tasks() -> list[TaskSpec]:
    common = dict(entry_point="gauntlet.envs.uam_fleet.env:UAMFleetEnv", family="UAMFleet", paper=_UAM_PAPER)
    return [
        TaskSpec(id="gauntlet/UAMFleet-v0", kwargs={}, benchmark=_benchmark(), **common),
        TaskSpec(id="gauntlet/UAMFleet-Small-v0", kwargs=dict(SMALL_KWARGS), benchmark=_benchmark(), **common),
    ]


TASKS = _uam_tasks()

_UAM = ("gauntlet/UAMFleet-*",)

# sb3-contrib MaskablePPO with SB3's MultiInputPolicy (the Dict observation flattened into two
# 64-unit MLPs): SB3's defaults except a larger batch and a small entropy bonus, since a day is
# 200-700 decisions with dense per-trip rewards in hundreds of dollars.
MASKABLE_PPO_HYPERPARAMETERS = {"n_steps": 2048, "batch_size": 256, "n_epochs": 10, "learning_rate": 3e-4,
                                "gamma": 0.99, "gae_lambda": 0.95, "ent_coef": 0.01}
# The GA's settings (gauntlet.baselines.uam_fleet.GeneticAgent documents the encoding): the
# 8 x 40 day is three times longer, so fewer individuals keep it within about half a minute a day.
GA_HYPERPARAMETERS = {
    "gauntlet/UAMFleet-Small-v0": {"population": 24, "generations": 25},
    "gauntlet/UAMFleet-v0": {"population": 16, "generations": 15},
}

# Captain's PPO settings: 16 copies x 64 steps per rollout (1,024 decisions, about five Small
# days), 4 epochs of 256-sample minibatches, dense rewards scaled to tens of dollars.
CAPTAIN_HYPERPARAMETERS = {"n_envs": 16, "n_steps": 64, "batch_size": 256, "n_epochs": 4, "learning_rate": 3e-4,
                           "gamma": 0.99, "gae_lambda": 0.95, "ent_coef": 0.01, "reward_scale": 0.1,
                           "embed_dim": 32, "n_heads": 4, "graph_layers": 2}

AGENTS = [
    AgentSpec("captain", "gauntlet.agents.captain:Captain", "reference", True, _UAM,
              "CapTAIN-style PPO: route-graph attention encoder, fleet attention, transformer over the demand/fare/"
              "price series, multi-head attention decoder over destinations with the mask",
              hyperparameters={"gauntlet/UAMFleet-*": CAPTAIN_HYPERPARAMETERS}),
    AgentSpec("random-feasible", "gauntlet.baselines.uam_fleet:RandomFeasibleAgent", "baseline", False, _UAM,
              "uniform over the allowed destinations (staying included)"),
    AgentSpec("greedy", "gauntlet.baselines.uam_fleet:GreedyAgent", "baseline", False, _UAM,
              "fly to the allowed destination with the largest waiting passengers (up to the seats) x fare; stay if none"),
    AgentSpec("ga", "gauntlet.baselines.uam_fleet:GeneticAgent", "baseline", False, _UAM,
              "genetic algorithm over per-aircraft destination sequences, planned on the realized day (clairvoyant)",
              hyperparameters=GA_HYPERPARAMETERS),
    AgentSpec("maskable-ppo-mlp", "gauntlet.baselines.uam_fleet:make_maskable_ppo_mlp", "baseline", True, _UAM,
              "sb3-contrib MaskablePPO, MultiInputPolicy (MLP over the flattened Dict observation)",
              hyperparameters={"gauntlet/UAMFleet-*": MASKABLE_PPO_HYPERPARAMETERS}),
]
