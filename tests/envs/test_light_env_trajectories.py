"""The single envs of LotSizing, FairThreshold and ESGPortfolio reproduce, bit for bit, the
trajectories recorded from the code their leaderboards were measured on (see
``light_env_trajectories``)."""

import numpy as np
import pytest

from .light_env_trajectories import CASES, path, rollout, vector_rollouts

RECORDED = [(name, seed) for name, case in CASES.items() for seed in case[2]]


def assert_same_trajectory(got: dict, expected, label: str) -> None:
    assert sorted(got) == sorted(expected.files), label
    for key in expected.files:
        want = expected[key]
        have = np.asarray(got[key])
        assert have.shape == want.shape, f"{label}: {key} shape {have.shape} != {want.shape}"
        if want.dtype.kind == "U":
            assert have.tolist() == want.tolist(), f"{label}: {key}"
        else:
            np.testing.assert_array_equal(have, want, err_msg=f"{label}: {key}", strict=False)
            if want.dtype.kind == "f":
                assert have.dtype == want.dtype, f"{label}: {key} dtype {have.dtype} != {want.dtype}"


@pytest.mark.parametrize(("name", "seed"), RECORDED)
def test_single_env_replays_the_recorded_trajectory(name, seed):
    with np.load(path(name, seed)) as expected:
        assert_same_trajectory(rollout(name, seed), expected, f"{name} seed {seed}")


VECTOR_FAMILIES = ("lot_sizing", "fair_threshold", "esg_portfolio")


@pytest.mark.parametrize("name", [name for name, case in CASES.items() if case[0] in VECTOR_FAMILIES])
def test_native_vector_env_replays_the_recorded_trajectories(name):
    for seed, got in zip(CASES[name][2], vector_rollouts(name)):
        with np.load(path(name, seed)) as expected:
            assert_same_trajectory(got, expected, f"vector {name} seed {seed}")
