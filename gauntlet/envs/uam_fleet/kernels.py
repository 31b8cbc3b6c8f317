"""Numba kernels of UAMFleet's per-decision bookkeeping: the ground state of every vertiport
and the observation arrays, each in one pass over the fleet instead of a dozen small numpy
calls (a step is otherwise dominated by numpy's per-call overhead on arrays of 4-40 items).

Compiled with ``numba.njit(cache=True)``: the first call on a machine compiles them (a few
seconds) and caches the machine code; later processes load it.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def ground_state(loc, origin, takeoff_time, until, clock, n_vertiports, parking, n_pads):  # pragma: no cover - compiled
    """Per vertiport, parking slots taken (aircraft there or inbound, plus aircraft holding for
    take-off from it) and charging pads in use; and the audit: how many vertiports have more
    aircraft on the ground than ``parking`` and more charging than ``n_pads``. ``until`` rows:
    arrival, charge end, downtime end."""
    occupancy = np.zeros(n_vertiports, dtype=np.int64)
    ground = np.zeros(n_vertiports, dtype=np.int64)
    pads = np.zeros(n_vertiports, dtype=np.int64)
    for a in range(loc.shape[0]):
        p = loc[a]
        occupancy[p] += 1
        if until[0, a] <= clock:
            ground[p] += 1
        if takeoff_time[a] > clock and origin[a] != p:
            occupancy[origin[a]] += 1
            ground[origin[a]] += 1
        if until[1, a] > clock:
            pads[p] += 1
    parking_over, charging_over = 0, 0
    for p in range(n_vertiports):
        parking_over += ground[p] > parking
        charging_over += pads[p] > n_pads
    return occupancy, pads, parking_over, charging_over


@njit(cache=True)
def destinations(routes_row, closed_row, energy_row, energy_margin, occupancy, parking, home, window_full):  # pragma: no cover - compiled
    """The mask of one aircraft at ``home``: a route, open, reachable above the reserve
    (``energy_row <= energy_margin``), a free slot at the destination, and a take-off window
    that is not full; staying is always allowed."""
    v = routes_row.shape[0]
    ok = np.zeros(v, dtype=np.bool_)
    if not window_full:
        for j in range(v):
            ok[j] = (routes_row[j] and not closed_row[j] and energy_row[j] <= energy_margin
                     and occupancy[j] < parking)
    ok[home] = True
    return ok


@njit(cache=True)
def observe(ports, fleet, routes, waiting, expired, arrived, occupancy, pads, takeoffs_now, deciding, loc, soc,
            next_time, until, clock, port_xy, static_ports, static_routes, fare_multiplier, closed_now, seats,
            parking, n_pads, max_takeoffs, battery_kwh, obs_high):  # pragma: no cover - compiled
    """Fill the float32 ``ports`` (V, 8), ``fleet`` (A, 8) and ``routes`` (V, V, 5) arrays of the
    observation (see the env's docstring for the features)."""
    v = ports.shape[0]
    for i in range(v):
        out = 0
        for j in range(v):
            w = 0
            for b in range(expired, arrived):
                w += waiting[b, i, j]
            out += w
            routes[i, j, 0] = static_routes[i, j, 0]
            routes[i, j, 1] = static_routes[i, j, 1] * fare_multiplier
            routes[i, j, 2] = 1.0 if closed_now[i, j] else 0.0
            routes[i, j, 3] = min(w / seats, obs_high)
            routes[i, j, 4] = static_routes[i, j, 4]
        for k in range(8):
            ports[i, k] = static_ports[i, k]
        ports[i, 2] = min(out / (4.0 * seats), obs_high)
        ports[i, 3] = occupancy[i] / parking
        ports[i, 4] = pads[i] / n_pads
        ports[i, 5] = (max_takeoffs - takeoffs_now[i]) / max_takeoffs
    ports[loc[deciding], 6] = 1.0
    for a in range(fleet.shape[0]):
        fleet[a, 0] = port_xy[loc[a], 0]
        fleet[a, 1] = port_xy[loc[a], 1]
        fleet[a, 2] = soc[a] / battery_kwh
        fleet[a, 3] = min((next_time[a] - clock) / 4.0, 1.0)  # every next event is at or after the clock
        for k in range(3):  # flying or holding, charging, down
            fleet[a, 4 + k] = 1.0 if until[k, a] > clock else 0.0
        fleet[a, 7] = 1.0 if a == deciding else 0.0
