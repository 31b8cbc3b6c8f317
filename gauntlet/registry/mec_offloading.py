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


# v1: the cloud is reached through the access network (radio link to the user's serving base
# station, then a wired backhaul), see the env's docstring for the parameters and their sources.
MEC_V1_BACKHAUL = {"backhaul_rate_bps": 100e6, "backhaul_latency_s": 0.05}


def _benchmark(hv_ref_point: tuple[float, float]) -> BenchmarkSpec:
    return BenchmarkSpec(
        metrics=_MEC_METRICS,
        primary_metric="hypervolume",
        train_timesteps=40_000,
        n_train_seeds=3,
        eval_episodes=5,
        episode_metrics="gauntlet.envs.mec_offloading.env:episode_metrics",
        hv_ref_point=hv_ref_point,
        gamma=1.0,
        preference_weights=_simplex_2d(11),
        # The paper's generalization protocol: learners train on the training context
        # distribution (E in 1..8, narrower frequency ranges) and every agent is evaluated on
        # the E = 6 test contexts, whatever kwargs it trained with.
        train_env_kwargs={"context": "train", "n_edges": None},
        eval_env_kwargs={"context": "test", "n_edges": 6},
    )


def _mec_tasks() -> list[TaskSpec]:
    common = dict(
        entry_point="gauntlet.envs.mec_offloading.env:MOMECOffloadingEnv",
        vector_entry_point="gauntlet.envs.mec_offloading.vector:MOMECOffloadingVectorEnv",
        family="MECOffloading",
        paper=_MEC_PAPER,
    )
    scalar = {"entry_point": "gauntlet.envs.mec_offloading.env:MECOffloadingEnv",
              "vector_entry_point": "gauntlet.envs.mec_offloading.vector:MECOffloadingVectorEnv"}
    return [
        # (delay return, energy return) per episode, slightly worse than the worst mean point of
        # the nearest-edge and greedy baselines on the E=6 test contexts (about (-63, -300)).
        # Random, all-cloud and least-loaded lie far outside (with the correct uplink rates a
        # task sent to the cloud costs thousands per objective), so their hypervolume is 0.
        TaskSpec(id="gauntlet/mo-MECOffloading-v0", kwargs={"context": "test", "n_edges": 6, "preference_in_obs": True},
                 benchmark=_benchmark((-100.0, -500.0)), **common),
        TaskSpec(
            id="gauntlet/MECOffloading-v0",
            # Every edge present (the v0 defaults: the id's trajectories depend on them); pass
            # n_edges=None (and max_edges=10) for the randomized number of edges.
            kwargs={"context": "train", "n_edges": 8, "max_edges": 8, "preference_in_obs": True},
            **{**common, **scalar},
        ),
        # Reference point from v1's own ranges (scripts/check_mec_front.py prints the rule and checks
        # it): the worst mean (delay, energy) return of any non-learning baseline, random included,
        # over the 11 preferences on the E=6 test contexts (-97.0, -3512.4), times 1.2 and rounded
        # outward to 2 significant digits, so every baseline's points lie strictly inside the box.
        TaskSpec(id="gauntlet/mo-MECOffloading-v1",
                 kwargs={"context": "test", "n_edges": 6, "preference_in_obs": True, **MEC_V1_BACKHAUL},
                 benchmark=_benchmark((-120.0, -4300.0)), **common),
        # The training contexts (E in 1..8 of at most 10), ready for a learner.
        TaskSpec(id="gauntlet/MECOffloading-v1",
                 kwargs={"context": "train", "n_edges": None, "preference_in_obs": True, **MEC_V1_BACKHAUL},
                 **{**common, **scalar}),
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
