"""The tables: every task (env id, entry point, variants, benchmark spec) and every agent.

The CLI, the benchmark runner and ``gauntlet list`` read only these two tables. Entry
points are ``"module:attr"`` strings imported on first use, so ``import gauntlet`` stays
light and every id is listed even when its optional dependency is missing.
"""

from __future__ import annotations

import fnmatch
import importlib
import importlib.util
import inspect
from dataclasses import dataclass, field
from typing import Any, Literal

import gymnasium as gym

OFFICIAL_EVAL_SEED_START = 10_000
DEV_EVAL_SEED_START = 1_000


@dataclass(frozen=True)
class Metric:
    """A reported quantity: ``direction`` says whether larger ("max") or smaller ("min") is better.
    With a ``shift``, boards also report its shifted geometric mean over episodes (``sgm``) and
    rank on that instead of the mean (solver statistics such as node counts)."""

    name: str
    direction: Literal["max", "min"]
    unit: str = ""
    description: str = ""
    shift: float | None = None


@dataclass(frozen=True)
class BenchmarkSpec:
    """How a task is benchmarked.

    ``episode_metrics`` is a ``"module:attr"`` callable ``f(rewards, infos) -> dict[str, float]``
    turning one evaluation episode (rewards: array of shape (T,) or (T, d) for MO tasks;
    infos: the T step infos) into the task's metrics. ``return`` and ``length`` are always
    computed by the runner. ``reference_scores`` maps "random" and "best" to primary-metric
    values used for the normalized score (0 = random, 1 = best); empty means not yet measured.
    ``eval_env_kwargs`` are applied on top of the env kwargs for evaluation only (a held-out
    test period, test contexts), so agents never train on the evaluation distribution.
    """

    metrics: tuple[Metric, ...]
    primary_metric: str
    train_timesteps: int
    n_train_seeds: int = 5
    eval_episodes: int = 10
    episode_metrics: str | None = None
    reference_scores: dict[str, float] = field(default_factory=dict)
    hv_ref_point: tuple[float, ...] | None = None
    gamma: float | None = None
    preference_weights: tuple[tuple[float, ...], ...] | None = None
    eval_env_kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def train_seeds(self) -> list[int]:
        return list(range(self.n_train_seeds))

    def eval_seeds(self, official: bool = True) -> list[int]:
        start = OFFICIAL_EVAL_SEED_START if official else DEV_EVAL_SEED_START
        return list(range(start, start + self.eval_episodes))

    def metric(self, name: str) -> Metric:
        for m in self.metrics:
            if m.name == name:
                return m
        known = ", ".join(m.name for m in self.metrics)
        raise KeyError(f"unknown metric {name!r}; this task reports: {known}")

    @property
    def is_multi_objective(self) -> bool:
        return self.hv_ref_point is not None


@dataclass(frozen=True)
class TaskSpec:
    """An environment id and everything needed to build and benchmark it."""

    id: str
    entry_point: str
    family: str
    paper: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    vector_entry_point: str | None = None
    max_episode_steps: int | None = None
    extra: tuple[str, str] | None = None
    """(pip extra, module it provides) when the env needs an optional dependency."""
    benchmark: BenchmarkSpec | None = None


@dataclass(frozen=True)
class AgentSpec:
    """A named agent: ``factory(env, seed=..., **hyperparameters)`` returns an object with
    SB3's ``predict``; learning agents also have ``learn``, ``save`` and ``load``."""

    name: str
    factory: str
    kind: Literal["reference", "baseline"]
    learns: bool
    tasks: tuple[str, ...]
    """Glob patterns over task ids this agent supports."""
    description: str = ""
    hyperparameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Task-id glob -> keyword arguments for the factory; later matches override earlier ones."""
    search_space: dict[str, Any] = field(default_factory=dict)
    extra: tuple[str, str] | None = None

    def supports(self, task_id: str) -> bool:
        return any(fnmatch.fnmatchcase(task_id, p) for p in self.tasks)

    def hyperparameters_for(self, task_id: str) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for pattern, values in self.hyperparameters.items():
            if fnmatch.fnmatchcase(task_id, pattern):
                merged.update(values)
        return merged


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
        episode_metrics="gauntlet.envs.lot_sizing:episode_metrics",
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
                entry_point="gauntlet.envs.lot_sizing:LotSizingEnv",
                vector_entry_point="gauntlet.envs.lot_sizing_vector:LotSizingVectorEnv",
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
            entry_point="gauntlet.envs.lot_sizing:LotSizingEnv",
            vector_entry_point="gauntlet.envs.lot_sizing_vector:LotSizingVectorEnv",
            family="LotSizing",
            paper=_LOT_SIZING_PAPER,
            kwargs={"n_items": 15, "n_machines": 5},
        ),
    )
    return tasks


# ----------------------------------------------------------------------- FairThreshold
_FAIR_PAPER = "Optimistic Feasible Search for Closed-Loop Fair Threshold Decision-Making (arXiv 2512.22313)"
_FAIR_METRICS = (
    Metric("return", "max", "", "cumulative reward over the episode"),
    Metric("violation", "min", "", "cumulative constraint violation (sum of positive residuals)"),
    Metric("feasible", "max", "fraction", "fraction of rounds whose chosen threshold was feasible"),
    Metric("final_disparity", "min", "", "final drift of the protected group's share from its base share |p_T - p_bar|"),
)


def _fair_tasks() -> list[TaskSpec]:
    tasks = [
        TaskSpec(
            id="gauntlet/FairThreshold-v0",
            entry_point="gauntlet.envs.fair_threshold:FairThresholdEnv",
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
                entry_point="gauntlet.envs.fair_threshold:FairThresholdEnv",
                family="FairThreshold",
                paper=_FAIR_PAPER,
                kwargs={"dataset": dataset},
                benchmark=BenchmarkSpec(
                    metrics=_FAIR_METRICS,
                    primary_metric="return",
                    train_timesteps=0,
                    n_train_seeds=10,
                    eval_episodes=1,
                    episode_metrics="gauntlet.envs.fair_threshold:episode_metrics",
                    reference_scores=reference,
                ),
            )
        )
    return tasks


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
            entry_point="gauntlet.envs.agv_warehouse:AGVWarehouseEnv",
            vector_entry_point="gauntlet.envs.agv_warehouse_vector:AGVWarehouseVectorEnv",
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
                entry_point="gauntlet.envs.agv_warehouse:AGVWarehouseEnv",
                vector_entry_point="gauntlet.envs.agv_warehouse_vector:AGVWarehouseVectorEnv",
                family="AGVWarehouse",
                paper=_AGV_PAPER,
                kwargs={"scene": scene},
                benchmark=BenchmarkSpec(
                    metrics=_AGV_METRICS,
                    primary_metric="success",
                    train_timesteps=300_000,
                    n_train_seeds=3,
                    eval_episodes=20,
                    episode_metrics="gauntlet.envs.agv_warehouse:episode_metrics",
                ),
            )
        )
    return tasks


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
        episode_metrics="gauntlet.envs.mec_offloading:episode_metrics",
        # (delay return, energy return) per episode, slightly worse than the worst mean point of
        # the nearest-edge and greedy baselines on the E=6 test contexts (about (-63, -300)).
        # Random, all-cloud and least-loaded lie far outside (with the correct uplink rates a
        # task sent to the cloud costs thousands per objective), so their hypervolume is 0.
        hv_ref_point=(-100.0, -500.0),
        gamma=1.0,
        preference_weights=_simplex_2d(11),
    )
    common = dict(
        entry_point="gauntlet.envs.mec_offloading:MOMECOffloadingEnv",
        vector_entry_point="gauntlet.envs.mec_offloading_vector:MECOffloadingVectorEnv",
        family="MECOffloading",
        paper=_MEC_PAPER,
    )
    return [
        TaskSpec(id="gauntlet/mo-MECOffloading-v0", kwargs={"context": "test", "n_edges": 6, "preference_in_obs": True},
                 benchmark=benchmark, **common),
        TaskSpec(
            id="gauntlet/MECOffloading-v0",
            # Every edge present so that unmasked checkers (check_env) only take valid actions;
            # pass n_edges=None (and max_edges=10) for the randomized number of edges.
            kwargs={"context": "train", "n_edges": 8, "max_edges": 8, "preference_in_obs": True},
            **{**common, "entry_point": "gauntlet.envs.mec_offloading:MECOffloadingEnv"},
        ),
    ]


# ------------------------------------------------------------------------ ESGPortfolio
_ESG_PAPER = "Deep Reinforcement Learning for ESG financial portfolio management (arXiv 2307.09631)"
_ESG = ("gauntlet/ESGPortfolio-*",)
_ESG_METRICS = (
    Metric("sharpe", "max", "", "annualized Sharpe ratio of the daily net returns (risk-free rate 0)"),
    Metric("annualized_return", "max", "fraction", "final_wealth ** (252 / days) - 1"),
    Metric("max_drawdown", "min", "fraction", "largest peak-to-trough loss of the wealth curve"),
    Metric("turnover", "min", "fraction/day", "mean daily sum |w_target - w_drifted| over the risky assets"),
    Metric("portfolio_esg", "max", "score", "mean portfolio ESG score sum_i w_i ESG_i"),
    Metric("final_wealth", "max", "x initial", "wealth at the end of the test period (starts at 1)"),
)


def _esg_tasks() -> list[TaskSpec]:
    # gym.make(id) is the training period (2010-2019); evaluation runs on the test period
    # (2020-2022) through eval_env_kwargs. Episodes are deterministic given the data (the env
    # randomizes nothing unless episode_length= is set), so one evaluation episode suffices.
    benchmark = BenchmarkSpec(
        metrics=_ESG_METRICS,
        primary_metric="sharpe",
        train_timesteps=100_000,
        n_train_seeds=3,
        eval_episodes=1,
        episode_metrics="gauntlet.envs.esg_portfolio:episode_metrics",
        eval_env_kwargs={"period": "test"},
    )
    common = dict(
        entry_point="gauntlet.envs.esg_portfolio:ESGPortfolioEnv",
        family="ESGPortfolio",
        paper=_ESG_PAPER,
        extra=("data", "skfolio"),
    )
    tasks = [
        TaskSpec(id="gauntlet/ESGPortfolio-v0", kwargs={"data": "sp500", "regulation": "esg", "esg_in_state": True}, **common)
    ]
    for market, regulation in (("Regulated", "esg"), ("Unregulated", "none")):
        for suffix, esg_in_state in (("", True), ("-NoESG", False)):
            tasks.append(
                TaskSpec(
                    id=f"gauntlet/ESGPortfolio-{market}{suffix}-v0",
                    kwargs={"data": "sp500", "regulation": regulation, "esg_in_state": esg_in_state},
                    benchmark=benchmark,
                    **common,
                )
            )
    return tasks


# ----------------------------------------------------------------------- MILPBranching
_MILP_PAPER = "ReviBranch: Deep Reinforcement Learning for Branch-and-Bound with Revived Trajectories (arXiv 2508.17452)"
_MILP = ("gauntlet/MILPBranching-*",)
_MILP_METRICS = (
    Metric("nodes", "min", "nodes", "B&B nodes of the solve", shift=1.0),
    Metric("lp_iterations", "min", "iterations", "simplex iterations of the solve", shift=10.0),
    Metric("solving_time", "min", "s", "SCIP wall-clock solving time incl. decision time", shift=1.0),
    Metric("solved", "max", "fraction", "instances SCIP finished (optimal or infeasible) within the protocol time limit"),
)


def _milp_tasks() -> list[TaskSpec]:
    # One episode = one instance solved; evaluation seeds draw the fixed test instances. Gasse et
    # al. allowed 3600 s per instance on a cluster; 120 s keeps a full test set (20 instances x 7
    # policies) within hours on a 2-core CPU, and solves stopped by it count with what SCIP
    # reports at the limit (the ``solved`` metric says how many finished).
    benchmark = BenchmarkSpec(
        metrics=_MILP_METRICS,
        primary_metric="nodes",
        train_timesteps=20_000,
        n_train_seeds=1,
        eval_episodes=20,
        episode_metrics="gauntlet.envs.milp_branching:episode_metrics",
        eval_env_kwargs={"time_limit": 120.0},
    )
    common = dict(
        entry_point="gauntlet.envs.milp_branching:MILPBranchingEnv",
        family="MILPBranching",
        paper=_MILP_PAPER,
        extra=("scip", "pyscipopt"),
    )
    tasks = [TaskSpec(id="gauntlet/MILPBranching-v0", kwargs={"problem": "setcover", "size": "train"}, **common)]
    for label, problem in (("SetCover", "setcover"), ("CombAuction", "cauction"),
                           ("FacilityLocation", "facility"), ("IndependentSet", "indset")):
        tasks.append(TaskSpec(id=f"gauntlet/MILPBranching-{label}-v0", kwargs={"problem": problem, "size": "train"},
                              benchmark=benchmark, **common))
    return tasks


_MILP_AGENTS = (
    AgentSpec("gcnn", "gauntlet.agents.gcnn:GCNNImitation", "reference", True, _MILP,
              "Gasse et al. 2019 bipartite GCNN imitating full strong branching (timesteps = expert decisions collected)",
              extra=("scip", "pyscipopt")),
    AgentSpec("revibranch", "gauntlet.agents.revibranch:ReviBranch", "reference", True, _MILP,
              "ReviBranch-style DQN over GCNN embeddings with revived trajectories and importance-weighted rewards",
              extra=("scip", "pyscipopt")),
    AgentSpec("scip-default", "gauntlet.baselines.branching:ScipDefaultAgent", "baseline", False, _MILP,
              "SCIP 10's own branching (relpscost): the env lets SCIP decide"),
    AgentSpec("pseudocost", "gauntlet.baselines.branching:PseudocostAgent", "baseline", False, _MILP,
              "largest SCIP pseudocost product score"),
    AgentSpec("most-fractional", "gauntlet.baselines.branching:MostFractionalAgent", "baseline", False, _MILP,
              "LP value farthest from an integer"),
    AgentSpec("strong-branching", "gauntlet.baselines.branching:StrongBranchingAgent", "baseline", False, _MILP,
              "vanilla full strong branching (Gasse et al.), the imitation expert"),
)


TASKS: dict[str, TaskSpec] = {
    t.id: t for t in (*_lot_sizing_tasks(), *_fair_tasks(), *_agv_tasks(), *_mec_tasks(), *_esg_tasks(), *_milp_tasks())
}


# ------------------------------------------------------------------------------ agents
_ALL = ("gauntlet/*",)
_LOT = ("gauntlet/LotSizing-*",)
_FAIR = ("gauntlet/FairThreshold-*",)
_AGV = ("gauntlet/AGVWarehouse-*",)
_MEC = ("gauntlet/mo-MECOffloading-*", "gauntlet/MECOffloading-*")

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

# PPO and PPO+RND share these on AGVWarehouse so the comparison isolates the intrinsic reward.
_AGV_PPO_HP = {"n_steps": 1024, "batch_size": 256, "n_epochs": 4, "learning_rate": 3e-4, "gamma": 0.99}

AGENTS: dict[str, AgentSpec] = {
    a.name: a
    for a in (
        *_MILP_AGENTS,
        AgentSpec(
            "random", "gauntlet.baselines.random:RandomAgent", "baseline", False, _ALL,
            "uniform random valid action (respects action masks)",
        ),
        # LotSizing
        AgentSpec(
            "pdppo", "gauntlet.agents.pdppo:PDPPO", "reference", True, _LOT,
            "PDPPO with dual critics V(s) and V^x(s^x)",
            hyperparameters={"gauntlet/LotSizing-*": {**_PDPPO_PAPER_HP, "dual_critic": True}},
            search_space={"actor_lr": [1e-4, 1e-3], "critic_lr": [3e-4, 3e-3], "n_epochs": [10, 40]},
        ),
        AgentSpec(
            "pdppo-1critic", "gauntlet.agents.pdppo:PDPPO", "reference", True, _LOT,
            "PDPPO with a single critic on the post-decision state",
            hyperparameters={"gauntlet/LotSizing-*": {**_PDPPO_PAPER_HP, "dual_critic": False}},
        ),
        AgentSpec(
            "ppo", "gauntlet.agents.sb3:make_ppo", "reference", True, (*_LOT, *_AGV, *_MEC, *_ESG),
            "Stable-Baselines3 PPO (MaskablePPO where the env exposes action_masks)",
            hyperparameters={
                "gauntlet/LotSizing-*": {
                    "gamma": 0.90, "clip_range": 0.2, "n_epochs": 40, "learning_rate": 5.5e-4,
                    "n_envs": 8, "n_steps": 50, "batch_size": 400, "ent_coef": 0.001,
                    "policy_kwargs": {"net_arch": [128, 128]},
                },
                "gauntlet/AGVWarehouse-*": _AGV_PPO_HP,
                # FinRL's PPO_PARAMS, which the ESG paper's agents use.
                "gauntlet/ESGPortfolio-*": {"n_steps": 2048, "ent_coef": 0.01, "learning_rate": 2.5e-4, "batch_size": 64},
            },
            search_space={"learning_rate": [1e-4, 1e-3], "n_epochs": [5, 40], "ent_coef": [0.0, 0.01]},
        ),
        AgentSpec("base-stock", "gauntlet.baselines.lot_sizing:BaseStockAgent", "baseline", False, _LOT,
                  "per-item (s,S) with machine assignment by run-out time, tuned by simulation on training seeds"),
        AgentSpec("newsvendor", "gauntlet.baselines.lot_sizing:NewsvendorAgent", "baseline", False, _LOT,
                  "myopic newsvendor order-up-to levels"),
        AgentSpec("rolling-milp", "gauntlet.baselines.lot_sizing:RollingMILPAgent", "baseline", False, _LOT,
                  "rolling-horizon MILP on expected demand (HiGHS)"),
        AgentSpec("perfect-info", "gauntlet.baselines.lot_sizing:PerfectInformationAgent", "baseline", False, _LOT,
                  "MILP with the realized demand known in advance: a lower bound on cost"),
        # FairThreshold
        AgentSpec("ofs", "gauntlet.agents.ofs:OFS", "reference", True, _FAIR,
                  "Optimistic Feasible Search over the threshold grid"),
        AgentSpec("ucb", "gauntlet.baselines.fair_bandits:UCBAgent", "baseline", True, _FAIR,
                  "unconstrained UCB on reward"),
        AgentSpec("primal-dual", "gauntlet.baselines.fair_bandits:PrimalDualAgent", "baseline", True, _FAIR,
                  "Lagrangian bandit with dual ascent on the constraint residuals"),
        AgentSpec("epsilon-greedy", "gauntlet.baselines.fair_bandits:EpsilonGreedyAgent", "baseline", True, _FAIR,
                  "epsilon-greedy on the penalized reward"),
        AgentSpec("oracle-threshold", "gauntlet.baselines.fair_bandits:OracleThresholdAgent", "baseline", False, _FAIR,
                  "best feasible fixed threshold, found by sweeping the grid on long rollouts"),
        # AGVWarehouse
        AgentSpec("ppo-rnd", "gauntlet.agents.ppo_rnd:PPORND", "reference", True, _AGV,
                  "PPO with Random Network Distillation intrinsic reward",
                  hyperparameters={"gauntlet/AGVWarehouse-*": _AGV_PPO_HP}),
        AgentSpec("straight-to-goal", "gauntlet.baselines.agv:StraightToGoalAgent", "baseline", False, _AGV,
                  "turn towards the goal and drive"),
        AgentSpec("astar", "gauntlet.baselines.agv:AStarAgent", "baseline", False, _AGV,
                  "A* on the occupancy grid + pure-pursuit tracking, replanning around dynamic obstacles"),
        # MECOffloading
        AgentSpec("gmorl", "gauntlet.agents.gmorl:GMORL", "reference", True, _MEC,
                  "preference-conditioned Discrete SAC with histogram encoder and masking"),
        AgentSpec("all-cloud", "gauntlet.baselines.mec:AllCloudAgent", "baseline", False, _MEC, "offload every task to the cloud"),
        AgentSpec("nearest-edge", "gauntlet.baselines.mec:NearestEdgeAgent", "baseline", False, _MEC, "edge with the best channel"),
        AgentSpec("greedy-min-delay", "gauntlet.baselines.mec:GreedyMinDelayAgent", "baseline", False, _MEC, "minimum estimated delay"),
        AgentSpec("greedy-min-energy", "gauntlet.baselines.mec:GreedyMinEnergyAgent", "baseline", False, _MEC, "minimum estimated energy"),
        AgentSpec("greedy-scalarized", "gauntlet.baselines.mec:GreedyScalarizedAgent", "baseline", False, _MEC, "maximum w . r of the one-step estimate"),
        AgentSpec("least-loaded", "gauntlet.baselines.mec:LeastLoadedAgent", "baseline", False, _MEC, "server with the fewest running tasks per GHz"),
        AgentSpec("linucb", "gauntlet.baselines.mec:LinUCBAgent", "baseline", True, _MEC, "LinUCB contextual bandit per preference"),
        # ESGPortfolio
        AgentSpec(
            "a2c", "gauntlet.agents.sb3:make_a2c", "reference", True, _ESG,
            "Stable-Baselines3 A2C, the ESG paper's main agent (FinRL's A2C_PARAMS)",
            hyperparameters={"gauntlet/ESGPortfolio-*": {"n_steps": 5, "ent_coef": 0.01, "learning_rate": 7e-4}},
            search_space={"learning_rate": [1e-4, 1e-3], "n_steps": [5, 20], "ent_coef": [0.0, 0.01]},
        ),
        AgentSpec("equal-weight", "gauntlet.baselines.portfolio:EqualWeightAgent", "baseline", False, _ESG,
                  "1/N over the risky assets, rebalanced every day"),
        AgentSpec("buy-and-hold", "gauntlet.baselines.portfolio:BuyAndHoldAgent", "baseline", False, _ESG,
                  "buy 1/N on the first day, then let the weights drift"),
        AgentSpec("min-variance", "gauntlet.baselines.portfolio:MinVarianceAgent", "baseline", False, _ESG,
                  "long-only minimum variance on a rolling 252-day Ledoit-Wolf covariance, rebalanced every 21 days"),
        AgentSpec("max-sharpe", "gauntlet.baselines.portfolio:MaxSharpeAgent", "baseline", False, _ESG,
                  "long-only maximum Sharpe on rolling shrunk mean and Ledoit-Wolf covariance, rebalanced every 21 days"),
        AgentSpec("esg-tilted", "gauntlet.baselines.portfolio:ESGTiltedAgent", "baseline", False, _ESG,
                  "equal weight tilted towards high ESG scores, w_i proportional to exp(tilt * z_i)"),
    )
}


# ------------------------------------------------------------------------------ lookup
def get_task(task_id: str) -> TaskSpec:
    """The task with this id; the error lists the known ids."""
    try:
        return TASKS[task_id]
    except KeyError:
        known = "\n  ".join(sorted(TASKS))
        raise KeyError(f"unknown task {task_id!r}; known tasks:\n  {known}") from None


def get_agent(name: str) -> AgentSpec:
    """The agent with this name; the error lists the known names."""
    try:
        return AGENTS[name]
    except KeyError:
        known = ", ".join(sorted(AGENTS))
        raise KeyError(f"unknown agent {name!r}; known agents: {known}") from None


def agents_for(task_id: str) -> list[AgentSpec]:
    return [a for a in AGENTS.values() if a.supports(task_id)]


def load_object(path: str) -> Any:
    """Import ``"package.module:attr"``."""
    module_name, _, attr = path.partition(":")
    if not attr:
        raise ValueError(f"expected 'module:attr', got {path!r}")
    return getattr(importlib.import_module(module_name), attr)


def require_extra(extra: tuple[str, str] | None, what: str) -> None:
    """Raise an ImportError naming the pip extra when an optional dependency is missing."""
    if extra is None:
        return
    name, module = extra
    if importlib.util.find_spec(module) is None:
        raise ImportError(f"{what} needs the optional dependency {module!r}: pip install \"gauntlet-rl[{name}]\"")


class EntryPoint:
    """A picklable, lazily imported env constructor that checks the optional dependency and
    turns unknown keyword arguments into a ValueError listing the accepted ones."""

    def __init__(self, task_id: str, path: str, extra: tuple[str, str] | None) -> None:
        self.task_id, self.path, self.extra = task_id, path, extra

    def __call__(self, **kwargs: Any) -> Any:
        require_extra(self.extra, self.task_id)
        cls = load_object(self.path)
        params = inspect.signature(cls).parameters
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            unknown = sorted(set(kwargs) - set(params))
            if unknown:
                allowed = ", ".join(n for n, p in params.items() if p.kind is not inspect.Parameter.VAR_POSITIONAL)
                raise ValueError(f"{self.task_id}: unknown argument(s) {unknown}; allowed: {allowed}")
        return cls(**kwargs)

    def __repr__(self) -> str:
        return f"{self.path}"


def register_envs() -> None:
    """Register every task id with Gymnasium (idempotent)."""
    for task in TASKS.values():
        if task.id in gym.registry:
            continue
        entry = EntryPoint(task.id, task.entry_point, task.extra)
        vector = None if task.vector_entry_point is None else EntryPoint(task.id, task.vector_entry_point, task.extra)
        gym.register(
            id=task.id,
            entry_point=entry,
            vector_entry_point=vector,
            kwargs=dict(task.kwargs),
            max_episode_steps=task.max_episode_steps,
        )
