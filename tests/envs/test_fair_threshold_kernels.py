"""The FairThreshold kernels draw exactly what NumPy draws, from the env's own generator."""

import numpy as np
import pytest

from gauntlet.envs.fair_threshold import random
from gauntlet.envs.fair_threshold.env import FairThresholdEnv
from gauntlet.envs.numpy_summation import pairwise_sum


class _SubclassedPCG64(np.random.PCG64):
    """The same stream as PCG64, but not the type the kernels read directly."""


@pytest.mark.parametrize("seed", range(40))
def test_multinomial_and_binomial_equal_numpys(seed):
    rng = np.random.default_rng(seed)
    cells = int(rng.integers(1, 60))
    pvals = rng.random(cells) ** 3
    pvals /= pvals.sum()
    n = int(rng.integers(0, 2000))
    ours, theirs = np.random.default_rng(1000 + seed), np.random.default_rng(1000 + seed)
    view = random.pcg64_state(ours)
    counts = np.empty(cells, dtype=np.int64)
    for _ in range(5):
        random.multinomial(view, n, pvals, counts)
        np.testing.assert_array_equal(counts, theirs.multinomial(n, pvals))
    for p in (0.0, 1e-3, 0.2, 0.5, 0.51, 0.97, 1.0, float(rng.random())):
        for trials in (0, 1, 7, 60, 400, 5000):
            assert random.binomial(view, trials, p) == theirs.binomial(trials, p)
    # The view is the generator's own state: both generators are at the same point.
    assert ours.random() == theirs.random()


def test_state_view_only_for_pcg64():
    assert random.pcg64_state(np.random.Generator(np.random.MT19937(0))) is None
    assert random.pcg64_state(np.random.Generator(_SubclassedPCG64(0))) is None
    assert random.pcg64_state(np.random.default_rng(0)).dtype == np.uint64


@pytest.mark.parametrize("n", [1, 7, 8, 9, 30, 128, 129, 300, 1031])
def test_pairwise_sum_equals_numpy_sum(n):
    x = np.random.default_rng(n).random(n + 2) * 10.0 ** np.random.default_rng(n + 1).uniform(-6, 6, n + 2)
    assert pairwise_sum(x, 1, n) == x[1 : n + 1].sum()


@pytest.mark.parametrize("kwargs", [{}, {"impact_rate": 0.2, "rho": 0.3, "continuous": True}])
def test_another_bit_generator_gives_the_same_trajectory_through_numpy(kwargs):
    fast, slow = FairThresholdEnv(**kwargs), FairThresholdEnv(**kwargs)
    fast.reset(seed=3)
    slow.reset(seed=3)
    fast.np_random = np.random.Generator(np.random.PCG64(11))
    slow.np_random = np.random.Generator(_SubclassedPCG64(11))
    actions = np.random.default_rng(0).uniform(0, 1, 30)
    for a in actions:
        action = np.array([a], dtype=np.float32) if fast.continuous else int(a * 50)
        one, two = fast.step(action), slow.step(action)
        np.testing.assert_array_equal(one[0], two[0])
        assert one[1:4] == two[1:4]
        assert one[4]["cost"] == two[4]["cost"] and one[4]["group_share"] == two[4]["group_share"]
    assert fast.np_random.random() == slow.np_random.random()


def test_a_deep_copy_draws_from_its_own_generator():
    import copy
    import pickle

    from gauntlet.envs.fair_threshold.vector import FairThresholdVectorEnv

    env = FairThresholdEnv(horizon=5)
    env.reset(seed=4)
    env.step(10)
    for twin in (copy.deepcopy(env), pickle.loads(pickle.dumps(env))):
        original = copy.deepcopy(env)
        for _ in range(4):
            a, b = original.step(20), twin.step(20)
            np.testing.assert_array_equal(a[0], b[0])
        assert original.np_random.random() == twin.np_random.random()
    envs = FairThresholdVectorEnv(num_envs=2, horizon=3)
    envs.reset(seed=1)
    twin = copy.deepcopy(envs)
    for _ in range(7):
        np.testing.assert_array_equal(envs.step(np.array([5, 9]))[0], twin.step(np.array([5, 9]))[0])
