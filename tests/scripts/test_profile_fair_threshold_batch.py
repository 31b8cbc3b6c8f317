import re

import gymnasium as gym
import numpy as np
import pytest

from .script_runner import import_script


@pytest.fixture(scope="module")
def script():
    return import_script("profile_fair_threshold_batch.py")


def test_prints_the_round_the_multinomial_and_its_work(script, capsys):
    script.main(["--rounds", "200", "--repeats", "1"])
    out = capsys.readouterr().out
    assert "FairThreshold-Synthetic-v0: batch of 400 individuals, 200 random thresholds, median of 1" in out
    draws, btpe, iterations = (float(x) for x in re.search(
        r"per round: ([\d.]+) binomial draws, ([\d.]+) by BTPE, (\d+) inversion iterations", out).groups())
    assert 1 <= draws <= 59 and 0 <= btpe <= draws and 0 <= iterations <= 400
    for label in ("compiled round", "NumPy's multinomial alone", "alias table + one uniform each"):
        assert float(re.search(re.escape(label) + r"\s+(\d+) ns", out).group(1)) > 0


def test_the_alias_sampler_draws_the_multinomial_it_is_compared_with(script):
    env = gym.make("gauntlet/FairThreshold-Synthetic-v0").unwrapped
    env.reset(seed=0)
    state, consts, cache = env._state.copy(), env._consts, env._cut_cache
    cut, rounds = 40, 4000
    pvals = script._probabilities(cut, state, consts, cache)
    rng = np.array([1, 2, 3, 5], dtype=np.uint64)
    mean_first = script._alias(np.full(rounds, cut), state, consts, cache, rng) / rounds
    expected = 400 * pvals[0] / pvals.sum()
    sd = np.sqrt(400 * pvals[0] * (1 - pvals[0]) / rounds)
    assert abs(mean_first - expected) < 5 * sd


def test_bad_counts_are_refused(script, capsys):
    with pytest.raises(SystemExit) as exit_:
        script.main(["--rounds", "0"])
    assert exit_.value.code == 2 and "--rounds=0" in capsys.readouterr().err
