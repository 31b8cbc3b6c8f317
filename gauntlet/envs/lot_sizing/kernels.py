"""Numba kernels of the lot-sizing step: one compiled period (steps 1-7 of
:mod:`gauntlet.envs.lot_sizing.env`, the observation and the post-decision state) shared by the
single env (:func:`step_one`) and the native vector env (:func:`step_rows`), which both run
:func:`_step`, so they agree bit for bit by construction.

Compiled with ``numba.njit(cache=True)``: the first call on a machine compiles (a few seconds)
and stores the machine code next to this file (or under ``NUMBA_CACHE_DIR``); later processes
load it.

Bit-for-bit contract with v0 (whose numpy code summed with ``np.bincount``): every cost sum
starts at 0.0 and adds machines (setup cost) or items (lost-sales and holding cost) in index
order, as ``bincount`` does; inventories and units are whole numbers, so their sums are exact in
any order. No fast-math, no transcendental function.

Layout. A copy's state is one float64 row (``state_layout``): inventory (I), the inventory at
the start of the last period (I), setups (M), the setups before the last step (M), the last
action (M), the period ``t``, and the episode's demand (T * I, period-major). Whole numbers are
exact in float64. The instance is one float64 vector (``statics``): a header
``[I, M, T, D, overflow_cost (NaN = free "discard"), idle_keeps_setup, prefix]``, then production,
setup loss and setup cost (M * I each, machine-major), the mask (M * (I + 1), 1 = allowed), the
caps ``X``, lost-sales and holding costs (I each) and the observation templates ((T + 1) * D
float32 values widened to float64, so reading them back as float32 is exact).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

HEADER = 7


def state_layout(n_items: int, n_machines: int, horizon: int) -> dict[str, slice | int]:
    """Where each part of a copy's state row lives (see the module docstring)."""
    i, m = n_items, n_machines
    return {
        "inventory": slice(0, i), "start_inventory": slice(i, 2 * i), "setup": slice(2 * i, 2 * i + m),
        "prev_setup": slice(2 * i + m, 2 * i + 2 * m), "action": slice(2 * i + 2 * m, 2 * i + 3 * m),
        "t": 2 * i + 3 * m, "demand": slice(2 * i + 3 * m + 1, 2 * i + 3 * m + 1 + horizon * i),
        "size": 2 * i + 3 * m + 1 + horizon * i,
    }


def pack_statics(production: np.ndarray, setup_loss: np.ndarray, setup_cost: np.ndarray, allowed: np.ndarray,
                 max_inventory: np.ndarray, lost_sales_cost: np.ndarray, holding_cost: np.ndarray,
                 templates: np.ndarray, overflow_cost: float | None, idle_keeps_setup: bool, prefix: int) -> np.ndarray:
    """The instance vector the kernels read (see the module docstring)."""
    n_machines, n_items = production.shape
    header = [n_items, n_machines, templates.shape[0] - 1, templates.shape[1],
              np.nan if overflow_cost is None else overflow_cost, float(idle_keeps_setup), prefix]
    parts = [np.asarray(header, dtype=np.float64)]
    parts += [np.asarray(a, dtype=np.float64).ravel() for a in (production, setup_loss, setup_cost, allowed,
                                                                 max_inventory, lost_sales_cost, holding_cost, templates)]
    out = np.concatenate(parts)
    out.setflags(write=False)
    return out


@njit(cache=True)
def _first_invalid(action: np.ndarray, statics: np.ndarray) -> int:
    """Index of the first machine whose action is out of 0..I or masked, -1 if none."""
    n_items, n_machines = int(statics[0]), int(statics[1])
    allowed = HEADER + 3 * n_machines * n_items
    for m in range(n_machines):
        a = action[m]
        if a < 0 or a > n_items or statics[allowed + m * (n_items + 1) + a] == 0.0:
            return m
    return -1


@njit(cache=True)
def _step(action: np.ndarray, state: np.ndarray, statics: np.ndarray, obs: np.ndarray, pds: np.ndarray,
          lost_units: np.ndarray, demand_out: np.ndarray, out: np.ndarray) -> None:
    """One period of one copy (the action already checked). Writes the next observation, the
    post-decision state, the lost units, the demand and ``out = [setup cost, lost-sales cost,
    holding cost, overflow cost, setups, reward]``, and advances the state row."""
    n_items, n_machines, dim = int(statics[0]), int(statics[1]), int(statics[3])
    overflow_cost, idle_keeps, prefix = statics[4], statics[5] != 0.0, int(statics[6])
    mi = n_machines * n_items
    production, loss, setup_price = HEADER, HEADER + mi, HEADER + 2 * mi
    cap = HEADER + 3 * mi + n_machines * (n_items + 1)
    lost_price, holding_price, templates = cap + n_items, cap + 2 * n_items, cap + 3 * n_items
    setup, prev, last = 2 * n_items, 2 * n_items + n_machines, 2 * n_items + 2 * n_machines
    t = int(state[2 * n_items + 3 * n_machines])
    demand = 2 * n_items + 3 * n_machines + 1 + t * n_items

    # Steps 1-4: setups, production, new setups. The units made are added to the inventory in
    # machine order; they and the stock are whole numbers, so the post-decision inventory is exact.
    for i in range(n_items):
        state[n_items + i] = state[i]
    setup_cost = 0.0
    setups = 0
    for m in range(n_machines):
        a = action[m]
        s = int(state[setup + m])
        state[prev + m] = s
        state[last + m] = a
        if a == 0:
            state[setup + m] = s if idle_keeps else 0
            continue
        entry = m * n_items + a - 1
        units = statics[production + entry]
        cost = 0.0
        if a != s:
            units = max(units - statics[loss + entry], 0.0)
            cost = statics[setup_price + entry]
            setups += 1
        state[a - 1] += units
        setup_cost += cost
        state[setup + m] = a

    # Steps 5-7: demand, lost sales, capped end-of-period stock, costs.
    lost_cost = 0.0
    holding = 0.0
    overflow_units = 0.0
    for i in range(n_items):
        post = state[i]
        d = state[demand + i]
        net = post - d
        kept = max(net, 0.0)
        lost = kept - net
        end = min(kept, statics[cap + i])
        lost_cost += lost * statics[lost_price + i]
        holding += end * statics[holding_price + i]
        overflow_units += kept - end
        state[i] = end
        lost_units[i] = int(lost)
        demand_out[i] = int(d)
        pds[i] = post / statics[cap + i]
        obs[i] = end / statics[cap + i]
    overflow = 0.0 if np.isnan(overflow_cost) else overflow_units * overflow_cost
    state[2 * n_items + 3 * n_machines] = t + 1

    # Observation of t + 1 and post-decision state of t: zero setup part with the new one-hots,
    # forecast / time tails from the templates. The fills run over slices indexed from 0: numba
    # cannot prove an index computed from ``statics`` non-negative, and the negative-index
    # wraparound it then adds to every store keeps LLVM from vectorizing the loop (3x slower
    # on 25x15, whose setup part is 390 entries).
    obs_setup, pds_setup = obs[n_items:prefix], pds[n_items:prefix]
    for j in range(obs_setup.shape[0]):
        obs_setup[j] = 0.0
    for j in range(pds_setup.shape[0]):
        pds_setup[j] = 0.0
    for m in range(n_machines):
        j = m * (n_items + 1) + int(state[setup + m])
        obs_setup[j] = 1.0
        pds_setup[j] = 1.0
    row_next = templates + (t + 1) * dim
    row_now = templates + t * dim
    obs_tail, pds_tail = obs[prefix:dim], pds[prefix:dim]
    next_tail, now_tail = statics[row_next + prefix:row_next + dim], statics[row_now + prefix:row_now + dim]
    for j in range(obs_tail.shape[0]):
        obs_tail[j] = next_tail[j]
    for j in range(pds_tail.shape[0]):
        pds_tail[j] = now_tail[j]
    out[0] = setup_cost
    out[1] = lost_cost
    out[2] = holding
    out[3] = overflow
    out[4] = setups
    out[5] = -(((setup_cost + lost_cost) + holding) + overflow)


def reset_tables(env: Any) -> tuple[np.ndarray, ...]:
    """What :func:`reset_rows` needs from a (single or vector) env: the caps and the feasible
    setups of ``_initial_state``, the fixed start (``random_initial_state=False``, else empty),
    and the demand model of ``demand_from_bits`` (its quantized CDFs, one row per period and item
    for ``"seasonal"`` (then no bucket table), else one row with the values and the bucket table
    of its inverse-CDF sampler, whose shift is the last entry of ``lo``)."""
    inst, tables = env.instance, env._tables
    fixed = np.zeros((2, 0), dtype=np.int64)
    if not env.random_initial_state:
        fixed = np.zeros((2, max(inst.n_items, inst.n_machines)), dtype=np.int64)
        fixed[0, : inst.n_items], fixed[1, : inst.n_machines] = inst.initial_inventory, inst.initial_setup
    if inst.demand_distribution["name"] == "seasonal":
        cdf = inst._seasonal_cdf(env.horizon)
        cdf = cdf.reshape(-1, cdf.shape[-1])
        return (tables.max_inventory.astype(np.uint64), tables.feasible, tables.feasible_counts.astype(np.uint64),
                fixed, cdf, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint32),
                np.zeros(0, dtype=np.bool_))
    sampler = inst._inverse_cdf()
    return (tables.max_inventory.astype(np.uint64), tables.feasible, tables.feasible_counts.astype(np.uint64), fixed,
            sampler.cdf[None, :], sampler.values, np.append(sampler.lo, sampler.shift), sampler.threshold,
            sampler.several)


@njit(cache=True)
def _at_most(cdf: np.ndarray, word: np.uint64) -> int:
    """How many entries of ``cdf`` are <= ``word`` (``np.count_nonzero(word >= cdf)``)."""
    count = 0
    for v in cdf:
        if word >= v:
            count += 1
    return count


@njit(cache=True)
def reset_rows(words: np.ndarray, rows: np.ndarray, state: np.ndarray, statics: np.ndarray,
               tables: tuple) -> None:
    """Fresh episodes in state rows ``rows`` from each row's reset words (``_reset_uniforms``):
    inventory, setups, ``t = 0`` and the demand scenario, as ``_initial_state`` and
    ``_write_state`` compute them (integer arithmetic, so identical)."""
    cap, feasible, counts, fixed, cdf, values, lo, threshold, several = tables
    n_items, n_machines = int(statics[0]), int(statics[1])
    periods = int(statics[2])
    setup, t_at, demand = 2 * n_items, 2 * n_items + 3 * n_machines, 2 * n_items + 3 * n_machines + 1
    seasonal = lo.shape[0] == 0
    shift = np.uint64(lo[lo.shape[0] - 1]) if not seasonal else np.uint64(0)
    low_mask = (np.uint64(1) << shift) - np.uint64(1)
    for r in range(rows.shape[0]):
        x = words[r]
        row = state[rows[r]]
        for i in range(n_items):
            row[i] = fixed[0, i] if fixed.shape[1] else float((np.uint64(x[i]) * cap[i]) >> np.uint64(32))
        for m in range(n_machines):
            if fixed.shape[1]:
                row[setup + m] = fixed[1, m]
            else:
                row[setup + m] = feasible[m, (np.uint64(x[n_items + m]) * counts[m]) >> np.uint64(32)]
        row[t_at] = 0.0
        scenario = row[demand:demand + periods * n_items]
        draws = x[n_items + n_machines:]
        for k in range(scenario.shape[0]):
            word = np.uint64(draws[k])
            if seasonal:
                scenario[k] = _at_most(cdf[k], word)
                continue
            bucket = word >> shift
            index = lo[bucket] + (1 if (word & low_mask) >= threshold[bucket] else 0)
            if several[bucket]:
                index = _at_most(cdf[0], word)
            scenario[k] = values[index]


@njit(cache=True)
def step_one(action: np.ndarray, state: np.ndarray, statics: np.ndarray, obs_pool: np.ndarray,
             int_pool: np.ndarray, row: int) -> tuple[int, float, float, float, float, int, float]:
    """The single env's step: ``obs_pool[row] = (observation, post-decision state)``,
    ``int_pool[row] = (lost units, demand)``. Returns ``(first invalid machine or -1, setup cost,
    lost-sales cost, holding cost, overflow cost, setups, reward)``; an invalid action changes
    nothing."""
    bad = _first_invalid(action, statics)
    if bad >= 0:
        return bad, 0.0, 0.0, 0.0, 0.0, 0, 0.0
    n_items = int(statics[0])
    out = np.empty(6)
    _step(action, state, statics, obs_pool[row, 0], obs_pool[row, 1], int_pool[row, :n_items],
          int_pool[row, n_items:], out)
    return -1, out[0], out[1], out[2], out[3], int(out[4]), out[5]


@njit(cache=True)
def step_rows(actions: np.ndarray, skip: np.ndarray, state: np.ndarray, statics: np.ndarray, obs: np.ndarray,
              pds: np.ndarray, lost_units: np.ndarray, demand: np.ndarray, out: np.ndarray) -> int:
    """The vector env's step over all copies but those with ``skip`` (which are reset instead).
    Returns the first copy with an invalid action (nothing is stepped then), else -1."""
    n = actions.shape[0]
    for r in range(n):
        if not skip[r] and _first_invalid(actions[r], statics) >= 0:
            return r
    for r in range(n):
        if not skip[r]:
            _step(actions[r], state[r], statics, obs[r], pds[r], lost_units[r], demand[r], out[r])
    return -1
