"""Argument checks for env constructors and instance generators.

Every check raises ``ValueError`` with one message shape,
``<name>=<value> is <what is wrong>; allowed: <what is allowed>``, so a user sees which
argument was wrong, the value they passed and what to pass instead. Numbers are checked
without converting them first: a string or a bool where a number belongs is reported as such,
not turned into a ``float`` or an ``int`` behind the user's back.
"""

from __future__ import annotations

import math
from typing import Any, Sequence, TypeVar

import numpy as np

T = TypeVar("T")


def show(value: Any) -> str:
    """The value as the user would type it: ``1.5`` rather than ``np.float64(1.5)``."""
    return repr(value.item()) if isinstance(value, np.generic) else repr(value)


def check(name: str, value: Any, ok: bool, allowed: str) -> None:
    """Raise unless ``ok``; ``allowed`` says in words what the argument accepts."""
    if not ok:
        raise ValueError(f"{name}={show(value)} is invalid; allowed: {allowed}")


def check_preference(name: str, value: Any, objectives: Sequence[str]) -> np.ndarray:
    """A preference over ``objectives`` as float64: finite, non-negative, summing to 1."""
    try:
        w = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        w = np.empty(0)
    ok = w.shape == (len(objectives),) and np.all(np.isfinite(w)) and np.all(w >= 0) and abs(w.sum() - 1.0) <= 1e-6
    check(name, value, bool(ok),
          f"{len(objectives)} finite non-negative numbers ({', '.join(objectives)}) summing to 1")
    return w


def check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """An integer (not a bool, not a float) in ``[low, high]`` (no upper bound if ``high`` is None)."""
    allowed = f"integers >= {low}" if high is None else f"integers in [{low}, {high}]"
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name}={show(value)} is not an integer; allowed: {allowed}")
    if value < low or (high is not None and value > high):
        raise ValueError(f"{name}={show(value)} is out of range; allowed: {allowed}")
    return int(value)


def check_range(
    name: str,
    value: Any,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    open_low: bool = False,
    open_high: bool = False,
    unit: str | None = None,
) -> float:
    """A finite real number between ``low`` and ``high``, each end closed unless ``open_*``;
    ``unit`` (e.g. ``"metres"``) is named after the allowed range."""
    allowed = _interval(low, high, open_low, open_high) + ("" if unit is None else f" ({unit})")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name}={show(value)} is not a number; allowed: {allowed}")
    x = float(value)
    inside = (x > low if open_low else x >= low) and (x < high if open_high else x <= high)
    if not (math.isfinite(x) and inside):
        raise ValueError(f"{name}={show(value)} is out of range; allowed: {allowed}")
    return x


def check_choice(name: str, value: T, allowed: Sequence[Any]) -> T:
    """One of the ``allowed`` values (compared with ``==``)."""
    try:
        ok = value in allowed
    except ValueError:  # an array compared with a choice has no single truth value
        ok = False
    if not ok:
        raise ValueError(f"{name}={show(value)} is not supported; allowed: {', '.join(map(show, allowed))}")
    return value


def _interval(low: float, high: float, open_low: bool, open_high: bool) -> str:
    if math.isinf(high) and math.isinf(low):
        return "finite numbers"
    if math.isinf(high):
        return f"finite numbers {'>' if open_low else '>='} {low}"
    if math.isinf(low):
        return f"finite numbers {'<' if open_high else '<='} {high}"
    return f"{'(' if open_low else '['}{low}, {high}{')' if open_high else ']'}"
