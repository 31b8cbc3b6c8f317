"""LotSizing (PDPPO): tasks and agents."""

from __future__ import annotations

from gauntlet.registry.specs import AgentSpec, BenchmarkSpec, Metric, TaskSpec

# --------------------------------------------------------------------------- LotSizing
_LOT_SIZING_PAPER = "PDPPO: Post-Decision Proximal Policy Optimization with Dual Critic Networks (arXiv 2504.05150)"
_LOT_SIZING_METRICS = (
    Metric("cost", "min", "currency", "total episode cost = setup + lost sales + holding"),
    Metric("return", "max", "", "sum of rewards (= -cost)"),
    Metric("fill_rate", "max", "fraction", "demand served from stock / total demand"),
    Metric("setups_per_period", "min", "setups", "machine setup changes per period"),
    Metric("cost_lower_bound", "min", "currency",
           "perfect-info only: HiGHS's proven lower bound on the scenario's cost (LP bound if the MILP times out)"),
)


def _lot_sizing_benchmark(reference_scores: dict[str, float]) -> BenchmarkSpec:
    return BenchmarkSpec(
        metrics=_LOT_SIZING_METRICS,
        primary_metric="cost",
        train_timesteps=1_000_000,
        n_train_seeds=5,
        eval_episodes=20,
        episode_metrics="gauntlet.envs.lot_sizing.env:episode_metrics",
        reference_scores=reference_scores,
    )


# Normalized score: 0 at the random policy's mean cost, 1 at the perfect-information MILP's mean
# proven lower bound, both on the official seeds (leaderboards/LotSizing-*.json; measured only
# for the variants with boards).
_LOT_SIZING_REFERENCE = {
    "15x5": {"random": 12004.31, "best": 633.47},
    "25x15": {"random": 30672.54, "best": 614.1},
}


def _lot_sizing_tasks() -> list[TaskSpec]:
    variants = {"15x5": (15, 5), "20x10": (20, 10), "25x10": (25, 10), "25x15": (25, 15)}
    tasks = []
    for name, (items, machines) in variants.items():
        tasks.append(
            TaskSpec(
                id=f"gauntlet/LotSizing-{name}-v0",
                entry_point="gauntlet.envs.lot_sizing.env:LotSizingEnv",
                vector_entry_point="gauntlet.envs.lot_sizing.vector:LotSizingVectorEnv",
                family="LotSizing",
                paper=_LOT_SIZING_PAPER,
                kwargs={"n_items": items, "n_machines": machines},
                benchmark=_lot_sizing_benchmark(_LOT_SIZING_REFERENCE.get(name, {})),
            )
        )
    tasks.insert(
        0,
        TaskSpec(
            id="gauntlet/LotSizing-v0",
            entry_point="gauntlet.envs.lot_sizing.env:LotSizingEnv",
            vector_entry_point="gauntlet.envs.lot_sizing.vector:LotSizingVectorEnv",
            family="LotSizing",
            paper=_LOT_SIZING_PAPER,
            kwargs={"n_items": 15, "n_machines": 5},
        ),
    )
    return tasks



TASKS = _lot_sizing_tasks()

_LOT = ("gauntlet/LotSizing-*",)

# The paper's settings, except that the 400 samples per update come from 8 env copies x 50
# steps (same update size and frequency; batching the forward pass is ~2.6x faster here).
_PDPPO_PAPER_HP = {
    "gamma": 0.90,
    "clip_range": 0.2,
    "n_epochs": 40,
    "actor_lr": 5.5e-4,
    "critic_lr": 1e-3,
    "n_envs": 8,
    "n_steps": 50,
    "hidden_sizes": (128, 128),
    "ent_coef": 0.001,
}

# SB3 PPO (MaskablePPO: the env masks actions) with the paper's PPO settings (the same update
# size, epochs, learning rate, network and entropy as PDPPO), 8 copies x 50 steps, and the SB3
# zoo's reward normalization for costs of about -80 per step (VecNormalize, rewards only; the
# evaluation sees raw costs). Everything else is SB3's default (gae_lambda 0.95, vf_coef 0.5,
# max_grad_norm 0.5, one learning rate for actor and critic, separate actor and critic MLPs).
PPO_HYPERPARAMETERS = {
    "gauntlet/LotSizing-*": {
        "gamma": 0.90, "clip_range": 0.2, "n_epochs": 40, "learning_rate": 5.5e-4,
        "n_envs": 8, "n_steps": 50, "batch_size": 400, "ent_coef": 0.001,
        "policy_kwargs": {"net_arch": [128, 128]}, "normalize_reward": True,
    },
}

AGENTS = [
    AgentSpec(
        "pdppo", "gauntlet.agents.pdppo:PDPPO", "reference", True, _LOT,
        "PDPPO as the authors' code: dual critics, A = max(R - V(s), R^x - V^x(s^x)) on one reward scale",
        hyperparameters={"gauntlet/LotSizing-*": {**_PDPPO_PAPER_HP, "dual_critic": True, "advantage": "authors"}},
    ),
    AgentSpec(
        "pdppo-postdecision", "gauntlet.agents.pdppo:PDPPO", "reference", True, _LOT,
        "PDPPO with the textbook post-decision advantage A = r^x + V^x(s^x) - V(s)",
        hyperparameters={"gauntlet/LotSizing-*": {**_PDPPO_PAPER_HP, "dual_critic": True, "advantage": "post-decision"}},
    ),
    AgentSpec(
        "pdppo-1critic", "gauntlet.agents.pdppo:PDPPO", "reference", True, _LOT,
        "PDPPO with a single critic on the post-decision state: A = R - V^x(s^x)",
        hyperparameters={"gauntlet/LotSizing-*": {**_PDPPO_PAPER_HP, "dual_critic": False, "advantage": "authors"}},
    ),
    AgentSpec("idle", "gauntlet.baselines.lot_sizing:IdleAgent", "baseline", False, _LOT,
              "never produces: every machine idle every period (the trivial policy a learner must beat)"),
    AgentSpec("base-stock", "gauntlet.baselines.lot_sizing:BaseStockAgent", "baseline", False, _LOT,
              "per-item (s,S) with machine assignment by run-out time, tuned by simulation on training seeds"),
    AgentSpec("newsvendor", "gauntlet.baselines.lot_sizing:NewsvendorAgent", "baseline", False, _LOT,
              "myopic newsvendor order-up-to levels"),
    AgentSpec("rolling-milp", "gauntlet.baselines.lot_sizing:RollingMILPAgent", "baseline", False, _LOT,
              "rolling-horizon MILP on expected demand (HiGHS)"),
    AgentSpec("perfect-info", "gauntlet.baselines.lot_sizing:PerfectInformationAgent", "bound", False, _LOT,
              "MILP with the realized demand known in advance: a lower bound on cost"),
]
