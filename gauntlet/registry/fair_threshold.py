"""FairThreshold (OFS): tasks and agents."""

from __future__ import annotations

from gauntlet.registry.specs import AgentSpec, BenchmarkSpec, Constraint, Metric, TaskSpec

# ----------------------------------------------------------------------- FairThreshold
_FAIR_PAPER = "Optimistic Feasible Search for Closed-Loop Fair Threshold Decision-Making (arXiv 2512.22313)"
_FAIR_METRICS = (
    Metric("return", "max", "", "cumulative reward over the episode"),
    Metric("violation", "min", "", "cumulative constraint violation (sum of positive residuals)"),
    Metric("feasible", "max", "fraction", "fraction of rounds whose chosen threshold was feasible"),
    Metric("final_disparity", "min", "", "final drift of the protected group's share from its base share |p_T - p_bar|"),
)

# The constraint is demographic parity within eps (and the service rate when rho is set), and
# "violation" sums the positive population-level residuals over the 2,000-round episode. The
# budget allows an average excess of 0.01 per round, a tenth of the default tolerance eps = 0.1:
# a policy that keeps the constraint apart from its exploration stays within it (OFS: 5.5, 15.6
# and 7.8 on the three boards), one that ignores it does not (UCB: 258, 70, 266; random: 84,
# 53, 95). The fraction of feasible rounds is no budget: it counts a round with a tiny excess
# like one with a large one.
_FAIR_VIOLATION_BUDGET = Constraint("violation", 20.0)


def _fair_tasks() -> list[TaskSpec]:
    tasks = [
        TaskSpec(
            id="gauntlet/FairThreshold-v0",
            entry_point="gauntlet.envs.fair_threshold.env:FairThresholdEnv",
            vector_entry_point="gauntlet.envs.fair_threshold.vector:FairThresholdVectorEnv",
            family="FairThreshold",
            paper=_FAIR_PAPER,
            kwargs={"dataset": "synthetic"},
        )
    ]
    # Reference returns printed by scripts/reproduce_ofs.py (mean over train seeds 0..9 on the
    # official eval seed): random = the random agent, best = the oracle best feasible fixed threshold.
    for label, dataset, reference in (
        ("Synthetic", "synthetic", {"random": 1108.59, "best": 1145.80}),
        ("German", "german", {"random": 1407.66, "best": 1493.38}),
        ("COMPAS", "compas", {"random": 1112.45, "best": 1130.12}),
    ):
        tasks.append(
            TaskSpec(
                id=f"gauntlet/FairThreshold-{label}-v0",
                entry_point="gauntlet.envs.fair_threshold.env:FairThresholdEnv",
                vector_entry_point="gauntlet.envs.fair_threshold.vector:FairThresholdVectorEnv",
                family="FairThreshold",
                paper=_FAIR_PAPER,
                kwargs={"dataset": dataset},
                benchmark=BenchmarkSpec(
                    metrics=_FAIR_METRICS,
                    primary_metric="return",
                    train_timesteps=0,
                    n_train_seeds=10,
                    eval_episodes=1,
                    episode_metrics="gauntlet.envs.fair_threshold.env:episode_metrics",
                    reference_scores=reference,
                    constraints=(_FAIR_VIOLATION_BUDGET,),
                ),
            )
        )
    return tasks



TASKS = _fair_tasks()

_FAIR = ("gauntlet/FairThreshold-*",)

AGENTS = [
    AgentSpec("ofs", "gauntlet.agents.ofs:OFS", "reference", True, _FAIR,
              "Optimistic Feasible Search over the threshold grid"),
    AgentSpec("ucb", "gauntlet.baselines.fair_threshold:UCBAgent", "baseline", True, _FAIR,
              "unconstrained UCB on reward"),
    AgentSpec("primal-dual", "gauntlet.baselines.fair_threshold:PrimalDualAgent", "baseline", True, _FAIR,
              "Lagrangian bandit with dual ascent on the constraint residuals"),
    AgentSpec("epsilon-greedy", "gauntlet.baselines.fair_threshold:EpsilonGreedyAgent", "baseline", True, _FAIR,
              "epsilon-greedy on the penalized reward"),
    AgentSpec("oracle-threshold", "gauntlet.baselines.fair_threshold:OracleThresholdAgent", "baseline", False, _FAIR,
              "best feasible fixed threshold, found by sweeping the grid on long rollouts"),
]
