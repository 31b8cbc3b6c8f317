"""The day: commuter demand, fares, time-of-use electricity, and the draws of one scenario.

Time runs in hours from 06:00 to 18:00 in 15-minute bins (48 bins). Everything that is random
in a day is drawn at ``reset`` by :func:`draw_day`, in a fixed order, from the env's generator:
passenger arrivals, then each aircraft's take-off delays and downtimes (indexed by its flight
number), then route closures. A day is therefore one fixed scenario whatever the policy does
(common random numbers): two policies meet the same passengers and the same weather, and a
planner handed a copy of the env at reset (the GA baseline) plans on the realized day. Every
draw happens even when its probability is 0, so switching one uncertainty off leaves the
others and the demand unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DAY_START_H = 6.0
DAY_END_H = 18.0
BIN_H = 0.25
N_BINS = int(round((DAY_END_H - DAY_START_H) / BIN_H))
PEAK_WIDTH_H = 0.75
"""Standard deviation of each commuter peak."""
OFF_PEAK_LEVEL = 0.4
PEAK_LEVEL = 2.0
# Time-of-use multipliers of the electricity base price (another public UAM project's anchors):
# off-peak before 07:00, shoulder until 16:00, peak from 16:00.
TOU_OFF_PEAK, TOU_SHOULDER, TOU_PEAK = 0.6, 1.05, 1.5
TOU_SHOULDER_FROM_H, TOU_PEAK_FROM_H = 7.0, 16.0
PEAK_FARE_HALF_WIDTH_H = 1.0
"""Fares carry the peak multiplier within this many hours of a demand peak."""
MAX_FLIGHTS = 64
"""Per-aircraft draws: more flights than a day of 15-minute turns can hold."""
TAKEOFF_DELAY_MIN = (5.0, 15.0)
CLOSURE_BINS = (4, 8)
"""A weather closure lasts 1 to 2 hours (whole bins)."""
DOWNTIME_H = (1.0, 3.0)


def bin_starts() -> np.ndarray:
    return DAY_START_H + BIN_H * np.arange(N_BINS)


def time_bin(clock_h: float) -> int:
    """The 15-minute bin holding ``clock_h`` (clamped to the day)."""
    return min(max(int((clock_h - DAY_START_H) / BIN_H), 0), N_BINS - 1)


def commuter_profile(peak_hours: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """(morning, evening) peak shapes per bin, each ``PEAK_LEVEL`` at its peak, evaluated at bin centres."""
    centre = bin_starts() + BIN_H / 2
    am, pm = (PEAK_LEVEL * np.exp(-0.5 * ((centre - p) / PEAK_WIDTH_H) ** 2) for p in peak_hours)
    return am, pm


def expected_demand(routes: np.ndarray, attractiveness: np.ndarray, demand_rate: float,
                    peak_hours: tuple[float, float]) -> np.ndarray:
    """Mean passenger arrivals per bin and OD pair, shape (bins, V, V).

    ``demand_rate`` passengers per hour and route at the off-peak level; in the morning peak
    the flows towards attractive vertiports (work) grow, in the evening peak the flows away
    from them: ``rate_ij(t) = demand_rate * (OFF + am(t) a_j + pm(t) a_i) / OFF``."""
    am, pm = commuter_profile(peak_hours)
    shape = (OFF_PEAK_LEVEL + am[:, None, None] * attractiveness[None, None, :]
             + pm[:, None, None] * attractiveness[None, :, None]) / OFF_PEAK_LEVEL
    return demand_rate * BIN_H * shape * routes[None]


def electricity_prices(base_price: float) -> np.ndarray:
    """$/kWh per bin under the time-of-use tariff."""
    start = bin_starts()
    multiplier = np.where(start < TOU_SHOULDER_FROM_H, TOU_OFF_PEAK,
                          np.where(start < TOU_PEAK_FROM_H, TOU_SHOULDER, TOU_PEAK))
    return base_price * multiplier


def fare_multipliers(peak_hours: tuple[float, float], peak_fare_multiplier: float) -> np.ndarray:
    """Per bin: ``peak_fare_multiplier`` within an hour of a demand peak, 1 otherwise."""
    centre = bin_starts() + BIN_H / 2
    near_peak = np.zeros(N_BINS, dtype=bool)
    for p in peak_hours:
        near_peak |= np.abs(centre - p) <= PEAK_FARE_HALF_WIDTH_H
    return np.where(near_peak, peak_fare_multiplier, 1.0)


@dataclass
class Day:
    """One realized day: arrivals (bins, V, V) int64, per aircraft and flight number the
    take-off delay (h) and the downtime after landing (h, 0 = none), shape (A, MAX_FLIGHTS),
    and ``closed`` (bins, V, V) bool, symmetric: the route is closed to take-offs in that bin."""

    arrivals: np.ndarray
    takeoff_delay_h: np.ndarray
    downtime_h: np.ndarray
    closed: np.ndarray


def draw_day(rng: np.random.Generator, mean_arrivals: np.ndarray, routes: np.ndarray, n_aircraft: int,
             takeoff_delay_prob: float, closure_prob: float, downtime_prob: float) -> Day:
    """Draw every random quantity of one day, in a fixed order (see the module docstring)."""
    arrivals = rng.poisson(mean_arrivals)
    shape = (n_aircraft, MAX_FLIGHTS)
    delayed = rng.random(shape) < takeoff_delay_prob
    delay_h = np.where(delayed, rng.uniform(*TAKEOFF_DELAY_MIN, size=shape) / 60.0, 0.0)
    down = rng.random(shape) < downtime_prob
    downtime_h = np.where(down, rng.uniform(*DOWNTIME_H, size=shape), 0.0)
    # Closures: per route and hour of the day, with probability closure_prob a closure starts
    # in one of the hour's four bins and lasts 1-2 hours.
    n_v = routes.shape[0]
    iu, ju = np.triu_indices(n_v, k=1)
    hours = N_BINS // 4
    starts_now = rng.random((hours, len(iu))) < closure_prob
    offset = rng.integers(0, 4, size=(hours, len(iu)))
    length = rng.integers(CLOSURE_BINS[0], CLOSURE_BINS[1] + 1, size=(hours, len(iu)))
    closed_pairs = np.zeros((N_BINS, len(iu)), dtype=bool)
    bins = np.arange(N_BINS)[:, None, None]
    start = 4 * np.arange(hours)[:, None] + offset
    cover = starts_now[None] & (bins >= start[None]) & (bins < (start + length)[None])
    closed_pairs |= cover.any(axis=1)
    closed = np.zeros((N_BINS, n_v, n_v), dtype=bool)
    closed[:, iu, ju] = closed_pairs
    closed[:, ju, iu] = closed_pairs
    closed &= routes[None]
    return Day(arrivals.astype(np.int64), delay_h, downtime_h, closed)
