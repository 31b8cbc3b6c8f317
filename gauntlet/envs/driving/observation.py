"""The kinematics observation, compiled with numba: the ego's measurements, the route's waypoints
and the nearest vehicles, all in the ego's frame (layout in the env's docstring)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

EGO_FEATURES = 8
WAYPOINTS = np.array([5.0, 10.0, 20.0, 30.0, 40.0])
VEHICLE_FEATURES, VEHICLE_RANGE = 7, 60.0
ROUTE_FEATURES = EGO_FEATURES + 2 * len(WAYPOINTS)


@njit(cache=True, inline="always")
def _point(paths, headings, lengths, p: int, s: float, d: float) -> tuple[float, float, float]:
    i = int(min(max(s, 0.0), lengths[p] - 1e-9))
    frac = s - i
    h = headings[p, i]
    return (paths[p, i, 0] + frac * (paths[p, i + 1, 0] - paths[p, i, 0]) - d * math.sin(h),
            paths[p, i, 1] + frac * (paths[p, i + 1, 1] - paths[p, i, 1]) + d * math.cos(h), h)


@njit(cache=True)
def route_features(paths, headings, lengths, route: int, route_lane: float, route_start: float, route_end: float,
                   lane_width: float, left_edge: float, right_edge: float, ego, limit: float, steer: float,
                   steer_max: float, last_accel: float, waypoints, out) -> None:
    """Write the ``ROUTE_FEATURES`` ego and waypoint entries into ``out``."""
    ex, ey, eyaw, ev, s, d = ego[0], ego[1], ego[2], ego[3], ego[5], ego[6]
    _, _, h = _point(paths, headings, lengths, route, s, 0.0)
    heading_error = math.atan2(math.sin(eyaw - h), math.cos(eyaw - h))
    progress = (min(max(s, route_start), route_end) - route_start) / (route_end - route_start)
    out[0] = ev / limit
    out[1] = steer / steer_max
    out[2] = last_accel / 3.0
    out[3] = (d - route_lane) / lane_width
    out[4] = heading_error / math.pi
    out[5] = progress
    out[6] = (left_edge - d) / 10.0
    out[7] = (d - right_edge) / 10.0
    c, sn = math.cos(eyaw), math.sin(eyaw)
    for k in range(waypoints.shape[0]):
        wx, wy, _ = _point(paths, headings, lengths, route, min(s + waypoints[k], lengths[route]), route_lane)
        dx, dy = wx - ex, wy - ey
        out[EGO_FEATURES + 2 * k] = (dx * c + dy * sn) / 40.0
        out[EGO_FEATURES + 2 * k + 1] = (-dx * sn + dy * c) / 40.0


@njit(cache=True)
def vehicle_features(active, x, y, yaw, v, ego, n: int, out) -> None:
    """Write the ``n`` nearest vehicles within ``VEHICLE_RANGE`` (nearest first, ties by slot)
    as ``VEHICLE_FEATURES`` entries each from ``out[0]``; rows without a vehicle are zero."""
    ex, ey, eyaw, ev = ego[0], ego[1], ego[2], ego[3]
    m = active.shape[0]
    dist = np.full(m, np.inf)
    for j in range(m):
        if active[j]:
            d = math.hypot(x[j] - ex, y[j] - ey)
            if d < VEHICLE_RANGE:
                dist[j] = d
    order = np.argsort(dist, kind="mergesort")
    c, s = math.cos(eyaw), math.sin(eyaw)
    for r in range(n):
        base = r * VEHICLE_FEATURES
        j = order[r] if r < m else 0
        if r >= m or not np.isfinite(dist[j]):
            for f in range(VEHICLE_FEATURES):
                out[base + f] = 0.0
            continue
        dx, dy = x[j] - ex, y[j] - ey
        dvx = v[j] * math.cos(yaw[j]) - ev * c
        dvy = v[j] * math.sin(yaw[j]) - ev * s
        out[base] = 1.0
        out[base + 1] = (dx * c + dy * s) / VEHICLE_RANGE
        out[base + 2] = (-dx * s + dy * c) / VEHICLE_RANGE
        out[base + 3] = (dvx * c + dvy * s) / 30.0
        out[base + 4] = (-dvx * s + dvy * c) / 30.0
        out[base + 5] = math.cos(yaw[j] - eyaw)
        out[base + 6] = math.sin(yaw[j] - eyaw)


@njit(cache=True)
def kinematics(paths, headings, lengths, route: int, route_lane: float, route_start: float, route_end: float,
               lane_width: float, left_edge: float, right_edge: float, ego, limit: float, steer: float,
               steer_max: float, last_accel: float, waypoints, active, x, y, yaw, v, n: int, bound: float,
               out) -> None:
    """The whole kinematics observation in one call: :func:`route_features`, then
    :func:`vehicle_features` for ``n`` vehicles, clipped to ``[-bound, bound]``."""
    route_features(paths, headings, lengths, route, route_lane, route_start, route_end, lane_width, left_edge,
                   right_edge, ego, limit, steer, steer_max, last_accel, waypoints, out)
    vehicle_features(active, x, y, yaw, v, ego, n, out[ROUTE_FEATURES:])
    for k in range(ROUTE_FEATURES + VEHICLE_FEATURES * n):
        out[k] = min(max(out[k], -bound), bound)
