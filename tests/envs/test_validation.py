"""The shared argument checks: what they accept, what they return and what their errors say."""

import math

import numpy as np
import pytest

from gauntlet.envs.validation import check, check_choice, check_int, check_range, show


def test_check_int_accepts_python_and_numpy_integers_and_returns_int():
    assert check_int("n", 3, 1) == 3
    value = check_int("n", np.int64(5), 1, 5)
    assert value == 5 and type(value) is int


@pytest.mark.parametrize("args, message", [
    (("n_items", 0, 1), r"^n_items=0 is out of range; allowed: integers >= 1$"),
    (("lookback", 300, 1, 252), r"^lookback=300 is out of range; allowed: integers in \[1, 252\]$"),
    (("n_machines", 2.5, 1), r"^n_machines=2.5 is not an integer; allowed: integers >= 1$"),
    (("n_machines", True, 1), r"^n_machines=True is not an integer; allowed: integers >= 1$"),
    (("n_machines", "3", 1), r"^n_machines='3' is not an integer"),
])
def test_check_int_errors(args, message):
    with pytest.raises(ValueError, match=message):
        check_int(*args)


def test_check_range_returns_float_and_respects_open_ends():
    assert check_range("eps", 1, 0.0, 1.0) == 1.0 and type(check_range("eps", np.float32(0.5), 0.0, 1.0)) is float
    assert check_range("beta", 0.0, 0.0) == 0.0
    with pytest.raises(ValueError, match=r"^eta=1.0 is out of range; allowed: \(0.0, 1.0\)$"):
        check_range("eta", 1.0, 0.0, 1.0, open_low=True, open_high=True)
    with pytest.raises(ValueError, match=r"^cost=0.0 is out of range; allowed: finite numbers > 0.0$"):
        check_range("cost", 0.0, 0.0, open_low=True)


@pytest.mark.parametrize("value, message", [
    (math.nan, r"^x=nan is out of range; allowed: \[0.0, 1.0\]$"),
    (math.inf, r"^x=inf is out of range"),
    (np.float64(1.5), r"^x=1.5 is out of range"),  # numpy scalars shown as the user typed them
    ("0.5", r"^x='0.5' is not a number; allowed: \[0.0, 1.0\]$"),
    (False, r"^x=False is not a number"),
])
def test_check_range_errors(value, message):
    with pytest.raises(ValueError, match=message):
        check_range("x", value, 0.0, 1.0)


def test_check_range_names_the_unit():
    with pytest.raises(ValueError, match=r"^lidar_range=-1.0 is out of range; allowed: finite numbers > 0.0 \(metres\)$"):
        check_range("lidar_range", -1.0, 0.0, open_low=True, unit="metres")


def test_check_range_unbounded_wording():
    with pytest.raises(ValueError, match=r"allowed: finite numbers$"):
        check_range("x", math.nan)
    with pytest.raises(ValueError, match=r"allowed: finite numbers <= 2.0$"):
        check_range("x", 3.0, high=2.0)


def test_check_choice():
    assert check_choice("regulation", "esg", ("esg", "none")) == "esg"
    assert check_choice("render_mode", None, (None, "ansi")) is None
    with pytest.raises(ValueError, match=r"^regulation='carbon' is not supported; allowed: 'esg', 'none'$"):
        check_choice("regulation", "carbon", ("esg", "none"))
    with pytest.raises(ValueError, match=r"^render_mode='human' is not supported; allowed: None, 'rgb_array'$"):
        check_choice("render_mode", "human", [None, "rgb_array"])
    with pytest.raises(ValueError, match=r"^mode=array\(\[0., 0.\]\) is not supported"):
        check_choice("mode", np.zeros(2), ("a", "b"))


def test_check_with_a_predicate():
    check("density", 0.5, True, "(0, 1]")
    with pytest.raises(ValueError, match=r"^density=2 is invalid; allowed: \(0, 1\]$"):
        check("density", 2, False, "(0, 1]")
    assert show(np.int32(4)) == "4" and show("a") == "'a'"
