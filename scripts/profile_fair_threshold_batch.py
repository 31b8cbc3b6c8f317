"""Where a FairThreshold round's time goes, and what an exact batch sampler can cost at best.

A round draws its batch of ``batch_size`` individuals as one multinomial over the (group, class,
score bin) cells, NumPy's ``Generator.multinomial`` repeated in numba so trajectories are NumPy's
bit for bit (:mod:`gauntlet.envs.fair_threshold.random`). This script measures, on random
thresholds from the env's own state, in one process and one thread:

* the compiled round (:func:`gauntlet.envs.fair_threshold.kernels._round`) and the multinomial
  alone (its probabilities and draw), in ns per round, and the multinomial's share;
* what the multinomial does per round: binomial draws, how many go to BTPE, and the iterations of
  the inversion sampler (NumPy's, for ``n p <= 30``) -- a loop whose every step waits for a
  division, so it cannot be shortened without changing the draws;
* for comparison, an exact sampler of a different kind: Walker's alias table built per round and
  one uniform per individual (the same distribution, other draws, so a new env version).

At 1,024 copies, 1M vector steps/s needs a round in under 1 us per core (2 us with both cores of
this machine); the figures show how far each sampler is from that.

    OMP_NUM_THREADS=1 python scripts/profile_fair_threshold_batch.py --id gauntlet/FairThreshold-Synthetic-v0
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np
from numba import njit

import gauntlet  # noqa: F401  (registers the env ids)
from gauntlet.envs.fair_threshold import kernels
from gauntlet.envs.fair_threshold.random import multinomial, next_double


@njit
def _probabilities(cut: int, state: np.ndarray, consts: np.ndarray, cache: np.ndarray) -> np.ndarray:
    row = cache[cut]
    d = int(row[2 * kernels.N_CELLS])
    order = np.empty(kernels.N_CELLS, dtype=np.int64)
    for k in range(d):
        order[k] = int(row[kernels.N_CELLS + k])
    return kernels._pvals(row[:kernels.N_CELLS], order, d, state[0])


@njit
def _rounds(cuts: np.ndarray, state: np.ndarray, consts: np.ndarray, cache: np.ndarray, rng: np.ndarray,
            obs: np.ndarray, out: np.ndarray) -> None:
    for cut in cuts:
        kernels._round(cut, state, consts, cache, rng, kernels._NONE, obs, out)


@njit
def _multinomials(cuts: np.ndarray, state: np.ndarray, consts: np.ndarray, cache: np.ndarray,
                  rng: np.ndarray) -> int:
    total = 0
    for cut in cuts:
        pvals = _probabilities(cut, state, consts, cache)
        counts = np.empty(pvals.shape[0], dtype=np.int64)
        multinomial(rng, int(consts[0]), pvals, counts)
        total += counts[0]
    return total


@njit
def _alias(cuts: np.ndarray, state: np.ndarray, consts: np.ndarray, cache: np.ndarray, rng: np.ndarray) -> int:
    n = int(consts[0])
    total = 0
    scaled = np.empty(kernels.N_CELLS)
    alias = np.empty(kernels.N_CELLS, dtype=np.int64)
    small = np.empty(kernels.N_CELLS, dtype=np.int64)
    large = np.empty(kernels.N_CELLS, dtype=np.int64)
    counts = np.empty(kernels.N_CELLS, dtype=np.int64)
    for cut in cuts:
        pvals = _probabilities(cut, state, consts, cache)
        d = pvals.shape[0]
        norm = d / pvals.sum()
        ns = nl = 0
        for k in range(d):
            scaled[k] = pvals[k] * norm
            alias[k] = k
            counts[k] = 0
            if scaled[k] < 1.0:
                small[ns] = k
                ns += 1
            else:
                large[nl] = k
                nl += 1
        while ns > 0 and nl > 0:
            ns -= 1
            s = small[ns]
            g = large[nl - 1]
            alias[s] = g
            scaled[g] -= 1.0 - scaled[s]
            if scaled[g] < 1.0:
                nl -= 1
                small[ns] = g
                ns += 1
        for k in range(nl):
            scaled[large[k]] = 1.0
        for k in range(ns):
            scaled[small[k]] = 1.0
        for _ in range(n):
            u = next_double(rng) * d
            k = int(u)
            counts[k if u - k < scaled[k] else alias[k]] += 1
        total += counts[0]
    return total


@njit
def _work(cuts: np.ndarray, state: np.ndarray, consts: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """Per round: binomial draws, those by BTPE, and the inversion sampler's expected iterations
    (``n p`` of each inversion draw, which is its mean count)."""
    n = consts[0]
    work = np.zeros(3)
    for cut in cuts:
        pvals = _probabilities(cut, state, consts, cache)
        remaining_p, remaining_n = 1.0, n
        for j in range(pvals.shape[0] - 1):
            p = pvals[j] / remaining_p
            small = min(p, 1.0 - p)
            work[0] += 1
            if small * remaining_n > 30.0:
                work[1] += 1
            else:
                work[2] += small * remaining_n
            remaining_n -= p * remaining_n
            remaining_p -= pvals[j]
    return work / cuts.shape[0]


def _ns_per_round(fn, cuts: np.ndarray, repeats: int) -> float:
    fn(cuts[:4])
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(cuts)
        times.append(time.perf_counter() - start)
    return float(np.median(times)) / cuts.shape[0] * 1e9


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--id", default="gauntlet/FairThreshold-Synthetic-v0", help="a FairThreshold task id")
    parser.add_argument("--rounds", type=int, default=20_000, help="rounds per timing window")
    parser.add_argument("--repeats", type=int, default=7, help="timing windows (the median is printed)")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.repeats < 1:
        parser.error(f"--rounds={args.rounds} and --repeats={args.repeats} must both be at least 1")

    env = gym.make(args.id).unwrapped
    env.reset(seed=0)
    state, consts, cache = env._state.copy(), env._consts, env._cut_cache
    cuts = np.random.default_rng(0).integers(0, cache.shape[0], args.rounds)
    rng = np.array([1, 2, 3, 5], dtype=np.uint64)
    obs = np.zeros(env.observation_space.shape, dtype=np.float32)
    out = np.zeros(kernels.N_OUT)

    round_ns = _ns_per_round(lambda c: _rounds(c, state.copy(), consts, cache, rng, obs, out), cuts, args.repeats)
    multinomial_ns = _ns_per_round(lambda c: _multinomials(c, state, consts, cache, rng), cuts, args.repeats)
    alias_ns = _ns_per_round(lambda c: _alias(c, state, consts, cache, rng), cuts, args.repeats)
    draws, btpe, iterations = _work(cuts, state, consts, cache)
    print(f"{args.id}: batch of {int(consts[0])} individuals, {args.rounds:,} random thresholds, median of {args.repeats}")
    print(f"  compiled round                 {round_ns:8.0f} ns  ({1e9 / round_ns:,.0f} rounds/s on one core)")
    print(f"  NumPy's multinomial alone      {multinomial_ns:8.0f} ns  ({multinomial_ns / round_ns:.0%} of the round)")
    print(f"    per round: {draws:.1f} binomial draws, {btpe:.1f} by BTPE, {iterations:.0f} inversion iterations")
    print(f"  alias table + one uniform each {alias_ns:8.0f} ns  ({multinomial_ns / alias_ns:.2f}x NumPy's speed)")
    print("  1M vector steps/s needs a round in 1,000 ns on one core, 2,000 ns on two")


if __name__ == "__main__":
    main()
