import copy
import pickle

import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.vector.utils import batch_space

from gauntlet.envs.masked_spaces import MaskedDiscrete


def test_sample_draws_uniformly_among_the_allowed_actions():
    space = MaskedDiscrete(5, seed=0)
    assert {int(space.sample()) for _ in range(200)} == {0, 1, 2, 3, 4}
    space.mask = [True, False, True, False, False]
    draws = np.array([space.sample() for _ in range(2000)])
    assert set(draws.tolist()) == {0, 2}
    assert abs((draws == 0).mean() - 0.5) < 0.05
    np.testing.assert_array_equal(space.mask, [True, False, True, False, False])


def test_explicit_mask_or_probability_behave_as_discrete():
    space = MaskedDiscrete(4, seed=1)
    space.mask = [True, False, False, False]
    assert {int(space.sample(mask=np.array([0, 0, 1, 1], dtype=np.int8))) for _ in range(100)} == {2, 3}
    assert space.sample(probability=np.array([0.0, 1.0, 0.0, 0.0])) == 1


def test_same_seed_same_samples():
    a, b = MaskedDiscrete(6, seed=3), MaskedDiscrete(6, seed=3)
    a.mask = b.mask = [False, True, True, False, True, False]
    assert [a.sample() for _ in range(50)] == [b.sample() for _ in range(50)]


def test_the_action_set_is_plain_discrete():
    space = MaskedDiscrete(3)
    space.mask = [True, False, False]
    assert space.contains(2) and not space.contains(3)
    assert space == spaces.Discrete(3) and space != spaces.Discrete(4)
    assert batch_space(space, 2) == spaces.MultiDiscrete([3, 3])
    assert "allowed=[0]" in repr(space)


def test_mask_survives_pickle_and_deepcopy():
    space = MaskedDiscrete(4, seed=0)
    space.mask = [False, False, True, True]
    for clone in (pickle.loads(pickle.dumps(space)), copy.deepcopy(space)):
        np.testing.assert_array_equal(clone.mask, space.mask)
        assert {int(clone.sample()) for _ in range(50)} == {2, 3}


def test_bad_masks_raise():
    space = MaskedDiscrete(3)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        space.mask = [True, False]
    with pytest.raises(ValueError, match="at least one"):
        space.mask = [False, False, False]
