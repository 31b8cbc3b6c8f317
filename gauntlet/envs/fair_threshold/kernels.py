"""Numba kernels of the FairThreshold round: the cell probabilities of the chosen threshold, the
batch (one multinomial, drawn from the env's own PCG64 state, see
:mod:`gauntlet.envs.fair_threshold.random`), reward, constraint residuals, observation, the
delayed-impact update of the score distributions and the group-share update, in one compiled
call shared by the single env (:func:`step_one`) and the native vector env (:func:`step_rows`),
which both run :func:`_round`, so they agree bit for bit by construction.

Compiled with ``numba.njit(cache=True)``: the first call on a machine compiles (several seconds)
and stores the machine code next to this file (or under ``NUMBA_CACHE_DIR``); later processes
load it.

Bit-for-bit contract with v0 (numpy): every float operation is repeated in the same order and
precision; NumPy's pairwise summation (``np.sum``) is repeated by
:func:`gauntlet.envs.numpy_summation.pairwise_sum` (in the
order NumPy visits v0's arrays, which depends on their memory layout), its cumulative sums are
sequential, the only transcendental function is ``exp`` (the C library's,
as Python's ``math.exp``). The histogram part of the observation, ``float32(k / n)``, was a
matrix product in v0 whose summation order BLAS chooses; any order gives the same float32
(``k / n`` lies far from float32 rounding boundaries for batch sizes below 2^25).

Layout. A copy's state is one float64 row: ``[share, t]``, then ``pi`` (2 M), its cumulative
sums ``cum`` and ``cum_good`` (2 (M + 1) each, ``cum[g, 0] = 0``). The constants are one float64
vector: ``[n, c, eps, rho (NaN = none), eta, beta, logit(p_bar), impact_rate, M]``, then ``r``
(2 M) and the fine-bin ranges of the ten coarse bins, ``lo`` and ``hi`` (10 each).
``out`` receives ``[reward, expected_reward, dp, service, expected dp, expected service, a_0,
a_1, alpha_0, alpha_1, next share]`` (service entries NaN without ``rho``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from gauntlet.envs.fair_threshold.random import multinomial
from gauntlet.envs.numpy_summation import pairwise_sum

N_HIST = 10
N_CELLS = 2 * 3 * N_HIST
HEADER = 9
N_OUT = 11


def pack_constants(batch_size: int, default_cost: float, eps: float, rho: float | None, eta: float, beta: float,
                   logit_base: float, impact_rate: float, r: np.ndarray, hist_lo: np.ndarray,
                   hist_hi: np.ndarray) -> np.ndarray:
    header = [batch_size, default_cost, eps, np.nan if rho is None else rho, eta, beta, logit_base, impact_rate,
              r.shape[1]]
    out = np.concatenate([np.asarray(header, dtype=np.float64), r.ravel(), hist_lo, hist_hi]).astype(np.float64)
    out.setflags(write=False)
    return out


def state_size(n_bins: int) -> int:
    return 2 + 2 * n_bins + 4 * (n_bins + 1)


@njit(cache=True)
def set_scores(state: np.ndarray, consts: np.ndarray) -> None:
    """Recompute ``cum`` and ``cum_good`` from ``pi`` (sequential sums, as ``np.cumsum``).

    This and :func:`_impact` index 0-based slices: numba adds a negative-index wraparound to an
    index it cannot prove non-negative (one computed from ``consts``), which made these loops
    15-35% slower."""
    m = int(consts[8])
    r = consts[HEADER:HEADER + 2 * m]
    cum = state[2 + 2 * m:4 + 4 * m]
    good = state[4 + 4 * m:6 + 6 * m]
    for g in range(2):
        pi, rg = state[2 + g * m:2 + (g + 1) * m], r[g * m:(g + 1) * m]
        cum_g, good_g = cum[g * (m + 1):(g + 1) * (m + 1)], good[g * (m + 1):(g + 1) * (m + 1)]
        total = 0.0
        total_good = 0.0
        cum_g[0] = 0.0
        good_g[0] = 0.0
        for b in range(pi.shape[0]):
            p = pi[b]
            total += p
            total_good += p * rg[b]
            cum_g[b + 1] = total
            good_g[b + 1] = total_good


@njit(cache=True)
def _cells(cut: int, state: np.ndarray, consts: np.ndarray, table: np.ndarray, sums: np.ndarray) -> None:
    """The (group, class, coarse bin) cell probabilities of threshold cut ``cut`` into ``table``
    (60) and ``sums = [alpha_0, alpha_1, good_0, good_1]`` (v0's ``_table``)."""
    m = int(consts[8])
    lo_at = HEADER + 2 * m
    hi_at = lo_at + N_HIST
    cum = 2 + 2 * m
    good = cum + 2 * (m + 1)
    for g in range(2):
        c0 = cum + g * (m + 1)
        g0 = good + g * (m + 1)
        base = g * 3 * N_HIST
        for j in range(N_HIST):
            lo = int(consts[lo_at + j])
            hi = int(consts[hi_at + j])
            mid = min(max(cut, lo), hi)
            accepted = state[c0 + hi] - state[c0 + mid]
            good_j = state[g0 + hi] - state[g0 + mid]
            rejected = state[c0 + mid] - state[c0 + lo]
            bad_j = accepted - good_j
            table[base + j] = rejected if rejected >= 0.0 else 0.0
            table[base + N_HIST + j] = good_j if good_j >= 0.0 else 0.0
            table[base + 2 * N_HIST + j] = bad_j if bad_j >= 0.0 else 0.0
        # v0's ``table.sum(axis=(1, 2))`` ran over an array laid out bin-major (built from
        # fancy-indexed columns): one 3-value pairwise sum per coarse bin, added in bin order.
        total = 0.0
        for j in range(N_HIST):
            total += (table[base + j] + table[base + N_HIST + j]) + table[base + 2 * N_HIST + j]
        for j in range(3 * N_HIST):
            table[base + j] /= total
        sums[g] = pairwise_sum(table, base + N_HIST, 2 * N_HIST)
        sums[2 + g] = pairwise_sum(table, base + N_HIST, N_HIST)


@njit(cache=True)
def _impact(cut: int, state: np.ndarray, consts: np.ndarray, new: np.ndarray) -> None:
    """Delayed impact on ``pi`` (v0's ``_impact``, same operation order), then ``cum``/``cum_good``."""
    m = int(consts[8])
    rate = consts[7]
    stay, up, down = new[:m], new[m:2 * m], new[2 * m:3 * m]
    for g in range(2):
        pi = state[2 + g * m:2 + (g + 1) * m]
        r = consts[HEADER + g * m:HEADER + (g + 1) * m]
        for b in range(m):
            moved = rate * pi[b] if b >= cut else 0.0
            up[b] = moved * r[b]
            down[b] = moved - up[b]
            stay[b] = pi[b] - up[b] - down[b]
        for b in range(1, m):
            stay[b] += up[b - 1]
        stay[m - 1] += up[m - 1]
        for b in range(m - 1):
            stay[b] += down[b + 1]
        stay[0] += down[0]
        total = pairwise_sum(new, 0, m)
        for b in range(m):
            pi[b] = stay[b] / total
    set_scores(state, consts)


@njit(cache=True)
def _draw_order(table: np.ndarray, order: np.ndarray) -> int:
    """The non-empty cells in v0's draw order (a stable argsort of ``-table``: decreasing
    probability, ties in cell order) into ``order``; returns their number."""
    d = 0
    for cell in range(N_CELLS):
        p = table[cell]
        if p > 0.0:
            k = d
            while k > 0 and table[order[k - 1]] < p:
                order[k] = order[k - 1]
                k -= 1
            order[k] = cell
            d += 1
    return d


@njit(cache=True)
def _pvals(table: np.ndarray, order: np.ndarray, d: int, share: float) -> np.ndarray:
    """The multinomial probabilities ``base + share * delta`` of the cells (v0's arithmetic)."""
    pvals = np.empty(d)
    for k in range(d):
        cell = order[k]
        if cell < 3 * N_HIST:
            pvals[k] = table[cell] + share * -table[cell]
        else:
            pvals[k] = 0.0 + share * table[cell]
    return pvals


def cut_cache(state: np.ndarray, consts: np.ndarray) -> np.ndarray:
    """Every cut's cells, draw order and sums at the state's ``pi`` (rows: cut 0..M; columns: the
    60 cell probabilities, the 60 cells in draw order then the count, the 4 sums), for envs
    whose ``pi`` never changes (no delayed impact)."""
    m = int(consts[8])
    out = np.zeros((m + 1, 2 * N_CELLS + 5))
    order = np.zeros(N_CELLS, dtype=np.int64)
    for cut in range(m + 1):
        row = out[cut]
        sums = np.empty(4)
        _cells(cut, state, consts, row[:N_CELLS], sums)
        d = _draw_order(row[:N_CELLS], order)
        row[N_CELLS : 2 * N_CELLS] = order
        row[2 * N_CELLS] = d
        row[2 * N_CELLS + 1 :] = sums
    return out


@njit(cache=True)
def _round(cut: int, state: np.ndarray, consts: np.ndarray, cache: np.ndarray, rng: np.ndarray, given: np.ndarray,
           obs: np.ndarray, out: np.ndarray) -> None:
    """One round of one copy (see the module docstring for ``out``): the cells come from
    ``cache`` (:func:`cut_cache`) unless it is empty; the batch is drawn from the PCG64 state
    ``rng``, or is ``given`` (the counts of :func:`cell_probabilities`' cells) when that is not
    empty."""
    n = int(consts[0])
    c, eps, rho, eta, beta, logit_base, impact = consts[1], consts[2], consts[3], consts[4], consts[5], consts[6], consts[7]
    share = state[0]
    order = np.empty(N_CELLS, dtype=np.int64)
    if cache.shape[0] > 0:
        row = cache[cut]
        table = row[:N_CELLS]
        d = int(row[2 * N_CELLS])
        for k in range(d):
            order[k] = int(row[N_CELLS + k])
        alpha0, alpha1, good0, good1 = row[2 * N_CELLS + 1], row[2 * N_CELLS + 2], row[2 * N_CELLS + 3], row[2 * N_CELLS + 4]
    else:
        table = np.empty(N_CELLS)
        sums = np.empty(4)
        _cells(cut, state, consts, table, sums)
        d = _draw_order(table, order)
        alpha0, alpha1, good0, good1 = sums[0], sums[1], sums[2], sums[3]
    w0 = 1.0 - share
    alpha_mix = w0 * alpha0 + share * alpha1
    expected_reward = ((1.0 + c) * (w0 * good0 + share * good1) - c * alpha_mix + c) / (1.0 + c)

    pvals = _pvals(table, order, d, share)
    if given.shape[0] == 0:
        counts = np.empty(d, dtype=np.int64)
        multinomial(rng, n, pvals, counts)
    else:
        counts = given

    size0 = size1 = accepted0 = accepted1 = repaid = 0.0
    hist = np.zeros(N_HIST)
    for k in range(d):
        cell = order[k]
        count = float(counts[k])
        klass = (cell // N_HIST) % 3
        hist[cell % N_HIST] += count
        if cell < 3 * N_HIST:
            size0 += count
            if klass > 0:
                accepted0 += count
        else:
            size1 += count
            if klass > 0:
                accepted1 += count
        if klass == 1:
            repaid += count
    rate0 = accepted0 / size0 if size0 > 0.0 else alpha0
    rate1 = accepted1 / size1 if size1 > 0.0 else alpha1
    accepted = accepted0 + accepted1
    out[0] = ((repaid - c * (accepted - repaid)) / n + c) / (1.0 + c)
    out[1] = expected_reward
    out[2] = abs(rate0 - rate1) - eps
    out[4] = abs(alpha0 - alpha1) - eps
    out[3] = rho - accepted / n
    out[5] = rho - alpha_mix
    out[6], out[7], out[8], out[9] = rate0, rate1, alpha0, alpha1
    obs[0] = size0 / n
    obs[1] = size1 / n
    obs[2] = rate0
    obs[3] = rate1
    inv_n = 1.0 / n
    for j in range(N_HIST):
        obs[4 + j] = hist[j] * inv_n

    if impact > 0.0:
        _impact(cut, state, consts, np.empty(3 * int(consts[8])))
    target = 1.0 / (1.0 + math.exp(-(logit_base + beta * (alpha1 - alpha0))))
    state[0] = (1.0 - eta) * share + eta * target
    state[1] += 1.0
    out[10] = state[0]


_NONE = np.zeros(0, dtype=np.int64)


@njit(cache=True)
def step_one(cut: int, state: np.ndarray, consts: np.ndarray, cache: np.ndarray, rng: np.ndarray, obs_pool: np.ndarray,
             out_pool: np.ndarray, row: int) -> None:
    """The single env's round (``rng``: the PCG64 state view of its ``np_random``) into row ``row``
    of its output pools."""
    _round(cut, state, consts, cache, rng, _NONE, obs_pool[row], out_pool[row])


@njit(cache=True)
def cell_probabilities(cut: int, state: np.ndarray, consts: np.ndarray) -> np.ndarray:
    """The multinomial probabilities of the round's cells, for a generator the kernels cannot
    draw from (NumPy then draws the counts, :func:`step_given` plays them)."""
    table = np.empty(N_CELLS)
    sums = np.empty(4)
    _cells(cut, state, consts, table, sums)
    order = np.empty(N_CELLS, dtype=np.int64)
    d = _draw_order(table, order)
    return _pvals(table, order, d, state[0])


@njit(cache=True)
def step_given(cut: int, state: np.ndarray, consts: np.ndarray, counts: np.ndarray, obs: np.ndarray,
               out: np.ndarray) -> None:
    """The round with the batch's cell counts ``counts`` (drawn by NumPy)."""
    _round(cut, state, consts, np.empty((0, 0)), np.empty(0, dtype=np.uint64), counts, obs, out)


@njit(cache=True)
def step_rows(cuts: np.ndarray, skip: np.ndarray, state: np.ndarray, consts: np.ndarray, cache: np.ndarray,
              rngs: np.ndarray, obs: np.ndarray, out: np.ndarray) -> None:
    """The vector env's round for every copy but those with ``skip`` (reset instead)."""
    for i in range(cuts.shape[0]):
        if not skip[i]:
            _round(cuts[i], state[i], consts, cache, rngs[i], _NONE, obs[i], out[i])
