"""MOCoop (MO-MIX): multi-agent tasks and agents."""

from __future__ import annotations

from gauntlet.registry.specs import AgentSpec, BenchmarkSpec, Metric, TaskSpec

_PAPER = ("MO-MIX: Multi-Objective Multi-Agent Cooperative Decision-Making With Deep Reinforcement Learning "
          "(Hu et al., IEEE TPAMI 2023, arXiv 2603.00730)")


def _simplex_2d(n: int) -> tuple[tuple[float, float], ...]:
    return tuple((round(i / (n - 1), 6), round(1 - i / (n - 1), 6)) for i in range(n))


def _metrics() -> tuple[Metric, ...]:
    return (
        Metric("hypervolume", "max", "", "hypervolume of the evaluated front w.r.t. the task's reference point"),
        Metric("eum", "max", "", "expected utility over the preference weight set"),
        Metric("cardinality", "max", "points", "number of non-dominated points"),
        Metric("sparsity", "min", "", "PGMORL sparsity of the front (mean squared gap between neighbours)"),
        Metric("spacing", "min", "", "Schott's spacing of the front (std of nearest-neighbour distances)"),
        Metric("spread", "min", "", "Deb's spread of the front (0 = evenly spread, extremes reached)"),
    )


# Joint steps per learner: what three seeds of every learner cost on a shared 2-core machine
# (about 2 minutes each); the paper trains far longer.
_BUDGET = 30_000


def _tasks() -> list[TaskSpec]:
    common = dict(family="MOCoop", paper=_PAPER, multi_agent=True)
    navigation = BenchmarkSpec(
        metrics=_metrics(),
        primary_metric="hypervolume",
        train_timesteps=_BUDGET,
        n_train_seeds=3,
        eval_episodes=10,
        # (coverage, energy) returns of a 25-step episode with 3 agents: standing still scores
        # about (-50, 0), random moves (-51, -60), heading straight for a landmark (-18, -55).
        hv_ref_point=(-60.0, -80.0),
        gamma=1.0,
        preference_weights=_simplex_2d(11),
    )
    predator_prey = BenchmarkSpec(
        metrics=_metrics(),
        primary_metric="hypervolume",
        train_timesteps=_BUDGET,
        n_train_seeds=3,
        eval_episodes=10,
        # (capture, energy) of a 50-step episode with 3 predators: capture in [0, 10], energy in [-15, 0].
        hv_ref_point=(-1.0, -16.0),
        gamma=1.0,
        preference_weights=_simplex_2d(11),
    )
    return [
        TaskSpec(id="gauntlet/MOCoopNavigation-v0", entry_point="gauntlet.envs.mo_coop.navigation:MOCoopNavigationEnv",
                 vector_entry_point="gauntlet.envs.mo_coop.vector:MOCoopNavigationVectorEnv", benchmark=navigation, **common),
        TaskSpec(id="gauntlet/MOPredatorPrey-v0", entry_point="gauntlet.envs.mo_coop.predator_prey:MOPredatorPreyEnv",
                 vector_entry_point="gauntlet.envs.mo_coop.vector:MOPredatorPreyVectorEnv", benchmark=predator_prey, **common),
    ]


TASKS = _tasks()

_MOCOOP = ("gauntlet/MOCoopNavigation-*", "gauntlet/MOPredatorPrey-*")
# Exploration anneals over half of each learner's steps (EPyMARL: 50k steps of a 100k-step run).
# Outer-loop QMIX trains one QMIX per preference of the task's weight set, each for 1/11 of the budget.
_HALF_BUDGET = {"epsilon_anneal_steps": _BUDGET // 2}
_WEIGHT_SETS = {task.id.rsplit("-v", 1)[0] + "-*": {
    "weights": [list(w) for w in task.benchmark.preference_weights],
    "epsilon_anneal_steps": _BUDGET // len(task.benchmark.preference_weights) // 2,
} for task in TASKS}

AGENTS = [
    AgentSpec("mo-mix", "gauntlet.agents.mo_mix:MOMIX", "reference", True, _MOCOOP,
              "preference-conditioned agents, per-objective QMIX mixers on state and w, exploration guide",
              hyperparameters={pattern: _HALF_BUDGET for pattern in _MOCOOP}),
    AgentSpec("outer-loop-qmix", "gauntlet.baselines.mo_coop:OuterLoopQMIX", "baseline", True, _MOCOOP,
              "one QMIX (EPyMARL settings) per preference of the task's weight set", hyperparameters=_WEIGHT_SETS),
    AgentSpec("iql-scalarized", "gauntlet.baselines.mo_coop:IQLScalarized", "baseline", True, _MOCOOP,
              "independent Q-learning on w . r, one w-conditioned network, no mixer",
              hyperparameters={pattern: _HALF_BUDGET for pattern in _MOCOOP}),
    AgentSpec("landmark-greedy", "gauntlet.baselines.mo_coop:LandmarkGreedyAgent", "baseline", False,
              ("gauntlet/MOCoopNavigation-*",), "each agent heads for its own landmark, stopping earlier as energy weighs more"),
    AgentSpec("chase", "gauntlet.baselines.mo_coop:ChaseAgent", "baseline", False, ("gauntlet/MOPredatorPrey-*",),
              "more predators run straight at the prey as capture weighs more"),
    AgentSpec("random-joint", "gauntlet.baselines.mo_coop:RandomJointAgent", "baseline", False, _MOCOOP,
              "every agent moves uniformly at random"),
]
