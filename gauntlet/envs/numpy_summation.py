"""NumPy's float64 summation orders inside numba kernels, so that a compiled step that replaces
numpy code adds in exactly the order the numpy code did and keeps trajectories bit-identical
(used by the FairThreshold and ESGPortfolio kernels): ``np.sum`` (:func:`pairwise_sum`) and
``x @ y`` of two float64 vectors (:func:`ddot`, :func:`ddot_strided`).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit
from numba.core import types
from numba.extending import intrinsic


@intrinsic
def fma(typingctx, a, b, c):  # noqa: ARG001 - numba's intrinsic signature
    """``a * b + c`` rounded once (LLVM's ``llvm.fma``, exact on any hardware)."""
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):
        double = ir.DoubleType()
        fn = builder.module.declare_intrinsic("llvm.fma", [double], ir.FunctionType(double, [double] * 3))
        return builder.call(fn, args)

    return sig, codegen


@njit(cache=True)
def ddot(x: np.ndarray, x_lo: int, y: np.ndarray, y_lo: int, n: int) -> float:
    """``x[x_lo:x_lo + n] @ y[y_lo:y_lo + n]`` as NumPy computes it on this kind of machine: NumPy
    hands contiguous float64 dot products to its bundled OpenBLAS, whose ``ddot`` kernel on
    AVX-512 CPUs (SkylakeX) takes blocks of 32 in four 8-lane fused-multiply-add accumulators,
    folds them to four 4-lane ones that take blocks of 16, sums the lanes in a fixed tree and
    adds the last ``n mod 16`` products one fused multiply-add at a time. (Another CPU gets
    another OpenBLAS kernel, so NumPy's own last bits differ there too.)"""
    n1 = n & -16
    dot = 0.0
    if n1:
        wide = np.zeros((4, 8))
        n32 = n1 & -32
        i = 0
        while i < n32:
            for q in range(4):
                for k in range(8):
                    j = i + 8 * q + k
                    wide[q, k] = fma(x[x_lo + j], y[y_lo + j], wide[q, k])
            i += 32
        acc = np.empty((4, 4))
        for q in range(4):
            for k in range(4):
                acc[q, k] = wide[q, k] + wide[q, k + 4]
        while i < n1:
            for q in range(4):
                for k in range(4):
                    j = i + 4 * q + k
                    acc[q, k] = fma(x[x_lo + j], y[y_lo + j], acc[q, k])
            i += 16
        lanes = np.empty(4)
        for k in range(4):
            lanes[k] = ((acc[0, k] + acc[1, k]) + acc[2, k]) + acc[3, k]
        dot = (lanes[0] + lanes[2]) + (lanes[1] + lanes[3])
    for j in range(n1, n):
        dot = fma(y[y_lo + j], x[x_lo + j], dot)
    return dot


@njit(cache=True)
def _block_sum(a: np.ndarray, lo: int, n: int) -> float:
    """NumPy's pairwise sum of at most 128 values: sequential below 8, else 8 accumulators."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - (n % 8):
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(cache=True)
def pairwise_sum(a: np.ndarray, lo: int, n: int) -> float:
    """``np.sum(a[lo:lo + n])`` for float64, in NumPy's pairwise order: blocks of up to 128
    values (:func:`_block_sum`), larger ranges split in two (the first half a multiple of 8) and
    the halves' sums added. The split is walked with an explicit stack: numba's cache cannot
    load recursive functions."""
    if n <= 128:
        return _block_sum(a, lo, n)
    los = np.empty(64, dtype=np.int64)
    ns = np.empty(64, dtype=np.int64)
    waiting_right = np.zeros(64, dtype=np.bool_)
    left = np.empty(64)
    top = 0
    los[0], ns[0] = lo, n
    value = 0.0
    done = False
    while True:
        if done:
            if top < 0:
                return value
            if not waiting_right[top]:
                left[top] = value
                waiting_right[top] = True
                half = ns[top] // 2
                half -= half % 8
                los[top + 1], ns[top + 1], waiting_right[top + 1] = los[top] + half, ns[top] - half, False
                top += 1
                done = False
            else:
                value = left[top] + value
                top -= 1
            continue
        if ns[top] <= 128:
            value = _block_sum(a, los[top], ns[top])
            top -= 1
            done = True
        else:
            half = ns[top] // 2
            half -= half % 8
            los[top + 1], ns[top + 1], waiting_right[top + 1] = los[top], half, False
            top += 1


@njit(cache=True)
def ddot_strided(x: np.ndarray, x_lo: int, y: np.ndarray, y_lo: int, n: int) -> float:
    """``x @ y`` as NumPy computes it when one vector is strided (say a row of a Fortran-ordered
    matrix): OpenBLAS's generic ``ddot`` loop, two running sums of pairs of products in blocks of
    four, the last ``n mod 4`` products fused into the first sum."""
    first = 0.0
    second = 0.0
    n4 = n & -4
    i = 0
    while i < n4:
        first += x[x_lo + i] * y[y_lo + i] + x[x_lo + i + 2] * y[y_lo + i + 2]
        second += x[x_lo + i + 1] * y[y_lo + i + 1] + x[x_lo + i + 3] * y[y_lo + i + 3]
        i += 4
    while i < n:
        first = fma(y[y_lo + i], x[x_lo + i], first)
        i += 1
    return first + second
