"""Stochastic capacitated multi-item lot-sizing with setup costs, setup losses and lost sales.

Paper: "A Reinforcement Learning Method for Environments with Stochastic Variables: Post-Decision
Proximal Policy Optimization with Dual Critic Networks" (PDPPO, arXiv 2504.05150). The dynamics
and the instance generator follow the authors' public code (github.com/leokan92/pdppo,
``SimplePlant`` and ``cfg_env/generate_setting.py``).

## Description

A plant has ``M`` machines and makes ``I`` items. Every period each machine either idles or makes
one item. Switching a machine to a new item costs a setup and loses a few units of that period's
output. Demand is random, i.i.d. per item and period by default; unmet demand is lost (no
backlog). The goal is to minimise setup + lost-sales + holding cost over ``T`` periods.

Each step splits into a deterministic part (the decision: setups and production, giving the
*post-decision state*) and a stochastic part (demand), which is what PDPPO exploits.

Notation: ``x_t`` inventory (I,) and ``s_t`` machine setups (M,) at the start of period ``t``
(``s = 0`` idle, ``s = k`` set up for item ``k - 1``); action ``a_t`` (M,); ``P = production``,
``C = setup_cost``, ``L = setup_loss`` (all (M, I)); ``X = max_inventory``, ``l = lost_sales_cost``,
``h = holding_cost`` (all (I,)); ``d_t`` (I,) the demand of period ``t``. All quantities are
integers except costs. One ``step`` does, in this exact order:

1. Setup change, per machine ``m``: ``c_m = [a_m != 0 and a_m != s_m]``. Idle (``a_m = 0``)
   never costs anything. Setup cost ``S_t = sum_m c_m * C[m, a_m - 1]``.
2. Production, all-or-nothing: ``q_m = 0`` if ``a_m = 0``; ``q_m = P[m, a_m - 1]`` if ``c_m = 0``;
   ``q_m = max(P[m, a_m - 1] - L[m, a_m - 1], 0)`` if ``c_m = 1`` (the setup loss is subtracted
   from that period's output and never creates negative stock). Several machines may make the
   same item; their outputs add up.
3. New setup: ``s_{t+1, m} = a_m`` if ``a_m != 0``, else ``0`` (the paper: idling loses the setup;
   with ``idle_keeps_setup=True`` it stays ``s_m`` so resuming the same item is free).
4. Post-decision inventory ``y_i = x_i + sum_{m: a_m = i + 1} q_m``. **Not capped**: it may exceed
   ``X_i``, and this period's demand is served from all of it.
5. Demand ``d_t`` is revealed. Lost sales ``u_i = max(d_i - y_i, 0)`` (no backlog).
6. End-of-period inventory ``x_{t+1, i} = min(max(y_i - d_i, 0), X_i)``: clipped at the cap only
   after demand. The excess ``o_i = max(y_i - d_i - X_i, 0)`` is discarded (``overflow="discard"``,
   the paper, free) or discarded and charged ``overflow_cost`` per unit (``overflow="cost"``).
7. Costs: ``lost_sales = sum_i l_i u_i``, ``holding = sum_i h_i x_{t+1, i}`` (on the clipped
   end-of-period stock), ``overflow = overflow_cost * sum_i o_i`` (0 with "discard").

For a MILP model: stock is only ever discarded above the cap, so ``o_i > 0`` implies
``x_{t+1, i} = X_i`` (a free-disposal relaxation would under-estimate holding cost), and
``u_i > 0`` implies ``x_{t+1, i} = 0``.

## Action Space

``MultiDiscrete([I + 1] * M)``: per machine ``0`` = idle, ``k`` in ``1..I`` = make item ``k - 1``.
Actions giving a machine an item it cannot make (``P[m, k - 1] = 0``) are masked:
``action_masks()`` and ``info["action_mask"]`` return the flattened boolean mask of length
``M * (I + 1)`` in sb3-contrib's MultiDiscrete layout (machine 0's ``I + 1`` entries first). The
mask depends only on the instance, never on the state; idle is always allowed. The action space is a
:class:`MaskedMultiDiscrete`, whose ``sample()`` draws only allowed actions. Choosing a masked
action raises :class:`MaskedActionError` (a subclass of both ``gymnasium.error.InvalidAction`` and
``ValueError``) rather than being treated as idle, so a buggy policy is noticed. Wrong shape,
out-of-range, non-integer, NaN or inf actions raise ``ValueError``. Float arrays holding whole
numbers are accepted.

## Observation Space

``Box(0, high, (I + M * (I + 1) + F * I + [observe_time],), float32)``:

* ``[0, I)``: inventory ``x_i / X_i`` in ``[0, 1]``;
* next ``M * (I + 1)``: current setup of each machine, one-hot over ``0..I`` (machine-major);
* next ``F * I`` (``F = forecast_horizon``, default 0): the *expected* demand of periods
  ``t .. t + F - 1`` (period-major), divided by ``X_i``; the realized demand is never observed
  in advance;
* last entry if ``observe_time``: ``t / T``.

``info["post_decision_state"]`` has the same layout with inventory ``y_i / X_i`` (step 4, which
can exceed 1, so it may lie outside ``observation_space``), the new setups, and the forecast and
time of the same period ``t``. :func:`post_decision` computes it from an observation and an action
with the same code the environment uses.

## Rewards

``r_t = -(setup + lost_sales + holding + overflow)`` (a float). ``info["cost"]`` holds the four
components (``overflow`` is 0 with the paper's "discard"), so ``r_t == -sum(info["cost"].values())``.
Other step info: ``demand`` (I,) int64, ``lost_sales_units`` (I,) int64 (``u``), ``setups`` (the
number of machines with ``c_m = 1``), ``post_decision_state``, ``action_mask``.

## Starting State

As in the authors' code: inventory uniform in ``{0, .., X_i - 1}`` and each machine set up for a
uniformly chosen item it can make (idle if it can make none). With ``random_initial_state=False``
the instance's ``initial_inventory`` / ``initial_setup`` are used. The whole demand scenario
``d`` of shape (T, I) is drawn at reset too and exposed read-only as ``env.demand_scenario``.

Each reset makes exactly one draw from ``self.np_random``: ``I + M + T * I`` uniform 32-bit
words ``w`` (always, whatever the options, so the random stream does not depend on them).
Inventory is ``floor(w X_i / 2^32)``, setups pick ``floor(w n_m / 2^32)``-th of the ``n_m``
items machine ``m`` can make, and demand inverts each item's CDF rounded to multiples of
``2^-32`` (``d = #{k : round(2^32 F(k)) <= w}``), i.e. the demand law up to 2^-32 per value. The
native vector env decodes the same words the same way, which keeps it bit-identical to
``SyncVectorEnv``. Reset options: ``{"demand": (T, I) array}`` replays an exogenous scenario
(common random numbers), ``{"inventory": (I,)}`` and ``{"setup": (M,)}`` override the initial
state.

## Episode End

The episode terminates (``terminated=True``, ``truncated=False``) after ``T`` periods: the
problem is finite-horizon and nothing follows, so there is nothing to bootstrap. Time is not in
the observation unless ``observe_time=True``. Stepping a finished episode raises ``RuntimeError``.

## Arguments

* ``n_items``, ``n_machines`` (15, 5): instance size for generated instances.
* ``horizon``: ``T``; default 100, or the instance's ``time_horizon``; when given, it overrides it.
* ``instance``: a :class:`LotSizingInstance`, a dict or a path to a JSON file in the authors'
  layout (``time_horizon``, ``n_items``, ``n_machines``, ``initial_setup``, ``machine_production``,
  ``max_inventory_level``, ``initial_inventory``, ``holding_costs``, ``lost_sales_costs``,
  ``demand_distribution``, ``setup_costs``, ``setup_loss``). It then defines the problem and
  ``n_items``, ``n_machines``, ``instance_seed``, ``max_inventory`` and the demand arguments are
  ignored.
* ``instance_seed`` (0): seed of the instance generator (not of the episodes), so an id always
  means the same instance. Generator (the authors' ranges and their bias towards the minimum):
  ``P`` = 0 w.p. 0.4 else uniform ``1..40`` (every item gets at least one machine);
  ``C`` = 15 w.p. 0.2 else uniform ``16..30``; ``L`` = 1 w.p. 0.7 else uniform ``2..3``;
  ``l`` = 0.1 or 1.1 w.p. 1/2 each; ``h = 0.01``; ``X = max_inventory``.
* ``demand`` ("binomial"): ``"binomial"`` ``Bin(demand_n, demand_p)`` (paper: n=20, p=0.4, mean 8);
  ``"poisson"`` with mean ``demand_n * demand_p``; ``"seasonal"`` ``Bin(demand_n, p_{t,i})`` with
  ``p_{t,i} = demand_p * (1 + seasonal_amplitude * sin(2 pi t / seasonal_period + phi_i))`` and
  item phases ``phi_i`` drawn by the instance generator. Loaded instances may also use the
  authors' ``"discrete_uniform"`` (``low``, exclusive ``high``) and ``"probability_mass_function"``
  (``vals``, ``probs``).
* ``max_inventory`` (100): the cap ``X`` of generated instances.
* ``overflow`` ("discard") and ``overflow_cost`` (1.0): see step 6.
* ``idle_keeps_setup`` (False): see step 3.
* ``random_initial_state`` (True): see Starting State.
* ``forecast_horizon`` (0), ``observe_time`` (False): see Observation Space.
* ``render_mode``: ``None``, ``"ansi"`` (a text summary) or ``"rgb_array"`` (an (600, 900, 3)
  uint8 picture: stock per item against the storage limit with what the period started with,
  made, sold and lost; each machine's setup over the items it can make, setups changed this
  period highlighted; the period's cost split into setup, lost sales, holding and overflow; t/T).
  Rendering reads the state only: trajectories are the same with or without it.

## Vectorized version

:class:`gauntlet.envs.lot_sizing.vector.LotSizingVectorEnv` (the ids' ``vector_entry_point``)
steps many copies in one call of the compiled period this env steps too
(:mod:`gauntlet.envs.lot_sizing.kernels`, numba, compiled on first use and cached) and matches
``SyncVectorEnv`` bit for bit.

## Version History

* v0: initial version. Later, without changing dynamics, spaces or rewards: ``render_mode="rgb_array"``;
  the step moved into numba kernels (trajectories identical to the numpy code's, tested against
  trajectories recorded from it in ``tests/data/trajectories``).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping, Sequence

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.error import InvalidAction

from gauntlet.envs.lot_sizing import kernels
from gauntlet.envs.validation import check, check_choice, check_int, check_range

DEMAND_MODELS = ("binomial", "poisson", "seasonal")
_LOADABLE_DEMAND = (*DEMAND_MODELS, "discrete_uniform", "probability_mass_function")
_OVERFLOW_MODES = ("discard", "cost")


class MaskedActionError(InvalidAction, ValueError):
    """A machine was asked to make an item it cannot produce (a masked action)."""


class MaskedMultiDiscrete(spaces.MultiDiscrete):
    """``MultiDiscrete([I + 1] * M)`` (or a batch of it, shape (..., M)) that knows the static
    action mask: ``sample()`` without a mask draws, per machine, uniformly among its allowed
    values, so ``env.action_space.sample()`` (and tools that use it, such as env checkers) never
    produce a masked action. Everything else is plain ``MultiDiscrete``."""

    def __init__(self, nvec: np.ndarray, allowed: np.ndarray, seed: int | np.random.Generator | None = None) -> None:
        super().__init__(nvec, dtype=np.int64, seed=seed)
        self.allowed = np.array(allowed, dtype=bool)
        if self.allowed.shape != (self.nvec.shape[-1], int(self.nvec.flat[0])):
            raise ValueError(f"allowed must have shape (M, I + 1) = {(self.nvec.shape[-1], int(self.nvec.flat[0]))}, got {self.allowed.shape}")
        self._counts = self.allowed.sum(axis=1)
        self._values = np.zeros(self.allowed.shape, dtype=np.int64)
        for m, row in enumerate(self.allowed):
            self._values[m, : self._counts[m]] = np.flatnonzero(row)

    def sample(self, mask: tuple | None = None, probability: tuple | None = None) -> np.ndarray:
        if mask is not None or probability is not None:
            return super().sample(mask=mask, probability=probability)
        pick = (self.np_random.random(self.nvec.shape) * self._counts).astype(np.int64)
        return self._values[np.arange(self._values.shape[0]), pick]


# --------------------------------------------------------------------------- instance
def _frozen(array: Any, dtype: Any, shape: tuple[int, ...], name: str) -> np.ndarray:
    raw = np.asarray(array)
    if raw.shape != shape:
        raise ValueError(f"instance field {name!r} must have shape {shape}, got {raw.shape}")
    if not np.all(np.isfinite(raw.astype(np.float64))):
        raise ValueError(f"instance field {name!r} contains NaN or inf")
    if np.issubdtype(dtype, np.integer) and not np.array_equal(raw, np.round(raw)):
        raise ValueError(f"instance field {name!r} must hold whole numbers, got {raw.tolist()}")
    out = np.array(raw, dtype=dtype)
    out.setflags(write=False)
    return out


def _lgamma(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.lgamma, otypes=[np.float64])(x)


def _xlogy(x: np.ndarray, y: Any) -> np.ndarray:
    """x * log(y) with 0 * log(0) = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0.0, x * np.log(y))


def _binomial_pmf(n: int, p: np.ndarray) -> np.ndarray:
    """Binomial(n, p) pmf over k = 0..n on a last axis (``p`` may be an array)."""
    k = np.arange(n + 1, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)[..., None]
    log_comb = _lgamma(np.float64(n + 1)) - _lgamma(k + 1.0) - _lgamma(n - k + 1.0)
    return np.exp(log_comb + _xlogy(k, p) + _xlogy(n - k, 1.0 - p))


_BITS = 32
_ONE = 1 << _BITS


def _cdf(pmf: np.ndarray) -> np.ndarray:
    """CDF (last axis) in units of 2^-32 as uint64, the last value exactly 2^32."""
    cdf = np.minimum(np.rint(np.cumsum(pmf, axis=-1) * _ONE), _ONE).astype(np.uint64)
    # Random words are < 2^32, so a last value of 2^32 keeps the inverse inside the support.
    cdf[..., -1] = _ONE
    cdf.setflags(write=False)
    return cdf


class _InverseCDF:
    """Inverse-CDF sampling of a discrete distribution from uniform 32-bit words ``x``: the
    result is ``values[number of CDF values <= x]``, computed through a small (cache-resident)
    table over the 2^12 buckets given by the top 12 bits of ``x``. A bucket holding no CDF value
    gives its answer directly, one holding one needs one comparison of the low 20 bits, and the
    few holding several (far tails) fall back to ``searchsorted``."""

    BUCKET_BITS = 12

    def __init__(self, cdf: np.ndarray, values: np.ndarray) -> None:
        shift = _BITS - self.BUCKET_BITS
        starts = np.arange(1 << self.BUCKET_BITS, dtype=np.uint64) << np.uint64(shift)
        lo = np.searchsorted(cdf, starts, side="right")
        hi = np.searchsorted(cdf, starts + np.uint64(1 << shift), side="left")
        first = cdf[np.minimum(lo, len(cdf) - 1)].astype(np.int64) - starts.astype(np.int64)
        self.shift = shift
        self.low_mask = (1 << shift) - 1
        self.cdf = cdf
        self.values = values
        self.lo = lo.astype(np.int64)
        self.threshold = np.where(hi > lo, first, 1 << shift).astype(np.uint32)
        self.several = hi - lo > 1
        self.identity = bool(np.array_equal(values, np.arange(len(values))))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        bucket = (x >> self.shift).astype(np.intp)
        index = self.lo.take(bucket)
        index += (x & self.low_mask) >= self.threshold.take(bucket)
        rare = self.several.take(bucket)
        if rare.any():
            index[rare] = np.searchsorted(self.cdf, x[rare].astype(np.uint64), side="right")
        return index if self.identity else self.values[index]


@dataclass(frozen=True, eq=False)
class LotSizingInstance:
    """One lot-sizing problem. Item ``i`` is 0-based; setups use ``0`` = idle, ``k`` = item ``k - 1``.

    ``demand_distribution`` follows the authors' layout, e.g. ``{"name": "binomial", "n": 20,
    "p": 0.4}``; ``"seasonal"`` adds ``amplitude``, ``period`` and the per-item ``phase`` list.
    """

    production: np.ndarray
    """(M, I) units machine m makes of item i in one period; 0 = cannot make it."""
    setup_cost: np.ndarray
    """(M, I) cost of setting machine m up for item i."""
    setup_loss: np.ndarray
    """(M, I) units lost from the output of a period in which machine m is set up for item i."""
    lost_sales_cost: np.ndarray
    """(I,) cost per unit of unmet demand."""
    holding_cost: np.ndarray
    """(I,) cost per unit of end-of-period inventory."""
    max_inventory: np.ndarray
    """(I,) inventory cap, applied after demand."""
    initial_inventory: np.ndarray
    """(I,) starting inventory used when the initial state is not random."""
    initial_setup: np.ndarray
    """(M,) starting setups used when the initial state is not random."""
    horizon: int
    demand_distribution: Mapping[str, Any]
    _cache: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        production = np.asarray(self.production)
        if production.ndim != 2 or production.shape[0] < 1 or production.shape[1] < 1:
            raise ValueError(f"instance field 'production' must be a non-empty (M, I) matrix, got shape {production.shape}")
        m, i = production.shape
        fields = {
            "production": (np.int64, (m, i)),
            "setup_cost": (np.float64, (m, i)),
            "setup_loss": (np.int64, (m, i)),
            "lost_sales_cost": (np.float64, (i,)),
            "holding_cost": (np.float64, (i,)),
            "max_inventory": (np.int64, (i,)),
            "initial_inventory": (np.int64, (i,)),
            "initial_setup": (np.int64, (m,)),
        }
        for name, (dtype, shape) in fields.items():
            value = _frozen(getattr(self, name), dtype, shape, name)
            if name != "initial_setup" and np.any(value < 0):
                raise ValueError(f"instance field {name!r} must be >= 0, got {value.tolist()}")
            object.__setattr__(self, name, value)
        if np.any(self.max_inventory < 1):
            raise ValueError(f"instance field 'max_inventory' must be >= 1, got {self.max_inventory.tolist()}")
        if np.any(self.initial_setup < 0) or np.any(self.initial_setup > i):
            raise ValueError(f"instance field 'initial_setup' must be in 0..{i} (0 = idle), got {self.initial_setup.tolist()}")
        if np.any(self.initial_inventory > self.max_inventory):
            raise ValueError("instance field 'initial_inventory' must not exceed 'max_inventory'")
        object.__setattr__(self, "horizon", check_int("instance horizon", self.horizon, 1))
        object.__setattr__(self, "demand_distribution", _check_demand(self.demand_distribution, i))

    @property
    def n_items(self) -> int:
        return int(self.production.shape[1])

    @property
    def n_machines(self) -> int:
        return int(self.production.shape[0])

    # ----------------------------------------------------------------- demand model
    def _seasonal_p(self, periods: int) -> np.ndarray:
        dist = self.demand_distribution
        t = np.arange(periods, dtype=np.float64)[:, None]
        phase = np.asarray(dist["phase"], dtype=np.float64)[None, :]
        return dist["p"] * (1.0 + dist["amplitude"] * np.sin(2.0 * np.pi * t / dist["period"] + phase))

    def expected_demand(self, horizon: int | None = None) -> np.ndarray:
        """Mean demand of periods ``0 .. horizon - 1`` as a float64 (horizon, I) array."""
        periods = self.horizon if horizon is None else int(horizon)
        dist = self.demand_distribution
        name = dist["name"]
        if name == "binomial":
            mean = dist["n"] * dist["p"]
        elif name == "poisson":
            mean = dist["mu"]
        elif name == "seasonal":
            return dist["n"] * self._seasonal_p(periods)
        elif name == "discrete_uniform":
            mean = (dist["low"] + dist["high"] - 1) / 2.0
        else:
            mean = float(np.dot(dist["vals"], dist["probs"]))
        return np.full((periods, self.n_items), float(mean))

    def demand_from_bits(self, x: np.ndarray) -> np.ndarray:
        """Demand (int64, same shape) from uniform random 32-bit words ``x`` (uint32) of shape
        (..., T, I), by inverting each period's and item's CDF quantized to 2^-32: the demand is
        the number of CDF values <= x / 2^32."""
        x = np.asarray(x, dtype=np.uint32)
        if self.demand_distribution["name"] == "seasonal":
            cdf = self._seasonal_cdf(x.shape[-2])
            return np.count_nonzero(x[..., None].astype(np.uint64) >= cdf, axis=-1).astype(np.int64)
        return self._inverse_cdf()(x)

    def sample_demand(self, rng: np.random.Generator, horizon: int | None = None) -> np.ndarray:
        """A demand scenario: an int64 (horizon, I) array from ``rng``."""
        periods = self.horizon if horizon is None else int(horizon)
        return self.demand_from_bits(_random_words(rng, (periods, self.n_items)))

    def _inverse_cdf(self) -> _InverseCDF:
        cached = self._cache.get("inverse_cdf")
        if cached is None:
            dist = self.demand_distribution
            name = dist["name"]
            if name == "binomial":
                values, pmf = np.arange(dist["n"] + 1), _binomial_pmf(dist["n"], np.float64(dist["p"]))
            elif name == "poisson":
                mu = dist["mu"]
                values = np.arange(int(mu + 40.0 * math.sqrt(mu) + 40))
                pmf = np.exp(-mu + _xlogy(values, mu) - _lgamma(values + 1.0))
            elif name == "discrete_uniform":
                values = np.arange(dist["low"], dist["high"])
                pmf = np.full(len(values), 1.0 / len(values))
            else:
                values, pmf = np.asarray(dist["vals"]), np.asarray(dist["probs"])
            cached = self._cache["inverse_cdf"] = _InverseCDF(_cdf(pmf), values.astype(np.int64))
        return cached

    def _seasonal_cdf(self, periods: int) -> np.ndarray:
        key = ("seasonal_cdf", periods)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = _cdf(_binomial_pmf(self.demand_distribution["n"], self._seasonal_p(periods)))
        return cached

    # ------------------------------------------------------------- construction / io
    @classmethod
    def generate(
        cls,
        n_items: int,
        n_machines: int,
        *,
        seed: int = 0,
        horizon: int = 100,
        max_inventory: int = 100,
        demand: str = "binomial",
        demand_n: int = 20,
        demand_p: float = 0.4,
        seasonal_amplitude: float = 0.5,
        seasonal_period: float = 25.0,
    ) -> LotSizingInstance:
        """An instance drawn with the authors' generator (see the module docstring) from ``seed``.

        The draws do not depend on ``demand``, so the binomial, poisson and seasonal variants of
        one seed share the plant and costs."""
        check_int("n_items", n_items, 1)
        check_int("n_machines", n_machines, 1)
        check_int("max_inventory", max_inventory, 1)
        rng = np.random.default_rng(seed)
        shape = (n_machines, n_items)
        production = np.where(rng.random(shape) < 0.4, 0, rng.integers(1, 41, size=shape))
        for item in np.flatnonzero(production.sum(axis=0) == 0):
            production[rng.integers(n_machines), item] = rng.integers(1, 41)
        setup_cost = np.where(rng.random(shape) < 0.2, 15, rng.integers(16, 31, size=shape)).astype(np.float64)
        setup_loss = np.where(rng.random(shape) < 0.7, 1, rng.integers(2, 4, size=shape))
        lost_sales_cost = np.where(rng.random(n_items) < 0.5, 0.1, 1.1)
        initial_inventory = rng.integers(0, max_inventory // 2 + 1, size=n_items)
        initial_setup = _pick_setup(_random_words(rng, n_machines), *_feasible_setups(production > 0))
        phase = rng.uniform(0.0, 2.0 * np.pi, size=n_items)
        return cls(
            production=production,
            setup_cost=setup_cost,
            setup_loss=setup_loss,
            lost_sales_cost=lost_sales_cost,
            holding_cost=np.full(n_items, 0.01),
            max_inventory=np.full(n_items, max_inventory),
            initial_inventory=initial_inventory,
            initial_setup=initial_setup,
            horizon=horizon,
            demand_distribution=_demand_params(demand, demand_n, demand_p, seasonal_amplitude, seasonal_period, phase),
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LotSizingInstance:
        """Build from the authors' settings layout (see the module docstring)."""
        keys = (
            "time_horizon", "n_items", "n_machines", "initial_setup", "machine_production",
            "max_inventory_level", "initial_inventory", "holding_costs", "lost_sales_costs",
            "demand_distribution", "setup_costs", "setup_loss",
        )
        missing = [k for k in keys if k not in data]
        if missing:
            raise ValueError(f"instance dict is missing keys {missing}; expected the PDPPO settings layout with keys {list(keys)}")
        production = np.asarray(data["machine_production"])
        expected = (int(data["n_machines"]), int(data["n_items"]))
        if production.shape != expected:
            raise ValueError(f"instance 'machine_production' has shape {production.shape}, but n_machines x n_items = {expected}")
        return cls(
            production=production,
            setup_cost=data["setup_costs"],
            setup_loss=data["setup_loss"],
            lost_sales_cost=data["lost_sales_costs"],
            holding_cost=data["holding_costs"],
            max_inventory=data["max_inventory_level"],
            initial_inventory=data["initial_inventory"],
            initial_setup=data["initial_setup"],
            horizon=data["time_horizon"],
            demand_distribution=data["demand_distribution"],
        )

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> LotSizingInstance:
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))

    def to_dict(self) -> dict[str, Any]:
        """The authors' settings layout (JSON-serialisable)."""
        dist = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.demand_distribution.items()}
        return {
            "time_horizon": self.horizon,
            "n_items": self.n_items,
            "n_machines": self.n_machines,
            "initial_setup": self.initial_setup.tolist(),
            "machine_production": self.production.tolist(),
            "max_inventory_level": self.max_inventory.tolist(),
            "initial_inventory": self.initial_inventory.tolist(),
            "holding_costs": self.holding_cost.tolist(),
            "lost_sales_costs": self.lost_sales_cost.tolist(),
            "demand_distribution": dist,
            "setup_costs": self.setup_cost.tolist(),
            "setup_loss": self.setup_loss.tolist(),
        }

    def to_json(self, path: str | os.PathLike) -> None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=2)


def _demand_params(
    demand: str, n: int, p: float, amplitude: float, period: float, phase: np.ndarray
) -> dict[str, Any]:
    check_choice("demand", demand, DEMAND_MODELS)
    if demand == "binomial":
        return {"name": "binomial", "n": n, "p": p}
    if demand == "poisson":
        check_int("demand_n", n, 0)
        return {"name": "poisson", "mu": float(n) * float(p)}
    return {"name": "seasonal", "n": n, "p": p, "amplitude": amplitude, "period": period, "phase": phase.tolist()}


def _check_demand(dist: Mapping[str, Any], n_items: int) -> Mapping[str, Any]:
    if not isinstance(dist, Mapping) or "name" not in dist:
        raise ValueError(f"demand_distribution must be a dict with a 'name', got {dist!r}")
    name = check_choice("demand_distribution['name']", dist["name"], _LOADABLE_DEMAND)
    required = {
        "binomial": ("n", "p"),
        "poisson": ("mu",),
        "seasonal": ("n", "p", "amplitude", "period", "phase"),
        "discrete_uniform": ("low", "high"),
        "probability_mass_function": ("vals", "probs"),
    }[name]
    missing = [k for k in required if k not in dist]
    if missing:
        raise ValueError(f"demand_distribution {name!r} needs keys {list(required)}, missing {missing}")
    out: dict[str, Any] = {"name": name}
    if name in ("binomial", "seasonal"):
        out["n"] = check_int("demand_n (binomial n)", dist["n"], 0)
        out["p"] = check_range("demand_p (binomial p)", dist["p"], 0.0, 1.0)
    if name == "seasonal":
        amplitude = check_range("seasonal_amplitude", dist["amplitude"], 0.0)
        check("seasonal_amplitude", amplitude, out["p"] * (1.0 + amplitude) <= 1.0,
              f"[0, 1/p - 1] = [0, {1.0 / out['p'] - 1.0:.4g}], so that the seasonal binomial p stays in [0, 1]")
        period = check_range("seasonal_period", dist["period"], 0.0, open_low=True)
        phase = tuple(float(v) for v in dist["phase"])
        if len(phase) != n_items:
            raise ValueError(f"seasonal phase must have one entry per item ({n_items}), got {len(phase)}")
        out.update(amplitude=amplitude, period=period, phase=phase)
    elif name == "poisson":
        out["mu"] = check_range("poisson mean mu", dist["mu"], 0.0)
    elif name == "discrete_uniform":
        low = check_int("demand_distribution['low']", dist["low"], 0)
        high = check_int("demand_distribution['high']", dist["high"], low + 1)
        out.update(low=low, high=high)
    elif name == "probability_mass_function":
        vals = tuple(check_int("demand_distribution['vals'] entry", v, 0) for v in dist["vals"])
        probs = tuple(float(v) for v in dist["probs"])
        if len(vals) != len(probs) or not vals or min(probs) < 0 or not math.isclose(sum(probs), 1.0):
            raise ValueError(f"probability_mass_function needs equally long 'vals' and 'probs' with probs >= 0 summing to 1, got {dist!r}")
        out.update(vals=vals, probs=probs)
    return out


def _feasible_setups(can_make: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(M, I) table whose row m lists the setups (item + 1) machine m can take, then zeros
    (idle), and the (M,) number of such setups."""
    counts = can_make.sum(axis=1)
    table = np.zeros(can_make.shape, dtype=np.int64)
    for m, row in enumerate(can_make):
        table[m, : counts[m]] = np.flatnonzero(row) + 1
    return table, counts


def _scale_words(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``floor(x n / 2^32)``: uniform 32-bit words to integers uniform on ``0..n - 1`` (exact)."""
    return ((x.astype(np.uint64) * np.asarray(n, dtype=np.uint64)) >> np.uint64(_BITS)).astype(np.int64)


def _pick_setup(x: np.ndarray, table: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per machine the setup of a uniformly chosen item it can make (0 if none) from uniform
    32-bit words ``x`` of shape (..., M)."""
    return table[np.arange(table.shape[0]), _scale_words(x, counts)]


def load_instance(instance: LotSizingInstance | Mapping[str, Any] | str | os.PathLike) -> LotSizingInstance:
    """Accept an instance, a dict in the authors' layout or a path to such a JSON file."""
    if isinstance(instance, LotSizingInstance):
        return instance
    if isinstance(instance, Mapping):
        return LotSizingInstance.from_dict(instance)
    if isinstance(instance, (str, os.PathLike)):
        if not os.path.isfile(instance):
            raise ValueError(f"instance must be a LotSizingInstance, a dict or a path to a JSON file; no file at {os.fspath(instance)!r}")
        return LotSizingInstance.from_json(instance)
    raise ValueError(f"instance must be a LotSizingInstance, a dict or a path to a JSON file, got {type(instance).__name__}")


# ------------------------------------------------------------------ shared dynamics
@dataclass(frozen=True, eq=False)
class _Tables:
    """Lookup tables of the deterministic step, used by :func:`post_decision` (one state or a
    batch) and by the render. The envs step in :mod:`gauntlet.envs.lot_sizing.kernels`, which adds
    in the same order as these tables' ``bincount``, so ``post_decision`` equals the env's
    ``info["post_decision_state"]`` bit for bit.

    A machine's state is its *row* ``base[m] + s * W`` (``W = I + 2``) and entry
    ``k = row + min(a, I + 1)`` describes machine ``m`` in setup ``s`` taking action ``a``. Column
    ``I + 1`` is padding that catches out-of-range actions (actions are viewed as unsigned, so
    negatives are huge and land there too). ``index``/``weight`` (3, entries) hold three (bin,
    weight) pairs per entry for one ``np.bincount``: (item bin ``a``, units made), (bin ``I + 1``,
    setup cost), (bin ``I + 2``, 1 if the setup changes); bin 0 collects idle machines and is dropped.
    ``bincount`` adds in input order, so one env and a batch of envs get bit-identical sums.
    """

    n_items: int
    n_machines: int
    clip: np.ndarray
    """(M,) uint64, I + 1: the padding column."""
    base: np.ndarray
    width: np.ndarray
    valid: np.ndarray
    index: np.ndarray
    weight: np.ndarray
    next_row: np.ndarray
    next_onehot: np.ndarray
    """Observation position of the new setup's one-hot entry."""
    allowed: np.ndarray
    """(M, I + 1) action mask."""
    mask_flat: np.ndarray
    onehot_offset: np.ndarray
    max_inventory: np.ndarray
    feasible: np.ndarray
    feasible_counts: np.ndarray

    @property
    def n_bins(self) -> int:
        return self.n_items + 3

    def row(self, setup: np.ndarray) -> np.ndarray:
        """Rows (uint64) of machines in setups ``setup`` (shape (M,) or (N, M))."""
        return self.base + np.asarray(setup, dtype=np.int64).view(np.uint64) * self.width

    def onehot(self, setup: np.ndarray) -> np.ndarray:
        return self.onehot_offset + setup


def _tables(instance: LotSizingInstance, idle_keeps_setup: bool) -> _Tables:
    key = ("tables", bool(idle_keeps_setup))
    cached = instance._cache.get(key)
    if cached is not None:
        return cached
    n_items, n_machines = instance.n_items, instance.n_machines
    n = n_items + 1
    width = n + 1

    def padded(values: np.ndarray) -> np.ndarray:
        out = np.zeros((n_machines, 1, width), dtype=np.float64)
        out[:, 0, 1:n] = values
        return out

    shape = (n_machines, n, width)
    m = np.arange(n_machines)[:, None, None]
    s = np.arange(n)[None, :, None]
    a = np.arange(width)[None, None, :]
    allowed = np.ones((n_machines, n), dtype=bool)
    allowed[:, 1:] = instance.production > 0
    valid = np.zeros(shape, dtype=bool)
    valid[:, :, :n] = allowed[:, None, :]
    changed = np.broadcast_to((a != s) & (a != 0) & (a < n), shape)
    prod, loss = padded(instance.production), padded(instance.setup_loss)
    qty = np.where(changed, np.maximum(prod - loss, 0.0), prod)
    cost = np.where(changed, padded(instance.setup_cost), 0.0)
    next_setup = np.broadcast_to(np.where((a == 0) | (a == n), s if idle_keeps_setup else 0, a), shape)
    index = np.empty((*shape, 3), dtype=np.int64)
    index[..., 0] = np.where(a < n, a, 0)
    index[..., 1] = n
    index[..., 2] = n + 1
    onehot_offset = n_items + np.arange(n_machines, dtype=np.int64) * n
    feasible, feasible_counts = _feasible_setups(instance.production > 0)
    tables = _Tables(
        n_items=n_items,
        n_machines=n_machines,
        clip=np.full(n_machines, n, dtype=np.uint64),
        base=np.arange(n_machines, dtype=np.uint64) * np.uint64(n * width),
        width=np.full(n_machines, width, dtype=np.uint64),
        valid=valid.ravel(),
        index=np.ascontiguousarray(index.reshape(-1, 3).T),
        weight=np.stack([qty.ravel(), cost.ravel(), changed.astype(np.float64).ravel()]),
        next_row=(m * n * width + next_setup * width).astype(np.uint64).ravel(),
        next_onehot=(onehot_offset[:, None, None] + next_setup).astype(np.int64).ravel(),
        allowed=allowed,
        mask_flat=allowed.ravel().copy(),
        onehot_offset=onehot_offset,
        max_inventory=instance.max_inventory.astype(np.float64),
        feasible=feasible,
        feasible_counts=feasible_counts,
    )
    for name in ("clip", "base", "width", "valid", "index", "weight", "next_row", "next_onehot", "allowed",
                 "mask_flat", "onehot_offset", "max_inventory", "feasible", "feasible_counts"):
        getattr(tables, name).setflags(write=False)
    instance._cache[key] = tables
    return tables


def _as_action(action: Any, shape: tuple[int, ...]) -> np.ndarray:
    """The action as an int64 array of ``shape``; raises on wrong shape, dtype, NaN/inf or fractions.
    Range and mask are checked through :func:`_transition_index`."""
    if type(action) is np.ndarray and action.dtype == np.int64 and action.shape == shape:
        return action
    arr = np.asarray(action)
    if arr.shape != shape:
        raise ValueError(f"action must have shape {shape} (one entry per machine), got shape {arr.shape}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"action contains NaN or inf: {arr.tolist()}")
        if not np.array_equal(arr, np.round(arr)):
            raise ValueError(f"action must hold whole numbers, got {arr.tolist()}")
    elif arr.dtype.kind not in "iu":
        raise ValueError(f"action must be an integer array, got dtype {arr.dtype}")
    return arr.astype(np.int64)


def _transition_index(tables: _Tables, row: np.ndarray, action: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Table entries ``k`` (int64, shape of ``action``) and whether each machine's action is allowed."""
    k = (row + np.minimum(action.view(np.uint64), tables.clip)).view(np.int64)
    return k, tables.valid.take(k)


def _raise_invalid(action: np.ndarray, tables: _Tables) -> None:
    n_items = tables.n_items
    bad_range = (action < 0) | (action > n_items)
    if bad_range.any():
        where = tuple(int(v) for v in np.argwhere(bad_range)[0])
        raise ValueError(
            f"action value {int(action[where])} at index {where} is out of range: each machine takes 0 (idle) "
            f"or k in 1..{n_items} (make item k-1)"
        )
    masked = ~tables.allowed[np.arange(tables.n_machines), action]
    where = tuple(int(v) for v in np.argwhere(masked)[0])
    k = int(action[where])
    raise MaskedActionError(
        f"masked action: machine {where[-1]} cannot make item {k - 1} (production 0), so action value {k} "
        f"at index {where} is not allowed; see action_masks()"
    )


def _deterministic_step(
    tables: _Tables, inventory: np.ndarray, k: np.ndarray, row_offsets: np.ndarray | None = None
) -> tuple[np.ndarray, Any, Any]:
    """Steps 1-2 and 4 of the dynamics from the entries ``k`` of :func:`_transition_index`, for one
    state (1-D) or a batch (``row_offsets = arange(N)[:, None] * n_bins``); the new setups (step 3)
    are ``next_row`` / ``next_onehot`` at ``k``.

    Returns the post-decision inventory (float64), the setup cost and the number of setup
    changes (floats for one state, (N,) arrays for a batch)."""
    n = tables.n_items + 1
    weight = tables.weight.take(k, axis=1).ravel()
    index = tables.index.take(k, axis=1)
    if row_offsets is None:
        sums = np.bincount(index.ravel(), weight, minlength=tables.n_bins)
        return inventory + sums[1:n], sums[n], sums[n + 1]
    rows = k.shape[0]
    bins = tables.n_bins
    sums = np.bincount((index + row_offsets).ravel(), weight, minlength=rows * bins).reshape(rows, bins)
    return inventory + sums[:, 1:n], sums[:, n], sums[:, n + 1]


def _encode_prefix(out: np.ndarray, inventory: np.ndarray, onehot: np.ndarray, tables: _Tables) -> None:
    """Write inventory and one-hot setups (positions ``onehot``) into observations ``out`` (one or
    a batch) whose setup part is zero."""
    out[..., : tables.n_items] = inventory / tables.max_inventory
    if out.ndim == 1:
        out[onehot] = 1.0
    else:
        out[np.arange(out.shape[0])[:, None], onehot] = 1.0


def post_decision(
    state: np.ndarray, action: Any, instance: LotSizingInstance, *, idle_keeps_setup: bool = False
) -> np.ndarray:
    """The post-decision state reached from an observation ``state`` by ``action``.

    ``state`` is one observation (or a batch, leading axis) of an env built on ``instance``; only
    its inventory and setup part is decoded (the forecast / time tail is copied unchanged, since
    the post-decision state belongs to the same period). ``action`` has shape ``(M,)`` (or
    ``(N, M)``). ``idle_keeps_setup`` must match the env's. The result equals the env's
    ``info["post_decision_state"]`` for that step; the env computes it with the same functions.
    Costs of the deterministic part are in ``info["cost"]["setup"]``.
    """
    tables = _tables(instance, idle_keeps_setup)
    state = np.asarray(state, dtype=np.float32)
    n_items, n_machines = tables.n_items, tables.n_machines
    prefix = n_items + n_machines * (n_items + 1)
    if state.ndim not in (1, 2) or state.shape[-1] < prefix:
        raise ValueError(
            f"state must be an observation of shape (D,) or (N, D) with D >= {prefix} for this instance, got {state.shape}"
        )
    batch = state.shape[:-1]
    onehot = state[..., n_items:prefix].reshape(*batch, n_machines, n_items + 1)
    if not (np.all((onehot == 0) | (onehot == 1)) and np.all(onehot.sum(axis=-1) == 1)):
        raise ValueError("state's setup part is not one-hot per machine; is it an observation of this instance?")
    inventory = np.rint(state[..., :n_items].astype(np.float64) * tables.max_inventory)
    if np.any(inventory < 0):
        raise ValueError("state has negative inventory")
    act = _as_action(action, (*batch, n_machines))
    k, ok = _transition_index(tables, tables.row(onehot.argmax(axis=-1)), act)
    if not ok.all():
        _raise_invalid(act, tables)
    offsets = None if not batch else np.arange(batch[0], dtype=np.int64)[:, None] * tables.n_bins
    post_inventory, _, _ = _deterministic_step(tables, inventory, k, offsets)
    out = state.copy()
    out[..., n_items:prefix] = 0.0
    _encode_prefix(out, post_inventory, tables.next_onehot.take(k), tables)
    return out


def _observation_templates(
    instance: LotSizingInstance, horizon: int, forecast_horizon: int, observe_time: bool
) -> tuple[np.ndarray, np.ndarray]:
    """(T + 1, D) float32 observations that are zero except for the forecast / time tail of
    period t, and the observation upper bounds."""
    n_items, n_machines = instance.n_items, instance.n_machines
    prefix = n_items + n_machines * (n_items + 1)
    dim = prefix + forecast_horizon * n_items + int(observe_time)
    templates = np.zeros((horizon + 1, dim), dtype=np.float32)
    high = np.ones(dim, dtype=np.float32)
    if forecast_horizon:
        mean = instance.expected_demand(horizon + forecast_horizon) / instance.max_inventory
        windows = np.stack([mean[t : t + forecast_horizon].ravel() for t in range(horizon + 1)])
        templates[:, prefix : prefix + forecast_horizon * n_items] = windows
        high[prefix : prefix + forecast_horizon * n_items] = max(float(windows.max()), 1.0)
    if observe_time:
        templates[:, -1] = np.arange(horizon + 1) / horizon
    templates.setflags(write=False)
    return templates, high


def _parse_reset_options(
    options: Mapping[str, Any] | None, instance: LotSizingInstance, horizon: int, batch: int | None = None
) -> dict[str, np.ndarray]:
    """Validated ``demand`` / ``inventory`` / ``setup`` overrides; with ``batch`` a leading axis of
    that size is allowed (one value per sub-env)."""
    if not options:
        return {}
    unknown = set(options) - {"demand", "inventory", "setup"}
    if unknown:
        raise ValueError(f"unknown reset options {sorted(unknown)}; allowed: 'demand', 'inventory', 'setup'")
    shapes = {"demand": (horizon, instance.n_items), "inventory": (instance.n_items,), "setup": (instance.n_machines,)}
    out = {}
    for key, value in options.items():
        arr = np.asarray(value)
        shape = shapes[key]
        if arr.shape != shape and not (batch is not None and arr.shape == (batch, *shape)):
            extra = f" or {(batch, *shape)}" if batch is not None else ""
            raise ValueError(f"reset option {key!r} must have shape {shape}{extra}, got {arr.shape}")
        whole_floats = arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.array_equal(arr, np.round(arr))
        if arr.dtype.kind not in "iu" and not whole_floats:
            raise ValueError(f"reset option {key!r} must hold integers, got dtype {arr.dtype}")
        arr = arr.astype(np.int64)
        if np.any(arr < 0):
            raise ValueError(f"reset option {key!r} must be non-negative, got min {int(arr.min())}")
        if key == "inventory" and np.any(arr > instance.max_inventory):
            raise ValueError(f"reset option 'inventory' exceeds max_inventory {instance.max_inventory.tolist()}")
        if key == "setup" and np.any(arr > instance.n_items):
            raise ValueError(f"reset option 'setup' must be in 0..{instance.n_items} (0 = idle)")
        arr.setflags(write=False)
        out[key] = arr
    return out


def _random_words(rng: np.random.Generator, size: Any) -> np.ndarray:
    return rng.integers(0, _ONE, size=size, dtype=np.uint32)


def _reset_uniforms(rng: np.random.Generator, instance: LotSizingInstance, horizon: int) -> np.ndarray:
    """The one draw a reset makes: I + M + T * I uniform 32-bit words (inventory, setups, demand)."""
    return _random_words(rng, instance.n_items * (horizon + 1) + instance.n_machines)


def _initial_state(
    u: np.ndarray, instance: LotSizingInstance, tables: _Tables, horizon: int, random_initial_state: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(inventory, setup, demand scenario) from the words ``u`` of :func:`_reset_uniforms` (one
    reset, or a batch with a leading axis). Inventory is ``floor(u X / 2^32)``, uniform on
    ``0..X - 1``; each setup is a uniformly chosen item the machine can make."""
    n_items, n_machines = instance.n_items, instance.n_machines
    demand = instance.demand_from_bits(u[..., n_items + n_machines :].reshape(*u.shape[:-1], horizon, n_items))
    if not random_initial_state:
        shape = u.shape[:-1]
        inventory = np.broadcast_to(instance.initial_inventory, (*shape, n_items)).copy()
        return inventory, np.broadcast_to(instance.initial_setup, (*shape, n_machines)).copy(), demand
    inventory = _scale_words(u[..., :n_items], instance.max_inventory)
    setup = _pick_setup(u[..., n_items : n_items + n_machines], tables.feasible, tables.feasible_counts)
    return inventory, setup, demand


def _render_text(t: int, horizon: int, inventory: np.ndarray, setup: np.ndarray, cost: Mapping[str, float] | None) -> str:
    items = " ".join(f"{int(v):3d}" for v in inventory)
    machines = " ".join("  -" if s == 0 else f"{int(s) - 1:3d}" for s in setup)
    lines = [f"t={t}/{horizon}", f"  inventory : {items}", f"  setup item: {machines}"]
    if cost is not None:
        lines.append("  cost      : " + ", ".join(f"{k}={v:.2f}" for k, v in cost.items()))
    return "\n".join(lines) + "\n"


class LotSizingEnv(gym.Env):
    """Stochastic capacitated multi-item lot-sizing (PDPPO). See the module docstring."""

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(
        self,
        n_items: int = 15,
        n_machines: int = 5,
        horizon: int | None = None,
        instance: LotSizingInstance | Mapping[str, Any] | str | os.PathLike | None = None,
        instance_seed: int = 0,
        demand: str = "binomial",
        demand_n: int = 20,
        demand_p: float = 0.4,
        seasonal_amplitude: float = 0.5,
        seasonal_period: float = 25.0,
        max_inventory: int = 100,
        overflow: str = "discard",
        overflow_cost: float = 1.0,
        idle_keeps_setup: bool = False,
        random_initial_state: bool = True,
        forecast_horizon: int = 0,
        observe_time: bool = False,
        render_mode: str | None = None,
    ) -> None:
        self.instance = _build_instance(
            n_items, n_machines, horizon, instance, instance_seed, demand, demand_n, demand_p,
            seasonal_amplitude, seasonal_period, max_inventory,
        )
        self.overflow, self.overflow_cost = _check_overflow(overflow, overflow_cost)
        self.idle_keeps_setup = bool(idle_keeps_setup)
        self.random_initial_state = bool(random_initial_state)
        self.forecast_horizon = check_int("forecast_horizon", forecast_horizon, 0)
        self.observe_time = bool(observe_time)
        self.render_mode = check_choice("render_mode", render_mode, (None, *self.metadata["render_modes"]))

        inst = self.instance
        self.horizon = inst.horizon
        self._tables = _tables(inst, self.idle_keeps_setup)
        self._templates, high = _observation_templates(inst, self.horizon, self.forecast_horizon, self.observe_time)
        self._prefix = inst.n_items + inst.n_machines * (inst.n_items + 1)
        self._overflow_cost = self.overflow_cost if self.overflow == "cost" else None
        self._action_shape = (inst.n_machines,)
        self.action_space = MaskedMultiDiscrete(np.full(inst.n_machines, inst.n_items + 1), self._tables.allowed)
        self.observation_space = spaces.Box(0.0, high, dtype=np.float32)
        self._statics = _statics(self)
        self._layout = kernels.state_layout(inst.n_items, inst.n_machines, self.horizon)

        self.t = 0
        self._state = np.zeros(self._layout["size"])
        self._scenario = np.zeros((self.horizon, inst.n_items), dtype=np.int64)
        self._scenario.setflags(write=False)
        self._last_cost: dict[str, float] | None = None
        self._pool_row = _POOL_ROWS

    # ------------------------------------------------------------------ public state
    @property
    def inventory(self) -> np.ndarray:
        """Current inventory (I,) int64."""
        return self._state[self._layout["inventory"]].astype(np.int64)

    @property
    def setup(self) -> np.ndarray:
        """Current setups (M,) int64: 0 idle, k = item k - 1."""
        return self._state[self._layout["setup"]].astype(np.int64)

    @property
    def demand_scenario(self) -> np.ndarray:
        """The episode's demand (T, I) int64, read-only."""
        return self._scenario

    def expected_demand(self) -> np.ndarray:
        """Mean demand (T, I) float64 of this episode's periods."""
        return self.instance.expected_demand(self.horizon)

    def action_masks(self) -> np.ndarray:
        """Flattened (M * (I + 1),) bool mask, sb3-contrib's MultiDiscrete layout."""
        return self._tables.mask_flat.copy()

    def post_decision(self, state: np.ndarray, action: Any) -> np.ndarray:
        """:func:`post_decision` with this env's instance and idle rule."""
        return post_decision(state, action, self.instance, idle_keeps_setup=self.idle_keeps_setup)

    # --------------------------------------------------------------------- gym api
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        overrides = _parse_reset_options(options, self.instance, self.horizon)
        u = _reset_uniforms(self.np_random, self.instance, self.horizon)
        inventory, setup, scenario = _initial_state(u, self.instance, self._tables, self.horizon, self.random_initial_state)
        inventory = overrides.get("inventory", inventory)
        setup = overrides.get("setup", setup)
        scenario = overrides.get("demand", scenario)
        scenario.setflags(write=False)
        self._scenario = scenario
        _write_state(self._state, self._layout, inventory, setup, scenario)
        self.t = 0
        self._last_cost = None
        obs = self._templates[0].copy()
        _encode_prefix(obs, inventory.astype(np.float64), self._tables.onehot(setup), self._tables)
        return obs, {"action_mask": self._tables.mask_flat.copy()}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        t = self.t
        if t >= self.horizon:
            raise RuntimeError(f"the episode ended after {self.horizon} periods; call reset()")
        if type(action) is not np.ndarray or action.dtype != np.int64 or action.shape != self._action_shape:
            action = _as_action(action, self._action_shape)
        row = self._pool_row
        if row == _POOL_ROWS:
            self._new_pools()
            row = 0
        bad, setup_cost, lost_cost, holding, overflow, setups, reward = kernels.step_one(
            action, self._state, self._statics, self._obs_pool, self._int_pool, row)
        if bad >= 0:
            _raise_invalid(action, self._tables)
        self._pool_row = row + 1
        self.t = t + 1
        obs, pds = self._obs_pool[row]
        cost = {"setup": setup_cost, "lost_sales": lost_cost, "holding": holding, "overflow": overflow}
        self._last_cost = cost
        info = {
            "cost": cost,
            "demand": self._scenario[t],
            "lost_sales_units": self._int_pool[row, : self._tables.n_items],
            "setups": setups,
            "post_decision_state": pds,
            "action_mask": self._mask_pool[row],
        }
        return obs, reward, t + 1 == self.horizon, False, info

    def _new_pools(self) -> None:
        """Fresh output arrays for the next ``_POOL_ROWS`` steps: each step hands out its own rows,
        so returned arrays are never overwritten, for the price of one allocation per pool."""
        n_items = self._tables.n_items
        self._obs_pool = np.empty((_POOL_ROWS, 2, self._templates.shape[1]), dtype=np.float32)
        self._int_pool = np.empty((_POOL_ROWS, 2 * n_items), dtype=np.int64)
        self._mask_pool = np.broadcast_to(self._tables.mask_flat, (_POOL_ROWS, self._tables.mask_flat.size)).copy()

    def render(self) -> str | np.ndarray | None:
        """``"ansi"``: a text summary; ``"rgb_array"``: the picture of
        :mod:`gauntlet.envs.lot_sizing.render` (stock per item against the storage limit, machine
        setups with the ones changed this period, the period's cost split, t/T)."""
        if self.render_mode == "ansi":
            return _render_text(self.t, self.horizon, self.inventory, self.setup, self._last_cost)
        if self.render_mode == "rgb_array":
            from gauntlet.envs.lot_sizing import render

            inventory = self._state[self._layout["inventory"]]
            return render.draw(self.instance, self.t, self.horizon, inventory, self.setup, self._last_period())
        return None

    def _last_period(self) -> Any:
        """The period just played as a :class:`gauntlet.envs.lot_sizing.render.Period` (None after reset)."""
        if self._last_cost is None:
            return None
        return _period_of_state(self._tables, self._layout, self._state, self._last_cost)


_POOL_ROWS = 64


def _statics(env: Any) -> np.ndarray:
    """The instance vector of :mod:`gauntlet.envs.lot_sizing.kernels` for a (single or vector) env."""
    inst = env.instance
    return kernels.pack_statics(inst.production, inst.setup_loss, inst.setup_cost, env._tables.allowed,
                                inst.max_inventory, inst.lost_sales_cost, inst.holding_cost, env._templates,
                                env._overflow_cost, env.idle_keeps_setup, env._prefix)


def _write_state(state: np.ndarray, layout: dict[str, Any], inventory: np.ndarray, setup: np.ndarray,
                 scenario: np.ndarray) -> None:
    """A fresh episode in state rows ``state`` (one row, or a batch with a leading axis)."""
    state[..., layout["inventory"]] = inventory
    state[..., layout["setup"]] = setup
    state[..., layout["t"]] = 0
    state[..., layout["demand"]] = scenario.reshape(*scenario.shape[:-2], -1)


def _period_of_state(tables: _Tables, layout: dict[str, Any], state: np.ndarray, cost: Mapping[str, float]) -> Any:
    """The period one state row just played, as a :class:`gauntlet.envs.lot_sizing.render.Period`."""
    from gauntlet.envs.lot_sizing.render import period_from_transition

    prev = state[layout["prev_setup"]].astype(np.int64)
    action = state[layout["action"]].astype(np.int64)
    k, _ = _transition_index(tables, tables.row(prev), action)
    t = int(state[layout["t"]])
    demand = state[layout["demand"]].reshape(-1, tables.n_items)[t - 1]
    return period_from_transition(tables, k, state[layout["start_inventory"]], demand, cost)


def _check_overflow(overflow: str, overflow_cost: float) -> tuple[str, float]:
    return check_choice("overflow", overflow, _OVERFLOW_MODES), check_range("overflow_cost", overflow_cost, 0.0)


def _build_instance(
    n_items: int,
    n_machines: int,
    horizon: int | None,
    instance: Any,
    instance_seed: int,
    demand: str,
    demand_n: int,
    demand_p: float,
    seasonal_amplitude: float,
    seasonal_period: float,
    max_inventory: int,
) -> LotSizingInstance:
    if horizon is not None:
        check_int("horizon", horizon, 1)
    if instance is not None:
        inst = load_instance(instance)
        return inst if horizon is None or horizon == inst.horizon else replace(inst, horizon=horizon)
    check_int("n_items", n_items, 1)
    check_int("n_machines", n_machines, 1)
    check_int("instance_seed", instance_seed, 0)
    check_int("max_inventory", max_inventory, 1)
    check_choice("demand", demand, DEMAND_MODELS)
    check_int("demand_n", demand_n, 0)
    check_range("demand_p", demand_p, 0.0, 1.0)
    return LotSizingInstance.generate(
        n_items,
        n_machines,
        seed=instance_seed,
        horizon=100 if horizon is None else horizon,
        max_inventory=max_inventory,
        demand=demand,
        demand_n=demand_n,
        demand_p=demand_p,
        seasonal_amplitude=seasonal_amplitude,
        seasonal_period=seasonal_period,
    )


def episode_metrics(rewards: Iterable[float], infos: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Episode cost (= -return), fill rate (1 - lost units / demanded units; 1 if nothing was
    demanded) and setup changes per period, from the step infos of one episode."""
    total_demand = 0.0
    total_lost = 0.0
    total_setups = 0.0
    periods = 0
    for info in infos:
        if "demand" not in info:
            continue
        total_demand += float(np.sum(info["demand"]))
        total_lost += float(np.sum(info["lost_sales_units"]))
        total_setups += float(info["setups"])
        periods += 1
    return {
        "cost": -float(np.sum(np.asarray(rewards, dtype=np.float64))),
        "fill_rate": 1.0 - total_lost / total_demand if total_demand > 0 else 1.0,
        "setups_per_period": total_setups / periods if periods else 0.0,
    }
