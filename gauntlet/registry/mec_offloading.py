"""MECOffloading (GMORL): tasks and agents."""

from __future__ import annotations

from gauntlet.registry.specs import AgentSpec, BenchmarkSpec, Metric, TaskSpec

# ----------------------------------------------------------------------- MECOffloading
_MEC_PAPER = "Generalizable Pareto-Optimal Offloading with Reinforcement Learning in Mobile Edge Computing (GMORL, arXiv 2509.10474)"
_MEC_METRICS = (
    Metric("hypervolume", "max", "", "hypervolume of the evaluated front w.r.t. the task's reference point"),
    Metric("eum", "max", "", "expected utility over the preference weight set"),
    Metric("cardinality", "max", "points", "number of non-dominated points"),
    Metric("mean_delay", "min", "s", "mean delay per task"),
    Metric("mean_energy", "min", "J", "mean energy per task"),
)


def _simplex_2d(n: int) -> tuple[tuple[float, float], ...]:
    return tuple((round(i / (n - 1), 6), round(1 - i / (n - 1), 6)) for i in range(n))


def _mec_tasks() -> list[TaskSpec]:
    benchmark = BenchmarkSpec(
        metrics=_MEC_METRICS,
        primary_metric="hypervolume",
        train_timesteps=40_000,
        n_train_seeds=3,
        eval_episodes=5,
        episode_metrics="gauntlet.envs.mec_offloading.env:episode_metrics",
        # (delay return, energy return) per episode, slightly worse than the worst mean point of
        # the nearest-edge and greedy baselines on the E=6 test contexts (about (-63, -300)).
        # Random, all-cloud and least-loaded lie far outside (with the correct uplink rates a
        # task sent to the cloud costs thousands per objective), so their hypervolume is 0.
        hv_ref_point=(-100.0, -500.0),
        gamma=1.0,
        preference_weights=_simplex_2d(11),
        # The paper's generalization protocol: learners train on the training context
        # distribution (E in 1..8, narrower frequency ranges) and every agent is evaluated on
        # the E = 6 test contexts, whatever kwargs it trained with.
        train_env_kwargs={"context": "train", "n_edges": None},
        eval_env_kwargs={"context": "test", "n_edges": 6},
    )
    common = dict(
        entry_point="gauntlet.envs.mec_offloading.env:MOMECOffloadingEnv",
        vector_entry_point="gauntlet.envs.mec_offloading.vector:MOMECOffloadingVectorEnv",
        family="MECOffloading",
        paper=_MEC_PAPER,
    )
    return [
        TaskSpec(id="gauntlet/mo-MECOffloading-v0", kwargs={"context": "test", "n_edges": 6, "preference_in_obs": True},
                 benchmark=benchmark, **common),
        TaskSpec(
            id="gauntlet/MECOffloading-v0",
            # Every edge present (the v0 defaults: the id's trajectories depend on them); pass
            # n_edges=None (and max_edges=10) for the randomized number of edges.
            kwargs={"context": "train", "n_edges": 8, "max_edges": 8, "preference_in_obs": True},
            **{**common, "entry_point": "gauntlet.envs.mec_offloading.env:MECOffloadingEnv",
               "vector_entry_point": "gauntlet.envs.mec_offloading.vector:MECOffloadingVectorEnv"},
        ),
    ]



TASKS = _mec_tasks()

_MEC = ("gauntlet/mo-MECOffloading-*", "gauntlet/MECOffloading-*")

# SB3's defaults: the published boards have no tuned PPO on this family.
PPO_HYPERPARAMETERS = {pattern: {} for pattern in _MEC}

AGENTS = [
    AgentSpec("gmorl", "gauntlet.agents.gmorl:GMORL", "reference", True, _MEC,
              "preference-conditioned Discrete SAC with histogram encoder and masking"),
    AgentSpec("all-cloud", "gauntlet.baselines.mec_offloading:AllCloudAgent", "baseline", False, _MEC, "offload every task to the cloud"),
    AgentSpec("nearest-edge", "gauntlet.baselines.mec_offloading:NearestEdgeAgent", "baseline", False, _MEC, "edge with the best channel"),
    AgentSpec("greedy-min-delay", "gauntlet.baselines.mec_offloading:GreedyMinDelayAgent", "baseline", False, _MEC, "minimum estimated delay"),
    AgentSpec("greedy-min-energy", "gauntlet.baselines.mec_offloading:GreedyMinEnergyAgent", "baseline", False, _MEC, "minimum estimated energy"),
    AgentSpec("greedy-scalarized", "gauntlet.baselines.mec_offloading:GreedyScalarizedAgent", "baseline", False, _MEC, "maximum w . r of the one-step estimate"),
    AgentSpec("least-loaded", "gauntlet.baselines.mec_offloading:LeastLoadedAgent", "baseline", False, _MEC, "server with the fewest running tasks per GHz"),
    AgentSpec("linucb", "gauntlet.baselines.mec_offloading:LinUCBAgent", "baseline", True, _MEC, "LinUCB contextual bandit per preference"),
]
