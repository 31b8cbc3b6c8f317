"""NumPy's ``Generator.multinomial`` inside numba kernels, drawing from the generator's own state.

The env's ``np_random`` is a ``numpy.random.Generator`` over ``PCG64`` (what Gymnasium's seeding
makes). :func:`pcg64_state` returns a uint64 view of that bit generator's 128-bit state and
increment, so a kernel advances *the same* generator a Python draw would: trajectories stay
bit-identical to NumPy's, and ``env.np_random`` stays the env's one random stream. (Numba can take
a ``Generator`` argument too, but unboxing one costs tens of microseconds per call.)

:func:`multinomial` repeats NumPy's ``random_multinomial`` (one binomial per cell on what is left)
and :func:`binomial` NumPy's ``random_binomial`` (inversion for ``n p <= 30``, else BTPE with NumPy's
pre-2.5 squeeze constants, the release installed here), operation for operation, so the draws are
identical; the tests compare them with NumPy's on many cases.
"""

from __future__ import annotations

import ctypes
import math

import numpy as np
from numba import njit

_MULT_HI = np.uint64(2549297995355413924)
_MULT_LO = np.uint64(4865540595714422341)
_LOW32 = np.uint64(0xFFFFFFFF)
_U32 = np.uint64(32)
_U11 = np.uint64(11)
_U58 = np.uint64(58)
_U64 = np.uint64(64)
_U63 = np.uint64(63)
_ONE = np.uint64(1)
_ZERO = np.uint64(0)


def pcg64_state(generator: np.random.Generator) -> np.ndarray | None:
    """A (4,) uint64 view ``[state_lo, state_hi, inc_lo, inc_hi]`` of ``generator``'s PCG64 state
    (None for another bit generator). Keep ``generator`` alive as long as the view."""
    bit_generator = generator.bit_generator
    if type(bit_generator) is not np.random.PCG64:
        return None
    # pcg64_state {pcg64_random_t *pcg_state; ...}; pcg64_random_t {uint128 state; uint128 inc}.
    address = ctypes.c_void_p.from_address(bit_generator.ctypes.state_address).value
    view = np.ctypeslib.as_array((ctypes.c_uint64 * 4).from_address(address))
    expected = bit_generator.state["state"]
    if (int(view[1]) << 64 | int(view[0])) != expected["state"] or (int(view[3]) << 64 | int(view[2])) != expected["inc"]:
        return None
    return view


@njit(cache=True)
def _mulhi(a: np.uint64, b: np.uint64) -> np.uint64:
    a_lo, a_hi = a & _LOW32, a >> _U32
    b_lo, b_hi = b & _LOW32, b >> _U32
    p0, p1, p2, p3 = a_lo * b_lo, a_lo * b_hi, a_hi * b_lo, a_hi * b_hi
    mid = (p0 >> _U32) + (p1 & _LOW32) + (p2 & _LOW32)
    return p3 + (p1 >> _U32) + (p2 >> _U32) + (mid >> _U32)


@njit(cache=True)
def next_double(rng: np.ndarray) -> float:
    """PCG64 (XSL-RR 128/64) step and NumPy's ``next_double``: ``(x >> 11) * 2^-53``."""
    lo, hi = rng[0], rng[1]
    new_lo = lo * _MULT_LO
    new_hi = _mulhi(lo, _MULT_LO) + lo * _MULT_HI + hi * _MULT_LO
    lo = new_lo + rng[2]
    hi = new_hi + rng[3] + (_ONE if lo < new_lo else _ZERO)
    rng[0], rng[1] = lo, hi
    x = hi ^ lo
    rot = hi >> _U58
    out = (x >> rot) | (x << ((_U64 - rot) & _U63))
    return float(out >> _U11) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def _inversion(rng: np.ndarray, n: int, p: float) -> int:
    q = 1.0 - p
    qn = math.exp(n * math.log(q))
    np_ = n * p
    bound = min(float(n), np_ + 10.0 * math.sqrt(np_ * q + 1))
    x = 0
    px = qn
    u = next_double(rng)
    while u > px:
        x += 1
        if x > bound:
            x = 0
            px = qn
            u = next_double(rng)
        else:
            u -= px
            px = ((n - x + 1) * p * px) / (x * q)
    return x


@njit(cache=True)
def _squeeze_rejects(a: float, xm: float, m: int, n: int, y: int, r: float, q: float) -> bool:
    x1 = y + 1.0
    f1 = m + 1.0
    z = n + 1.0 - m
    w = n - y + 1.0
    x2, f2, z2, w2 = x1 * x1, f1 * f1, z * z, w * w
    return a > (xm * math.log(f1 / x1) + (n - m + 0.5) * math.log(z / w) + (y - m) * math.log(w * r / (x1 * q))
                + (13680. - (462. - (132. - (99. - 140. / f2) / f2) / f2) / f2) / f1 / 166320.
                + (13680. - (462. - (132. - (99. - 140. / z2) / z2) / z2) / z2) / z / 166320.
                + (13680. - (462. - (132. - (99. - 140. / x2) / x2) / x2) / x2) / x1 / 166320.
                + (13680. - (462. - (132. - (99. - 140. / w2) / w2) / w2) / w2) / w / 166320.)


@njit(cache=True)
def _btpe(rng: np.ndarray, n: int, p: float) -> int:
    r = min(p, 1.0 - p)
    q = 1.0 - r
    fm = n * r + r
    m = int(math.floor(fm))
    p1 = math.floor(2.195 * math.sqrt(n * r * q) - 4.6 * q) + 0.5
    xm = m + 0.5
    xl = xm - p1
    xr = xm + p1
    c = 0.134 + 20.5 / (15.3 + m)
    a = (fm - xl) / (fm - xl * r)
    laml = a * (1.0 + a / 2.0)
    a = (xr - fm) / (xr * q)
    lamr = a * (1.0 + a / 2.0)
    p2 = p1 * (1.0 + 2.0 * c)
    p3 = p2 + c / laml
    p4 = p3 + c / lamr
    nrq = n * r * q
    while True:
        u = next_double(rng) * p4
        v = next_double(rng)
        if u <= p1:
            y = int(math.floor(xm - p1 * v + u))
            break
        if u <= p2:
            x = xl + (u - p1) / c
            v = v * c + 1.0 - math.fabs(m - x + 0.5) / p1
            if v > 1.0:
                continue
            y = int(math.floor(x))
        elif u <= p3:
            y = int(math.floor(xl + math.log(v) / laml))
            if y < 0 or v == 0.0:
                continue
            v = v * (u - p2) * laml
        else:
            y = int(math.floor(xr - math.log(v) / lamr))
            if y > n or v == 0.0:
                continue
            v = v * (u - p3) * lamr
        k = abs(y - m)
        if k <= 20 or k >= nrq / 2.0 - 1:
            s = r / q
            a = s * (n + 1)
            f = 1.0
            if m < y:
                for i in range(m + 1, y + 1):
                    f = f * (a / i - s)
            elif m > y:
                for i in range(y + 1, m + 1):
                    f = f / (a / i - s)
            if v > f:
                continue
            break
        rho = (k / nrq) * ((k * (k / 3.0 + 0.625) + 0.16666666666666666) / nrq + 0.5)
        t = -k * k / (2 * nrq)
        big_a = math.log(v)
        if big_a < t - rho:
            break
        if big_a > t + rho:
            continue
        if _squeeze_rejects(big_a, xm, m, n, y, r, q):
            continue
        break
    return n - y if p > 0.5 else y


@njit(cache=True)
def binomial(rng: np.ndarray, n: int, p: float) -> int:
    """NumPy's ``Generator.binomial(n, p)`` on the PCG64 state ``rng``."""
    if n == 0 or p == 0.0:
        return 0
    if p <= 0.5:
        if p * n <= 30.0:
            return _inversion(rng, n, p)
        return _btpe(rng, n, p)
    q = 1.0 - p
    if q * n <= 30.0:
        return n - _inversion(rng, n, q)
    return n - _btpe(rng, n, q)


@njit(cache=True)
def multinomial(rng: np.ndarray, n: int, pvals: np.ndarray, out: np.ndarray) -> None:
    """NumPy's ``Generator.multinomial(n, pvals)`` into ``out`` (same length as ``pvals``)."""
    d = pvals.shape[0]
    out[:] = 0
    remaining_p = 1.0
    dn = n
    for j in range(d - 1):
        out[j] = binomial(rng, dn, pvals[j] / remaining_p)
        dn -= out[j]
        if dn <= 0:
            break
        remaining_p -= pvals[j]
    if dn > 0:
        out[d - 1] = dn
