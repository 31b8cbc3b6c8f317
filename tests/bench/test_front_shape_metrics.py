"""Sparsity (PGMORL), spacing (Schott) and spread (Deb) on fronts whose values are worked out by hand."""

import json

import numpy as np
import pytest

from gauntlet.bench.multi_objective import mo_metrics, sparsity, spacing, spread

EVEN = np.array([[0.0, 3.0], [1.0, 2.0], [2.0, 1.0], [3.0, 0.0]])
UNEVEN = np.array([[0.0, 3.0], [1.0, 2.0], [3.0, 0.0]])


def test_sparsity_sums_squared_gaps_per_objective_over_n_minus_1():
    assert sparsity(EVEN) == pytest.approx((3 * 1 + 3 * 1) / 3)
    # objective 1 sorted 0, 1, 3: gaps 1, 2; objective 2 sorted 0, 2, 3: gaps 2, 1
    assert sparsity(UNEVEN) == pytest.approx((1 + 4 + 4 + 1) / 2)
    assert sparsity(EVEN[::-1]) == sparsity(EVEN), "order of the points does not matter"
    assert sparsity(EVEN[:1]) == 0.0 and sparsity(np.empty((0, 2))) == 0.0


def test_sparsity_matches_morl_baselines():
    indicators = pytest.importorskip("morl_baselines.common.performance_indicators")
    front = np.random.default_rng(0).uniform(size=(12, 3))
    assert sparsity(front) == pytest.approx(indicators.sparsity(list(front)))


def test_spacing_is_the_std_of_nearest_neighbour_l1_distances():
    assert spacing(EVEN) == 0.0
    # nearest L1 distances 2, 2, 4: mean 8/3, sample variance (4/9 + 4/9 + 16/9) / 2
    assert spacing(UNEVEN) == pytest.approx(np.sqrt(12 / 9))
    assert spacing(UNEVEN[:1]) == 0.0


def test_spread_of_even_clustered_and_degenerate_fronts():
    assert spread(EVEN) == pytest.approx(0.0)
    assert spread(EVEN, extremes=[[0.0, 3.0], [3.0, 0.0]]) == pytest.approx(0.0)
    # gaps sqrt 2 and 2 sqrt 2: mean 1.5 sqrt 2, deviations 0.5 sqrt 2 each
    assert spread(UNEVEN[::-1]) == pytest.approx(1 / 3)
    # the ends 1 away from the reference extremes each: (1 + 1 + sqrt 2) / (1 + 1 + 3 sqrt 2)
    with_ends = spread(UNEVEN, extremes=[[-1.0, 3.0], [3.0, -1.0]])
    assert with_ends == pytest.approx((2 + np.sqrt(2)) / (2 + 3 * np.sqrt(2)))
    assert spread(EVEN[:1]) == 1.0
    with pytest.raises(ValueError, match="2-objective"):
        spread(np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        spread(EVEN, extremes=[[0.0, 3.0]])


def test_mo_metrics_reports_the_shape_of_its_front():
    returns = np.vstack([EVEN, [[0.5, 0.5]]])  # the last point is dominated and left out
    weights = np.tile([0.5, 0.5], (5, 1))
    out = mo_metrics(returns, weights, (-1.0, -1.0))
    assert out["cardinality"] == 4 and out["spacing"] == 0.0 and out["spread"] == pytest.approx(0.0)
    assert out["sparsity"] == pytest.approx(2.0)
    three = mo_metrics(np.eye(3), np.eye(3), (-1.0, -1.0, -1.0))
    assert "spread" not in three and three["spacing"] == 0.0
    json.dumps(out)
