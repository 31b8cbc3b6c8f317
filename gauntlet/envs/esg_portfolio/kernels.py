"""Numba kernels of the ESG portfolio day: action check and softmax logits (:func:`logits_rows`),
then, after NumPy's ``exp``, weights, turnover, costs, returns, regulation transfers, wealth,
drift and the next observation (:func:`finish_rows`), shared by the single env (a batch of one)
and the native vector env, so the two agree bit for bit by construction.

Compiled with ``numba.njit(cache=True)``: the first call on a machine compiles (a few seconds)
and stores the machine code next to this file (or under ``NUMBA_CACHE_DIR``); later processes
load it.

Bit-for-bit contract with v0 (numpy): the float operations are v0's, in its order; ``np.sum`` is
repeated by :func:`gauntlet.envs.numpy_summation.pairwise_sum`, ``@`` by
:func:`gauntlet.envs.numpy_summation.ddot` or, where v0's growth rows were strided (prices read
from a DataFrame are Fortran-ordered), :func:`~gauntlet.envs.numpy_summation.ddot_strided`
(the orders of the OpenBLAS loops NumPy calls on AVX-512 machines), the log is the C library's (as ``math.log``). ``exp`` stays NumPy's
(its SIMD implementation rounds differently from the C library's), applied between the two
kernels.

Layout. A copy's state is one float64 row ``[t, end, value, 0, w^- (m)]`` (decision row, row
after the episode's last decision, wealth; ``m`` weights). The constants are one float64 vector
``[n_assets, m, lookback, transaction_cost, regulated, grant_rate, tax_rate, flat_tax, E_bar,
band_lo, band_hi, esg_std, esg_in_state, cash, obs_dim, n_rows, growth_strided]``, then the observation template
(``obs_dim``), ``ESG_ext`` (``m``), the gross growth ``1 + R`` per row (``n_rows * m``) and the
scaled log returns ``z`` per row (``n_rows * n_assets``, float32 values widened).
``out`` receives ``[turnover, cost, gross, net, grant, tax, E_p, wealth, reward, terminated,
truncated]``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from gauntlet.envs.numpy_summation import ddot, ddot_strided, pairwise_sum

HEADER = 17
N_OUT = 11
STATE_HEADER = 4
_RUIN = 1e-12
OBS_CLIP = 10.0


def pack_constants(n_assets: int, lookback: int, transaction_cost: float, regulated: bool, grant_rate: float,
                   tax_rate: float, flat_tax: float, esg_mean: float, band: tuple[float, float], esg_std: float,
                   esg_in_state: bool, cash: bool, template: np.ndarray, esg_ext: np.ndarray, growth: np.ndarray,
                   z: np.ndarray) -> np.ndarray:
    m = esg_ext.shape[0]
    # v0's w @ growth[t + 1] took BLAS's strided path when the rows of growth were not contiguous.
    strided = growth.strides[1] != growth.itemsize
    header = [n_assets, m, lookback, transaction_cost, float(regulated), grant_rate, tax_rate, flat_tax, esg_mean,
              band[0], band[1], esg_std, float(esg_in_state), float(cash), template.shape[0], growth.shape[0],
              float(strided)]
    parts = [np.asarray(header, dtype=np.float64), template.astype(np.float64), esg_ext, growth.ravel(),
             z.astype(np.float64).ravel()]
    out = np.concatenate(parts)
    out.setflags(write=False)
    return out


@njit(cache=True)
def logits_rows(actions: np.ndarray, skip: np.ndarray, scale: float, z: np.ndarray) -> int:
    """``z = scale * (a - max(a))`` per copy not in ``skip``; returns the first copy whose action
    leaves [-1, 1] (up to 1e-6) or is not a number (nothing is written then), else -1."""
    n, m = actions.shape
    for r in range(n):
        if skip[r]:
            continue
        for j in range(m):
            x = actions[r, j]
            if not (x >= -1.0 - 1e-6 and x <= 1.0 + 1e-6):
                return r
    for r in range(n):
        if skip[r]:
            continue
        hi = actions[r, 0]
        for j in range(1, m):
            if actions[r, j] > hi:
                hi = actions[r, j]
        for j in range(m):
            z[r, j] = scale * (actions[r, j] - hi)
    return -1


@njit(cache=True)
def _day(e: np.ndarray, state: np.ndarray, consts: np.ndarray, obs: np.ndarray, weights: np.ndarray,
         drifted: np.ndarray, out: np.ndarray) -> None:
    """One trading day of one copy from ``e = exp(logits)``: targets into ``weights``, the drifted
    weights into ``drifted`` and the state, the next observation into ``obs``."""
    n_assets, m, lookback = int(consts[0]), int(consts[1]), int(consts[2])
    tc, regulated, grant_rate, tax_rate, flat_tax = consts[3], consts[4] != 0.0, consts[5], consts[6], consts[7]
    esg_mean, band_lo, band_hi, esg_std = consts[8], consts[9], consts[10], consts[11]
    esg_in_state, cash, dim, n_rows = consts[12] != 0.0, consts[13] != 0.0, int(consts[14]), int(consts[15])
    template = HEADER
    esg_at = template + dim
    growth_at = esg_at + m
    z_at = growth_at + n_rows * m
    t = int(state[0])
    held = state[STATE_HEADER : STATE_HEADER + m]
    step_growth = consts[growth_at + (t + 1) * m : growth_at + (t + 2) * m]

    total = pairwise_sum(e, 0, m)
    for j in range(m):
        weights[j] = e[j] / total
    for j in range(m):
        drifted[j] = abs(weights[j] - held[j])
    turnover = pairwise_sum(drifted, 0, n_assets if cash else m)
    cost = tc * turnover
    if consts[16] != 0.0:
        gross = ddot_strided(weights, 0, consts, growth_at + (t + 1) * m, m) - 1.0
    else:
        gross = ddot(weights, 0, consts, growth_at + (t + 1) * m, m) - 1.0
    esg_p = ddot(weights, 0, consts, esg_at, m)
    grant = 0.0
    tax = 0.0
    if regulated:
        gain = gross if gross >= 0.0 else 0.0
        if esg_p > band_hi:
            grant = grant_rate * gain * esg_p / esg_mean
        elif esg_p < band_lo:
            tax = tax_rate * gain + flat_tax
    net = gross - cost + grant - tax
    growth = 1.0 + net
    terminated = growth <= _RUIN
    if terminated:
        growth = _RUIN
    state[2] *= growth
    for j in range(m):
        drifted[j] = weights[j] * step_growth[j] / (1.0 + gross)
        held[j] = drifted[j]
    t += 1
    state[0] = t

    window = (t - lookback + 1) * n_assets
    for j in range(lookback * n_assets):
        obs[j] = consts[z_at + window + j]
    for j in range(m):
        obs[lookback * n_assets + j] = drifted[j]
    for j in range(lookback * n_assets + m, dim):
        obs[j] = consts[template + j]
    if esg_in_state:
        score = (ddot(drifted, 0, consts, esg_at, m) - esg_mean) / esg_std
        obs[dim - 1] = min(max(score, -OBS_CLIP), OBS_CLIP)
    out[0], out[1], out[2], out[3], out[4], out[5], out[6] = turnover, cost, gross, net, grant, tax, esg_p
    out[7] = state[2]
    out[8] = math.log(growth)
    out[9] = 1.0 if terminated else 0.0
    out[10] = 1.0 if not terminated and t >= int(state[1]) else 0.0


@njit(cache=True)
def finish_rows(e: np.ndarray, skip: np.ndarray, state: np.ndarray, consts: np.ndarray, obs: np.ndarray,
                weights: np.ndarray, drifted: np.ndarray, out: np.ndarray) -> None:
    """The day of every copy not in ``skip`` (copies are rows of every argument but ``consts``)."""
    for r in range(e.shape[0]):
        if not skip[r]:
            _day(e[r], state[r], consts, obs[r], weights[r], drifted[r], out[r])


@njit(cache=True)
def logits_one(action: np.ndarray, scale: float, z: np.ndarray) -> bool:
    """:func:`logits_rows` for the single env: False (and nothing written) for a bad action."""
    m = action.shape[0]
    hi = action[0]
    for j in range(m):
        x = action[j]
        if not (x >= -1.0 - 1e-6 and x <= 1.0 + 1e-6):
            return False
        if x > hi:
            hi = x
    for j in range(m):
        z[j] = scale * (action[j] - hi)
    return True


@njit(cache=True)
def finish_one(e: np.ndarray, state: np.ndarray, consts: np.ndarray, obs: np.ndarray, weights: np.ndarray,
               drifted: np.ndarray, out: np.ndarray) -> None:
    """:func:`finish_rows` for the single env."""
    _day(e, state, consts, obs, weights, drifted, out)
