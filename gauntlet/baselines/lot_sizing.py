"""Classical operations-research baselines for ``gauntlet/LotSizing-*`` (PDPPO's lot-sizing env).

- :class:`IdleAgent`: never produces (every machine idle every period), so the episode costs
  the lost sales of the whole demand less the starting stock, plus its holding. The trivial
  policy a learner must beat first: about 7,950 on 15x5 and 10,930 on 25x15.
- :class:`BaseStockAgent`: per-item (s, S) levels in periods of expected demand, machines
  assigned by run-out time; the two cover multipliers are tuned by simulation on training
  episodes in the constructor.
- :class:`NewsvendorAgent`: myopic order-up-to level per item, the critical fractile
  ``l / (l + h)`` of one period's demand distribution; same machine assignment.
- :class:`RollingMILPAgent`: re-solves the MILP of :mod:`gauntlet.baselines.lot_sizing_milp` on
  the *expected* demand of the next ``lookahead`` periods every period and plays the first one.
- :class:`PerfectInformationAgent`: solves the full-horizon MILP with the *realized* demand
  scenario (an oracle) and plays the plan; ``lower_bound`` is HiGHS's dual bound (at least the
  LP relaxation), a lower bound on the episode cost of every policy on that scenario.

All agents follow the Stable-Baselines3 ``predict`` interface. They read the current inventory
and setups from the observation (layout of the env docstring) and the period, the instance and
the demand model from the env they were built with (``on_reset`` re-binds it).
"""

from __future__ import annotations

import copy
import math
from abc import ABC, abstractmethod
from typing import Any, Sequence

import gymnasium as gym
import numpy as np
from scipy import stats

from gauntlet.baselines.lot_sizing_milp import WINDOW_CUTS, MILPPlan, solve_lot_sizing_milp

_EXTRA_PERIODS = 64  # expected demand is extended past the horizon so coverage windows never run out


def _lot_sizing_env(env: gym.Env) -> Any:
    inner = env.unwrapped
    for name in ("instance", "expected_demand", "demand_scenario", "idle_keeps_setup"):
        if not hasattr(inner, name):
            raise ValueError(f"env must be a gauntlet LotSizingEnv (missing {name!r}), got {type(inner).__name__}")
    return inner


def _positive(name: str, value: Any, *, allow_zero: bool = False) -> float:
    number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not number or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return float(value)


def _whole(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _milp_options(time_limit: float | None, mip_rel_gap: float, window_cuts: str) -> tuple[float | None, float, str]:
    if window_cuts not in WINDOW_CUTS:
        raise ValueError(f"window_cuts must be one of {list(WINDOW_CUTS)}, got {window_cuts!r}")
    if time_limit is not None:
        time_limit = _positive("time_limit", time_limit)
    if isinstance(mip_rel_gap, bool) or not isinstance(mip_rel_gap, (int, float)) or not 0.0 <= mip_rel_gap < 1.0:
        raise ValueError(f"mip_rel_gap must be in [0, 1), got {mip_rel_gap!r}")
    return time_limit, float(mip_rel_gap), window_cuts


def _overflow_cost(env: Any) -> float:
    return float(env.overflow_cost) if getattr(env, "overflow", "discard") == "cost" else 0.0


def _runout(stock: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Periods until ``stock`` runs out at the expected demand ``mean`` (inf without demand)."""
    out = np.full(stock.shape, np.inf)
    np.divide(stock, mean, out=out, where=mean > 0)
    return out


class _LotSizingPolicy(ABC):
    """State decoding and the SB3 ``predict`` loop shared by the baselines; subclasses
    implement ``_act(inventory, setup, t) -> action (M,)``."""

    def __init__(self, env: gym.Env, seed: int = 0) -> None:
        self.env = _lot_sizing_env(env)
        self.seed = _whole("seed", seed, 0)
        self.action_space = env.action_space
        inst = self.env.instance
        self._n_items, self._n_machines = inst.n_items, inst.n_machines
        self._max_inventory = inst.max_inventory.astype(np.float64)

    def on_reset(self, env: gym.Env, observation: Any, info: dict) -> None:
        self.env = _lot_sizing_env(env)

    def _decode(self, observation: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n_items, n_machines = self._n_items, self._n_machines
        inventory = np.rint(observation[:n_items] * self._max_inventory).astype(np.int64)
        onehot = observation[n_items : n_items + n_machines * (n_items + 1)].reshape(n_machines, n_items + 1)
        return inventory, onehot.argmax(axis=1).astype(np.int64)

    def predict(
        self,
        observation: Any,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
    ) -> tuple[np.ndarray, Any]:
        obs = np.asarray(observation, dtype=np.float64)
        t = int(self.env.t)
        if obs.ndim == 1:
            return self._act(*self._decode(obs), t), state
        return np.stack([self._act(*self._decode(row), t) for row in obs]), state

    @abstractmethod
    def _act(self, inventory: np.ndarray, setup: np.ndarray, t: int) -> np.ndarray:
        """The action (M,) for this inventory and setup in period ``t``."""


class IdleAgent(_LotSizingPolicy):
    """Every machine idle in every period (action ``0``; idle is never masked)."""

    def _act(self, inventory: np.ndarray, setup: np.ndarray, t: int) -> np.ndarray:
        return np.zeros(self._n_machines, dtype=self.action_space.dtype)


class _LevelPolicy(_LotSizingPolicy):
    """Produces for items below a reorder level ``s[t, i]`` and keeps running set-up machines
    while the item is below its order-up-to level ``S[t, i]``, with machines assigned by
    run-out time (stock / expected demand of the period, smallest first).

    Only machine-item pairs whose output exceeds the item's expected demand are used (a slower
    machine cannot build stock and would be tied up for good). One period: (1) every machine
    already set up for an item keeps making it while the item's stock (plus output already
    assigned) is below ``S`` and the batch fits under the cap after one period of expected
    demand (continuing is free; switching costs a setup); (2) items whose stock (plus output
    already assigned) is below ``s`` take, most urgent first, the free machine with the lowest
    setup cost per unit of net output (``C / (P - L)``), one machine per round,
    until no item is below ``s`` or no machine is free. A machine only takes a new item if the
    setup pays for itself: ``l_i * min(max(P - L, S - stock), expected demand left) >= C``
    (cheap items are left to lost sales rather than set up for); (3) other machines idle."""

    @abstractmethod
    def _levels(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """(reorder level s, order-up-to level S), both (I,), for period ``t``."""

    def _act(self, inventory: np.ndarray, setup: np.ndarray, t: int) -> np.ndarray:
        inst = self.env.instance
        P = inst.production
        net = np.maximum(P - inst.setup_loss, 0)
        reorder, order_up_to = self._levels(t)
        mean = self._mean[t]
        cap = self._max_inventory
        projected = inventory.astype(np.float64)
        action = np.zeros(self._n_machines, dtype=np.int64)
        running = np.flatnonzero(setup > 0)
        for m in running[np.argsort(_runout(projected, mean)[setup[running] - 1], kind="stable")]:
            item = setup[m] - 1
            batch = P[m, item]
            fits = projected[item] + batch - mean[item] <= cap[item]
            if mean[item] < batch and projected[item] < order_up_to[item] and fits:
                action[m] = item + 1
                projected[item] += batch
        free = action == 0
        with np.errstate(divide="ignore"):
            cost_per_unit = np.where(net > 0, inst.setup_cost / net, np.inf)
        # A new setup must pay for itself: the lost sales it can avoid (the run's output, at most
        # the expected demand left in the episode) must exceed its cost.
        remaining = self._mean[t : self.env.horizon].sum(axis=0)
        avoidable = np.minimum(np.maximum(net, order_up_to - projected), remaining)
        worth = inst.lost_sales_cost * avoidable >= inst.setup_cost
        while free.any():
            due = np.flatnonzero(projected < reorder)
            if due.size == 0:
                break
            assigned = False
            for item in due[np.argsort(_runout(projected, mean)[due], kind="stable")]:
                room = projected[item] + net[:, item] - mean[item] <= cap[item]
                fits = free & (net[:, item] > mean[item]) & worth[:, item] & room
                if fits.any():
                    m = int(np.flatnonzero(fits)[np.argmin(cost_per_unit[fits, item])])
                    action[m] = item + 1
                    free[m] = False
                    projected[item] += net[m, item]
                    assigned = True
                    break
            if not assigned:
                break
        return action


class BaseStockAgent(_LevelPolicy):
    """Per-item (s, S) policy with run-out-time machine assignment, tuned by simulation.

    ``s[t, i]`` is the expected demand of item ``i`` over the next ``reorder_cover`` periods from
    ``t`` and ``S[t, i]`` over the next ``reorder_cover + order_up_to_cover`` periods
    (fractional covers interpolate the cumulative expected demand, so seasonal demand is
    handled). When ``reorder_cover`` / ``order_up_to_cover`` are not given, every pair of
    ``reorder_grid`` x ``order_up_to_grid`` is simulated on ``n_tuning_episodes`` episodes of a
    private copy of the env reset with seeds ``seed * n_tuning_episodes + k`` (training seeds,
    disjoint from the development seeds 1000+ for ``seed < 1000 // n_tuning_episodes``) and the
    pair with the lowest mean cost is kept (``tuning_costs`` holds the whole table). The copy
    is reset with the same seeds for every pair (common random numbers).
    """

    def __init__(
        self,
        env: gym.Env,
        seed: int = 0,
        reorder_cover: float | None = None,
        order_up_to_cover: float | None = None,
        reorder_grid: Sequence[float] = (0.5, 1.0, 2.0, 3.0, 5.0),
        order_up_to_grid: Sequence[float] = (2.0, 4.0, 8.0, 12.0, 20.0),
        n_tuning_episodes: int = 3,
    ) -> None:
        super().__init__(env, seed)
        self.n_tuning_episodes = _whole("n_tuning_episodes", n_tuning_episodes, 1)
        grids = {}
        for name, grid in (("reorder_grid", reorder_grid), ("order_up_to_grid", order_up_to_grid)):
            values = tuple(grid) if isinstance(grid, (list, tuple, np.ndarray)) else ()
            if not values:
                raise ValueError(f"{name} must be a non-empty sequence of numbers >= 0, got {grid!r}")
            grids[name] = tuple(_positive(f"{name} entry", g, allow_zero=True) for g in values)
        self._cumulative = np.concatenate(
            [np.zeros((1, self._n_items)),
             np.cumsum(self.env.instance.expected_demand(self.env.horizon + _EXTRA_PERIODS), axis=0)]
        )
        self._mean = np.diff(self._cumulative, axis=0)
        self.tuning_costs: dict[tuple[float, float], float] = {}
        if (reorder_cover is None) != (order_up_to_cover is None):
            raise ValueError("give both reorder_cover and order_up_to_cover, or neither to tune them")
        if reorder_cover is not None:
            self._set_covers(_positive("reorder_cover", reorder_cover, allow_zero=True),
                             _positive("order_up_to_cover", order_up_to_cover, allow_zero=True))
        else:
            self._tune(grids["reorder_grid"], grids["order_up_to_grid"])

    def _set_covers(self, reorder_cover: float, order_up_to_cover: float) -> None:
        self.reorder_cover, self.order_up_to_cover = reorder_cover, order_up_to_cover
        t = np.arange(self.env.horizon + 1, dtype=np.float64)
        self._reorder = self._cover(t, reorder_cover)
        self._order_up_to = self._cover(t, reorder_cover + order_up_to_cover)

    def _cover(self, t: np.ndarray, periods: float) -> np.ndarray:
        """Expected demand over [t, t + periods) for every t, interpolating fractional periods."""
        end = t + periods
        low = np.floor(end).astype(np.int64)
        frac = (end - low)[:, None]
        top = np.minimum(low + 1, len(self._cumulative) - 1)
        cum_end = self._cumulative[low] * (1 - frac) + self._cumulative[top] * frac
        return cum_end - self._cumulative[t.astype(np.int64)]

    def _levels(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        return self._reorder[t], self._order_up_to[t]

    def _tune(self, reorder_grid: Sequence[float], order_up_to_grid: Sequence[float]) -> None:
        sim = copy.deepcopy(self.env)
        home = self.env
        self.env = sim
        seeds = [self.seed * self.n_tuning_episodes + k for k in range(self.n_tuning_episodes)]
        try:
            for r in reorder_grid:
                for o in order_up_to_grid:
                    self._set_covers(r, o)
                    self.tuning_costs[(r, o)] = float(np.mean([self._episode_cost(sim, s) for s in seeds]))
        finally:
            self.env = home
        best = min(self.tuning_costs, key=self.tuning_costs.get)
        self._set_covers(*best)

    def _episode_cost(self, sim: Any, seed: int) -> float:
        sim.reset(seed=seed)
        cost = 0.0
        for t in range(sim.horizon):
            _, reward, _, _, _ = sim.step(self._act(sim.inventory, sim.setup, t))
            cost -= reward
        return cost


class NewsvendorAgent(_LevelPolicy):
    """Myopic newsvendor: order up to the critical fractile of one period's demand.

    ``S[t, i]`` is the smallest ``q`` with ``F_{t,i}(q) >= l_i / (l_i + h_i)`` (underage = the
    lost-sales cost, overage = one period of holding) for the demand distribution of period
    ``t`` (``scipy.stats``: binomial, poisson, seasonal binomial with ``p_t = E[d_t] / n``,
    discrete uniform, or the instance's probability mass function). Items below ``S`` are
    produced (``s = S``), with the machine assignment of the base-stock policy. It ignores
    setup costs, the all-or-nothing batch size and future periods, hence "myopic".
    """

    def __init__(self, env: gym.Env, seed: int = 0) -> None:
        super().__init__(env, seed)
        inst = self.env.instance
        periods = self.env.horizon + 1
        self._mean = inst.expected_demand(periods)
        ratio = inst.lost_sales_cost / (inst.lost_sales_cost + inst.holding_cost)
        self.critical_ratio = np.where(np.isfinite(ratio), ratio, 1.0)
        self._order_up_to = self._fractile(inst.demand_distribution, self._mean, self.critical_ratio)

    @staticmethod
    def _fractile(dist: dict, mean: np.ndarray, ratio: np.ndarray) -> np.ndarray:
        name = dist["name"]
        q = np.broadcast_to(ratio, mean.shape)
        if name in ("binomial", "seasonal"):
            n = dist["n"]
            p = np.clip(mean / n, 0.0, 1.0) if n > 0 else np.zeros_like(mean)
            return stats.binom.ppf(q, n, p)
        if name == "poisson":
            return stats.poisson.ppf(q, mean)
        if name == "discrete_uniform":
            return stats.randint.ppf(q, dist["low"], dist["high"])
        pmf = stats.rv_discrete(values=(np.asarray(dist["vals"]), np.asarray(dist["probs"])))
        return pmf.ppf(q)

    def _levels(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        return self._order_up_to[t], self._order_up_to[t]


class RollingMILPAgent(_LotSizingPolicy):
    """Rolling-horizon MILP on expected demand (certainty-equivalent model predictive control).

    Every period solves the model of :mod:`gauntlet.baselines.lot_sizing_milp` from the current
    inventory and setups over the next ``min(lookahead, T - t)`` periods with the expected
    demand, and plays the first period's decisions. HiGHS stops at ``time_limit`` seconds per
    solve or at ``mip_rel_gap``; if it has found no plan by then, the period falls back to a
    :class:`BaseStockAgent` tuned in the constructor (same ``seed``), counted in ``fallbacks``.
    ``time_limit`` makes the policy depend on machine speed; ``None`` removes it.
    """

    def __init__(
        self,
        env: gym.Env,
        seed: int = 0,
        lookahead: int = 10,
        time_limit: float | None = 1.0,
        mip_rel_gap: float = 0.01,
        window_cuts: str = "suffix",
    ) -> None:
        super().__init__(env, seed)
        self.lookahead = _whole("lookahead", lookahead, 1)
        self.time_limit, self.mip_rel_gap, self.window_cuts = _milp_options(time_limit, mip_rel_gap, window_cuts)
        self._fallback = BaseStockAgent(env, seed)
        self.fallbacks = 0
        self.last_plan: MILPPlan | None = None

    def on_reset(self, env: gym.Env, observation: Any, info: dict) -> None:
        super().on_reset(env, observation, info)
        self._fallback.on_reset(env, observation, info)

    def _act(self, inventory: np.ndarray, setup: np.ndarray, t: int) -> np.ndarray:
        env = self.env
        end = min(t + self.lookahead, env.horizon)
        demand = env.instance.expected_demand(end)[t:end]
        plan = solve_lot_sizing_milp(
            env.instance, demand, inventory, setup,
            idle_keeps_setup=env.idle_keeps_setup, overflow_cost=_overflow_cost(env),
            window_cuts=self.window_cuts, time_limit=self.time_limit, mip_rel_gap=self.mip_rel_gap,
        )
        self.last_plan = plan
        if plan.actions is None:
            self.fallbacks += 1
            return self._fallback._act(inventory, setup, t)
        return plan.actions[0]


class PerfectInformationAgent(_LotSizingPolicy):
    """Oracle: the full-horizon MILP solved with the realized demand scenario.

    At the start of each episode (``on_reset``, or the first ``predict`` of a new scenario) it
    reads ``env.unwrapped.demand_scenario``, the initial inventory and setups, solves the model
    of :mod:`gauntlet.baselines.lot_sizing_milp` with HiGHS and then plays the plan.

    - ``lower_bound``: HiGHS's final dual bound on the optimal cost (with ``lp_bound``, at least
      the LP relaxation's value). It is a proven lower bound on the episode cost of *every*
      policy on that scenario, also when ``time_limit`` stopped the search early (then it is
      below the optimum; ``optimal`` tells which).
    - ``plan_cost``: the env cost of the plan found (replayed on a copy of the env), which is
      what this agent scores when it plays it; it equals the MILP objective when the plan is
      optimal. ``inf`` if HiGHS found no plan in time; the agent then plays a
      :class:`BaseStockAgent` tuned in the constructor.

    With ``lp_bound`` (default) the LP relaxation is solved first by interior point, so a bound
    exists even when the branch and bound does not finish its root node in time; ``lower_bound``
    is then the larger of the two (and at least 0, since costs are non-negative). The model is
    large (15x5: 7,500 assignment binaries; 25x15: 37,500) and its LP relaxation is weak, so
    with the default ``time_limit=60`` s (LP included) the 100-period instances stop far from
    optimality: the bound is valid but loose (``gap`` reports how loose), and the plan, if any,
    is not optimal. Raise ``time_limit`` for tighter numbers.
    """

    def __init__(
        self,
        env: gym.Env,
        seed: int = 0,
        time_limit: float | None = 60.0,
        mip_rel_gap: float = 1e-4,
        window_cuts: str = "horizon",
        lp_bound: bool = True,
    ) -> None:
        super().__init__(env, seed)
        self.time_limit, self.mip_rel_gap, self.window_cuts = _milp_options(time_limit, mip_rel_gap, window_cuts)
        if not isinstance(lp_bound, bool):
            raise ValueError(f"lp_bound must be a bool, got {lp_bound!r}")
        self.lp_bound = lp_bound
        self._fallback = BaseStockAgent(env, seed)
        self.plan: MILPPlan | None = None
        self._plan_cost = np.inf
        self._scenario: np.ndarray | None = None

    @property
    def lower_bound(self) -> float:
        # Costs are non-negative, so 0 is a bound too (used when HiGHS's bound is still -inf).
        return max(self._require_plan().dual_bound, 0.0)

    @property
    def plan_cost(self) -> float:
        self._require_plan()
        return self._plan_cost

    @property
    def optimal(self) -> bool:
        return self._require_plan().optimal

    @property
    def gap(self) -> float:
        """(plan cost - lower bound) / plan cost; inf without a plan."""
        return (self.plan_cost - self.lower_bound) / max(abs(self.plan_cost), 1e-9)

    def episode_report(self) -> dict[str, float]:
        """Per-episode figures the benchmark runner adds to the episode's metrics: the proven
        lower bound on this scenario's cost, so the leaderboard carries the bound itself."""
        return {"cost_lower_bound": self.lower_bound}

    def _require_plan(self) -> MILPPlan:
        if self.plan is None:
            raise RuntimeError("no plan yet: reset the env and call on_reset(env, obs, info) first")
        return self.plan

    def on_reset(self, env: gym.Env, observation: Any, info: dict) -> None:
        super().on_reset(env, observation, info)
        self._fallback.on_reset(env, observation, info)
        self._solve()

    def _solve(self) -> None:
        env = self.env
        self._scenario = env.demand_scenario
        self.plan = solve_lot_sizing_milp(
            env.instance, env.demand_scenario, env.inventory, env.setup,
            idle_keeps_setup=env.idle_keeps_setup, overflow_cost=_overflow_cost(env),
            window_cuts=self.window_cuts, lp_bound=self.lp_bound, time_limit=self.time_limit,
            mip_rel_gap=self.mip_rel_gap,
        )
        self._plan_cost = np.inf if self.plan.actions is None else self._replay(self.plan.actions)

    def _replay(self, actions: np.ndarray) -> float:
        """Env cost of playing ``actions`` from the current start state, on a private copy. An
        incumbent stopped by the time limit may carry slack (e.g. lost sales it did not need),
        so its MILP objective can exceed what the env charges for the same decisions."""
        env = self.env
        sim = copy.deepcopy(env)
        sim.reset(options={"demand": env.demand_scenario, "inventory": env.inventory, "setup": env.setup})
        return -float(sum(sim.step(a)[1] for a in actions))

    def _act(self, inventory: np.ndarray, setup: np.ndarray, t: int) -> np.ndarray:
        if self._scenario is not self.env.demand_scenario:
            if t != 0:
                raise RuntimeError("the demand scenario changed mid-episode; call on_reset after every reset")
            self._solve()
        if self.plan.actions is None:
            return self._fallback._act(inventory, setup, t)
        return self.plan.actions[t]
